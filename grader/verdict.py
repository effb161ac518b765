"""Verdicts: the status of a check and of a step, in one vocabulary for every front-end.

A check passed, failed or is not started (its function still raises NotImplementedError); a step is
done, failing or not started. It imports nothing of grader at run time: the student release ships it
with the self-check.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from grader.checks.model import Outcome

PASSED, FAILED, NOT_STARTED = "passed", "failed", "not started"
"""A check's status."""
DONE, FAILING = "done", "failing"
"""A step's status, with NOT_STARTED."""


def check_status(outcome: Outcome) -> str:
    """PASSED, NOT_STARTED (the function is not written yet) or FAILED."""
    if outcome.passed:
        return PASSED
    return NOT_STARTED if outcome.not_implemented else FAILED


def step_status(outcomes: Iterable[Outcome]) -> str:
    """DONE when every check passed (or there is none), NOT_STARTED when none passed and every one is
    not written yet, else FAILING."""
    statuses = {check_status(o) for o in outcomes}
    if statuses <= {PASSED}:
        return DONE
    return NOT_STARTED if statuses == {NOT_STARTED} else FAILING
