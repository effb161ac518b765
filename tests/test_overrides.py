"""overrides.csv: read strictly (one line per mistake), applied as deltas, shown and counted everywhere;
changes.csv: what a regrade changed, and why."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

from grader.contract import STEPS
from grader.frontends import classroom
from grader.frontends.classroom import REASONS, Change, Row, changes, write_changes, write_gradebook
from grader.overrides import Override, OverrideError, apply_overrides, override_points, read_overrides
from grader.reporters.class_report import changes_line, class_report_html, summary_from_results
from grader.reporters.html import overrides_html

STEPS_OF = {"mse.loss_properties": "mse", **{step: step for step in STEPS}}
HEADER = "student,check,points,reason,author\n"


def results(mse: float = 3.0, train: float = 5.0, **inputs: str) -> dict:
    """A results.json with two tests, recording `inputs` (over a default set)."""
    tests = [{"score": mse, "max_score": 4.0, "tags": ["mse"]}, {"score": train, "max_score": 5.0, "tags": ["train"]}]
    parts = {"submission": "s", "rubric": "r", "grader": "0.1.0", "seed": "0", "device": "cpu", "overrides": "o"}
    extra = {"status": "graded", "max_score": 9.0, "inputs": parts | inputs}
    return {"score": mse + train, "tests": tests, "extra_data": extra}


def read(tmp_path: Path, text: str, previous: dict | None = None) -> dict:
    path = tmp_path / "overrides.csv"
    path.write_text(text)
    return read_overrides(path, {"alice": previous, "bob": None}, STEPS_OF)


def test_overrides_are_read_with_their_step(tmp_path: Path) -> None:
    found = read(tmp_path, HEADER + "alice,mse.loss_properties,+1,sign slipped,KL\n\nbob,train,-2,late: two days,\n")
    assert found == {
        "alice": (Override("alice", "mse.loss_properties", "mse", 1.0, "sign slipped", "KL"),),
        "bob": (Override("bob", "train", "train", -2.0, "late: two days", ""),),
    }
    assert read_overrides(tmp_path / "absent.csv", {"alice": None}, STEPS_OF) == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("student,points\n", "the first line must be the header student,check,points,reason,author"),
        (HEADER + "carol,mse,1,why,KL\n", "line 2: unknown student 'carol': no such entry in the class folder"),
        (HEADER + "alice,mse.gone,1,why,KL\n", "line 2: unknown check or step 'mse.gone'"),
        (HEADER + "alice,mse,lots,why,KL\n", "line 2: points must be a number such as 2 or -1.5, not 'lots'"),
        (HEADER + "alice,mse,nan,why,KL\n", "points must be a number"),
        (HEADER + "alice,mse,1,,KL\n", "line 2: every override needs a reason"),
        (HEADER + "alice,mse,1\n", "line 2: expected 5 cells"),
    ],
)
def test_a_bad_override_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(OverrideError) as error:
        read(tmp_path, text)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_an_override_whose_check_is_gone_says_so(tmp_path: Path) -> None:
    previous = apply_overrides(results(), [Override("alice", "mse.old_check", "mse", 1.0, "why", "KL")])
    with pytest.raises(OverrideError, match="alice's override targets 'mse.old_check', which no longer exists"):
        read(tmp_path, HEADER + "alice,mse.old_check,1,why,KL\n", previous)


def test_overrides_are_deltas_counted_in_every_total(tmp_path: Path) -> None:
    overrides = [Override("bob", "train", "train", -2.0, "late", "KL"), Override("bob", "mse", "mse", 0.5, "x", "")]
    graded = apply_overrides(results(), overrides)
    assert graded["score"] == 6.5 and graded["extra_data"]["graded_score"] == 8.0
    assert graded["extra_data"]["overrides"][0] == {
        "check": "train", "step": "train", "points": -2.0, "reason": "late", "author": "KL"
    }  # fmt: skip
    assert apply_overrides(graded, overrides[:1])["score"] == 6.0  # re-applied from the graded score, never twice
    assert override_points(graded) == {"train": -2.0}
    row = Row("bob", graded)
    assert row.step_points()["train"] == 3.0 and row.overridden == -2.0
    write_gradebook([row], tmp_path / "grades.csv")
    (line,) = csv.DictReader((tmp_path / "grades.csv").open())
    assert (line["train"], line["overrides"], line["total"]) == ("3", "-2", "6")
    assert summary_from_results("bob", graded).steps["train"] == (3.0, 5.0)


def test_the_feedback_page_shows_overrides_with_their_reason() -> None:
    page = overrides_html([{"check": "train", "step": "train", "points": -2, "reason": "<b>late</b>", "author": "KL"}])
    assert "Adjustments by your instructor" in page and "-2" in page and "&lt;b&gt;late&lt;/b&gt;" in page
    assert overrides_html([]) == ""


@pytest.mark.parametrize(("key", "reason"), [(k, r) for k, r in REASONS.items()])
def test_a_change_is_blamed_on_the_input_that_changed(key: str, reason: str) -> None:
    old, new = results(), results(mse=1.0, **{key: "changed"})
    assert changes("alice", old, new) == [Change("alice", "mse", 3.0, 1.0, reason)]


def test_what_did_not_change_is_not_reported() -> None:
    old = results()
    assert changes("alice", None, old) == []  # a first grade
    assert changes("alice", old, old) == []  # the same points
    assert changes("alice", old, results(submission="new")) == []  # regraded, same points
    assert changes("alice", old, results(train=0.0))[0].reason == classroom.FORCED
    del old["extra_data"]["inputs"]
    assert changes("alice", old, results(train=0.0))[0].reason == REASONS["grader"]


def test_changes_csv_report_and_terminal(tmp_path: Path) -> None:
    write_changes([Row("alice", results())], tmp_path / "changes.csv")
    assert (tmp_path / "changes.csv").read_text() == "student,step,old points,new points,reason\n"
    rows = [Row("=alice", results(), [Change("=alice", "mse", 3.0, 1.0, REASONS["rubric"])])]
    write_changes(rows, tmp_path / "changes.csv")
    assert (tmp_path / "changes.csv").read_text().splitlines()[1] == "'=alice,mse,3,1,rubric changed"
    assert "<h2>What changed</h2>" in class_report_html(rows) and "rubric changed" in class_report_html(rows)
    assert "No student's points changed" in class_report_html([Row("alice", results())])
    assert changes_line(rows) == "changes: 1 step score of 1 student (1 rubric changed); see changes.csv"
    assert changes_line([]) == "changes: none (no student's points changed)"


def test_a_killed_regrade_is_reported_by_the_run_that_resumes_it(tmp_path: Path) -> None:
    """Students a killed run regraded are unchanged for the resumed run, which still reports what
    they changed: their results.json, written after the last changes.csv, records it."""
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "alice.py").write_text("x = 1\n")
    settings = classroom.Settings(tmp_path / "out")
    student = classroom.Student("alice", tmp_path / "class" / "alice.py")
    write_changes([], settings.out / "changes.csv")  # the last run that finished
    stored = results()
    stored["extra_data"] |= {
        "fingerprint": classroom.fingerprint(student, settings),
        "changed": [{"student": "alice", "step": "mse", "old": 4.0, "new": 3.0, "reason": "submission changed"}],
    }
    path = classroom.student_folder(settings.out, "alice") / "results.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(stored))  # by the killed run
    os.utime(settings.out / "changes.csv", ns=(1_000_000_000, 1_000_000_000))
    (row,) = classroom.grade_class(tmp_path / "class", settings, jobs=1)  # nothing to grade: no pool
    assert row.changes == [Change("alice", "mse", 4.0, 3.0, "submission changed")]
    assert (settings.out / "changes.csv").read_text().splitlines()[1:] == ["alice,mse,4,3,submission changed"]
    (row,) = classroom.grade_class(tmp_path / "class", settings, jobs=1)
    assert row.changes == [] and len((settings.out / "changes.csv").read_text().splitlines()) == 1
