"""grader/verdict.py: one status per check, per step and per submission, which every front-end shows."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import pytest

from grader.checks.model import Check, Outcome
from grader.frontends import classroom
from grader.frontends.classroom import Row, Settings, Student, write_gradebook
from grader.frontends.grade import Graded, Report
from grader.frontends.notebook_checks import feedback
from grader.frontends.selfcheck import StepSummary
from grader.reporters.class_report import as_summaries, summary_from_results
from grader.reporters.console import step_rows
from grader.reporters.gradescope import results
from grader.reporters.html import feedback_html
from grader.rubric import Entry
from grader.verdict import (
    CRASHED,
    DONE,
    FAILED,
    FAILING,
    GRADED,
    NOT_GRADABLE,
    NOT_LOADABLE,
    NOT_STARTED,
    PASSED,
    check_status,
    recorded_status,
    status_of,
    step_status,
    submission_status,
    with_status,
)


def outcome(name: str, kind: str) -> Outcome:
    """An mse check's outcome: "passed", "failed" or "todo" (still raises NotImplementedError)."""
    check = Check("mse", name, name, body=lambda ex: None, examples=None, max_examples=1, points=1, hidden=False)
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


# --- a submission's status: recorded in results.json, read from there ----------------------------


def test_results_json_records_the_status_and_readers_never_read_the_text(tmp_path: Path) -> None:
    outcomes = [outcome("c0", "passed"), outcome("c1", "failed")]
    report = Report("sgd.py", [Graded(o.check, Entry(1.0, "public"), o) for o in outcomes], 0, "cpu", [])
    assert results(report)["extra_data"]["status"] == submission_status(report) == GRADED
    report.load_error = "it raised"
    assert results(report)["extra_data"]["status"] == NOT_LOADABLE
    # what the output says does not matter: the recorded status does
    misleading = results(dataclasses.replace(report, load_error=None))
    misleading["output"] = "Could not load your submission: but it was, and graded"
    row = Row("ann", misleading)
    assert row.status == status_of(misleading) == GRADED
    assert summary_from_results("ann", misleading).status == GRADED and as_summaries([row])[0].graded
    write_gradebook([row], tmp_path / "grades.csv")
    assert next(csv.DictReader((tmp_path / "grades.csv").open()))["status"] == GRADED
    assert (
        status_of({"output": "Grading crashed: no", "tests": [], "extra_data": {"status": NOT_LOADABLE}})
        == NOT_LOADABLE
    )


def test_rows_not_graded_record_their_status(tmp_path: Path) -> None:
    settings = Settings(tmp_path / "out")
    student = Student("bob", tmp_path / "bob.py")
    assert recorded_status(classroom._not_gradable(student, settings, "a FIFO")) == NOT_GRADABLE
    crashed = classroom._not_gradable(student, settings, "the worker died", crashed=True)
    assert recorded_status(crashed) == CRASHED == Row("bob", crashed).status
    stored = json.loads((classroom.student_folder(settings.out, "bob") / "results.json").read_text())
    assert recorded_status(stored) == CRASHED


def test_stored_results_without_a_status_are_graded_again(tmp_path: Path) -> None:
    (tmp_path / "bob.py").write_text("x = 1\n")
    settings = Settings(tmp_path / "out")
    student = Student("bob", tmp_path / "bob.py")
    stored = classroom.student_folder(settings.out, "bob") / "results.json"
    stored.parent.mkdir(parents=True)
    old = {"score": 1.0, "tests": [{}], "extra_data": {"fingerprint": classroom.fingerprint(student, settings)}}
    stored.write_text(json.dumps(old))
    assert classroom._previous(student, settings, classroom._stored(student, settings.out)) is None
    stored.write_text(json.dumps(with_status(old, GRADED)))
    assert classroom._previous(student, settings, classroom._stored(student, settings.out)) == old
    assert status_of({"tests": [{}]}) == GRADED and status_of({"tests": []}) == NOT_GRADABLE
