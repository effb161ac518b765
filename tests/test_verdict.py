"""grader/verdict.py: one status per check, per step and per submission, which every front-end shows."""

from __future__ import annotations

import pytest

from grader.checks.model import Check, Outcome
from grader.frontends.grade import Graded, Report
from grader.frontends.notebook_checks import feedback
from grader.frontends.selfcheck import StepSummary
from grader.reporters.console import step_rows
from grader.reporters.html import feedback_html
from grader.rubric import Entry
from grader.verdict import DONE, FAILED, FAILING, NOT_STARTED, PASSED, check_status, step_status


def outcome(name: str, kind: str) -> Outcome:
    """An mse check's outcome: "passed", "failed" or "todo" (still raises NotImplementedError)."""
    check = Check("mse", name, name, body=lambda ex: None, examples=None, max_examples=1)
    return Outcome(check, passed=kind == "passed", message=f"{name} {kind}", not_implemented=kind == "todo")


CASES = {
    DONE: ["passed", "passed"],
    NOT_STARTED: ["todo", "todo"],
    FAILING: ["passed", "failed"],
    f"{FAILING} ": ["passed", "todo"],  # started: one check passes
    f"{FAILING}  ": ["todo", "failed"],
}


def test_check_status() -> None:
    assert [check_status(outcome("a", k)) for k in ("passed", "failed", "todo")] == [PASSED, FAILED, NOT_STARTED]


@pytest.mark.parametrize("expected", CASES)
def test_every_front_end_shows_the_step_status(expected: str) -> None:
    outcomes = [outcome(f"c{i}", kind) for i, kind in enumerate(CASES[expected])]
    status = expected.strip()
    assert step_status(outcomes) == status
    summary = StepSummary()
    summary.outcomes["mse"] = outcomes
    assert summary.render("sgd.py").splitlines()[1].startswith(f"  mse        {status:<12} ")
    report = Report("sgd.py", [Graded(o.check, Entry(1.0, "public"), o) for o in outcomes], 0, "cpu", [])
    assert step_rows(report)[0][3] == status
    assert f'<span class="chip {status.replace(" ", "-")}">{status}</span>' in feedback_html(report)
    text = feedback("mse", outcomes)
    assert (text == "") == (status == DONE) and ("not implemented yet" in text) == (status == NOT_STARTED)


def test_no_outcome_is_done() -> None:
    assert step_status([]) == DONE
