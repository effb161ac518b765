"""An auto-grader for the stochastic-gradient-descent exercise kit."""

__version__ = "0.1.0"
