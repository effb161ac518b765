"""Exports to the LMS: the import files' exact headers, a class's round trip, and every listed case
(a roster student with no submission, a submission not in the roster, formula-like cells, bad rosters)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from grader.cli import main
from grader.frontends.classroom import Row, write_gradebook
from grader.reporters.lms import ExportError, export

CANVAS_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
"""Canvas's gradebook import/export columns before the assignments (Canvas Instructor Guide:
"How do I import grades in the Gradebook?"), then one column per assignment, `Name (id)`."""
ROSTER = (
    "student,name,canvas_id,sis_user_id,sis_login_id,section,email,id_number\n"
    'alice,"Liddell, Alice",101,S1,alice@uni,Lab A,alice@uni.edu,A1\n'
    "bob,=cmd|' /C calc'!A0,102,S2,bob@uni,Lab B,bob@uni.edu,B2\n"
    "dave,Dave,104,S4,dave@uni,Lab A,dave@uni.edu,D4\n"
)


def graded(score: float) -> dict:
    return {"score": score, "tests": [], "extra_data": {"status": "graded", "max_score": 80.0}}


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """A graded class: alice 80, bob 61.5, carol 70 (in no roster); the roster has dave, who submitted nothing."""
    folder = tmp_path / "out"
    rows = [Row(name, graded(score)) for name, score in (("alice", 80.0), ("bob", 61.5), ("carol", 70.0))]
    write_gradebook(rows, folder / "grades.csv")
    (tmp_path / "roster.csv").write_text(ROSTER)
    return folder


def lines(path: Path) -> list[list[str]]:
    with path.open(newline="") as handle:
        return list(csv.reader(handle))


def test_canvas_gradebook_csv(out: Path) -> None:
    done = export(out, "canvas", out.parent / "roster.csv", "SGD kit", assignment_id="1234")
    header, possible, *rows = lines(done.path)
    assert header == [*CANVAS_HEADER, "SGD kit (1234)"]
    assert possible == ["    Points Possible", "", "", "", "", "80"]
    assert rows == [
        ["Liddell, Alice", "101", "S1", "alice@uni", "Lab A", "80"],
        ["'=cmd|' /C calc'!A0", "102", "S2", "bob@uni", "Lab B", "61.5"],
        ["Dave", "104", "S4", "dave@uni", "Lab A", "0"],
    ]
    assert (done.absent, done.unlisted) == (["dave"], ["carol"])
    assert lines(export(out, "canvas", out.parent / "roster.csv", "SGD kit").path)[0][-1] == "SGD kit"


@pytest.mark.parametrize(("key", "column"), [("email", "Email address"), ("id_number", "ID number")])
def test_moodle_grade_import_csv(out: Path, key: str, column: str) -> None:
    done = export(out, "moodle", out.parent / "roster.csv", "=SGD kit", key=key)
    header, *rows = lines(done.path)
    assert header == [column, "'=SGD kit"]
    keys = {"email": ["alice@uni.edu", "bob@uni.edu", "dave@uni.edu"], "id_number": ["A1", "B2", "D4"]}[key]
    assert rows == [[k, score] for k, score in zip(keys, ["80", "61.5", "0"])]
    assert (done.absent, done.unlisted) == (["dave"], ["carol"])


def test_a_formula_like_folder_name_round_trips(tmp_path: Path) -> None:
    write_gradebook([Row("=x", graded(3.0))], tmp_path / "grades.csv")
    (tmp_path / "roster.csv").write_text("student,email\n=x,x@uni.edu\n")
    done = export(tmp_path, "moodle", tmp_path / "roster.csv", "SGD kit")
    assert lines(done.path)[1] == ["x@uni.edu", "3"] and done.absent == done.unlisted == []


@pytest.mark.parametrize(
    ("roster", "lms", "message"),
    [
        ("student,email,phone\n", "moodle", "unknown columns ['phone']"),
        ("student,name\nalice,Alice\n", "canvas", "needs the columns student, name and one of canvas_id"),
        ("student,name,canvas_id\nalice,Alice,\n", "canvas", "line 2: no canvas_id or sis_user_id or sis_login_id"),
        ("student,email\nalice,\n", "moodle", "line 2: no email"),
        ("student,email\nalice,a@x\nalice,b@x\n", "moodle", "line 3: 'alice' is listed twice"),
        ("student,id_number\nalice,A1\n", "moodle", "needs the columns student, email"),
    ],
)
def test_a_bad_roster_is_one_line(out: Path, roster: str, lms: str, message: str) -> None:
    (out.parent / "bad.csv").write_text(roster)
    with pytest.raises(ExportError) as error:
        export(out, lms, out.parent / "bad.csv", "SGD kit")
    assert message in str(error.value) and "\n" not in str(error.value)


def test_no_gradebook_or_roster_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="grade the class first"):
        export(tmp_path, "canvas", tmp_path / "roster.csv", "SGD kit")
    write_gradebook([], tmp_path / "grades.csv")
    with pytest.raises(ExportError, match="cannot read roster"):
        export(tmp_path, "canvas", tmp_path / "roster.csv", "SGD kit")


def test_export_from_the_command_line(out: Path, capsys) -> None:
    roster = str(out.parent / "roster.csv")
    assert main(["export", str(out), "--to", "moodle", "--roster", roster, "--assignment", "SGD kit"]) == 0
    printed = capsys.readouterr().out
    assert "dave: in the roster, no submission: exported as 0" in printed
    assert "carol: graded, not in the roster: left out" in printed and (out / "moodle.csv").is_file()
    (out.parent / "bad.csv").write_text("student,phone\n")
    bad = ["export", str(out), "--to", "canvas", "--roster", str(out.parent / "bad.csv"), "--assignment", "SGD kit"]
    assert main(bad) == 2
    assert capsys.readouterr().err.count("\n") == 1
