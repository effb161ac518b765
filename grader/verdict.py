"""Verdicts: the status of a check, of a step and of a submission, in one vocabulary for every front-end.

A check passed, failed or is not started (its function still raises NotImplementedError); a step is
done, failing or not started. A submission is graded, not loadable (its checks ran, but it would not load),
not gradable (no check ran) or crashed (grading itself broke). results.json carries the
submission's status in `extra_data["status"]`; readers take it from there, never from the text.
It imports nothing of grader when imported: the student release ships it with the self-check.
Which checks are public and which hidden is decided here too, from the rubric (`select_checks`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from grader.checks.model import Check, Outcome
    from grader.frontends.grade import Report
    from grader.rubric import Entry

PASSED, FAILED, NOT_STARTED = "passed", "failed", "not started"
"""A check's status."""
DONE, FAILING = "done", "failing"
"""A step's status, with NOT_STARTED."""
GRADED, NOT_LOADABLE, NOT_GRADABLE, CRASHED = "graded", "not loadable", "not gradable", "crashed"
"""A submission's status."""
SUBMISSION_STATUSES = (GRADED, NOT_LOADABLE, NOT_GRADABLE, CRASHED)


def select_checks(
    rubric: Mapping[str, Entry], steps: Iterable[str] | None = None, *, hidden: bool = False
) -> list[Check]:
    """The registered checks of `steps` (every step by default) that `rubric` makes public, or hidden."""
    from grader.checks.model import checks_for

    return [c for c in checks_for(steps) if rubric[c.id].hidden == hidden]


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


def submission_status(report: Report) -> str:
    """A graded report's status: NOT_LOADABLE when the submission could not be loaded, else GRADED."""
    return NOT_LOADABLE if report.load_error else GRADED


def with_status(results: dict, status: str) -> dict:
    """`results` (a results.json document) with `status` recorded in its extra_data; returns it."""
    if status not in SUBMISSION_STATUSES:
        raise ValueError(f"unknown submission status {status!r}")
    results.setdefault("extra_data", {})["status"] = status
    return results


def recorded_status(results: dict) -> str | None:
    """The status a results.json records, or None (one written before it recorded any)."""
    extra = results.get("extra_data")
    status = extra.get("status") if isinstance(extra, dict) else None
    return status if status in SUBMISSION_STATUSES else None


def status_of(results: dict) -> str:
    """A results.json's status: the one it records; without one (an older grader's, or Gradescope's
    fallbacks), GRADED when it holds tests, else NOT_GRADABLE. Its text is never read."""
    return recorded_status(results) or (GRADED if results.get("tests") else NOT_GRADABLE)
