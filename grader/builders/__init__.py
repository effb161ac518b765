"""Builders: what the kit generates from solutions/sgd.py (stubs, notebooks, the release, the Gradescope bundle)."""
