"""The hidden checks, one module per step: they compare with the reference solution (solutions/).

The student release leaves this folder out (the release is a filter over files), so a check whose
code must stay secret belongs here; `@check` refuses a hidden check declared anywhere else."""

from grader.checks.hidden import gradient, minibatch, mse, predict, train  # noqa: F401 - registers them
