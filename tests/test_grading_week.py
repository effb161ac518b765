"""README's "Grading week", run as written on a small class: grade, override, regrade after fixing
the rubric, read changes.csv, export to Canvas; and a bad override stops the run before the gradebook."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import CORPUS, ROOT, corpus_source

from grader import reference

ROSTER = "student,name,canvas_id,sis_login_id\nalice,Alice,101,alice@uni\nbob,Bob,102,bob@uni\ndave,Dave,104,dave@uni\n"


def readme_commands() -> list[str]:
    """The commands of README's "Grading week" block, one a line."""
    section = (ROOT / "README.md").read_text().split("### Grading week", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return block.strip().splitlines()


def run(command: str, folder: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # this checkout's grader, whatever .venv's install points at
    return subprocess.run(["bash", "-c", command], cwd=folder, env=env, capture_output=True, text=True, timeout=300)


def table(path: Path) -> list[dict]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_grading_week_as_the_readme_has_it(tmp_path: Path) -> None:
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    (tmp_path / "submissions").mkdir()
    (tmp_path / "submissions" / "alice.py").write_text(reference.SOLUTION.read_text())
    (tmp_path / "submissions" / "bob.py").write_text(corpus_source(CORPUS / "bugs" / "mse__rmse.py"))
    (tmp_path / "submissions" / "carol.py").write_text(reference.SOLUTION.read_text())
    (tmp_path / "roster.csv").write_text(ROSTER)
    out, changes, printed = tmp_path / "out", [], []
    for command in readme_commands():
        done = run(command, tmp_path)
        assert done.returncode == 0, (command, done.stderr)
        printed.append(done.stdout)
        if " grade " in command:
            changes.append(table(out / "changes.csv"))
            assert (out / "changes.csv").read_text().startswith("student,step,old points,new points,reason\n")
    first, overridden, rubric = changes
    assert first == [] and "changes: none" in printed[0]
    moved = [
        (c["student"], c["step"], float(c["new points"]) - float(c["old points"]), c["reason"]) for c in overridden
    ]
    assert moved == [("alice", "train", -2.0, "override changed"), ("bob", "mse", 1.0, "override changed")]
    assert "changes: 2 step scores of 2 students (2 override changed); see changes.csv" in printed[2]
    assert {(c["student"], c["step"], c["reason"]) for c in rubric} == {
        (student, "mse", "rubric changed")
        for student in ("alice", "bob", "carol")  # each passes loss_properties
    }
    assert printed[5] == (out / "changes.csv").read_text()
    check_outputs(out, printed[6])


def check_outputs(out: Path, export_printed: str) -> None:
    """After the week: overrides in results.json, feedback, grades.csv and report; the Canvas file."""
    alice = json.loads((out / "students" / "alice" / "results.json").read_text())
    assert alice["extra_data"]["overrides"] == [
        {"check": "train", "step": "train", "points": -2.0, "reason": "late: two days", "author": "KL"}
    ]
    assert alice["score"] == alice["extra_data"]["graded_score"] - 2 == alice["extra_data"]["max_score"] - 2
    assert "late: two days" in (out / "students" / "alice" / "feedback.html").read_text()
    grades = {line["student"]: line for line in table(out / "grades.csv")}
    assert (grades["alice"]["overrides"], grades["bob"]["overrides"], grades["carol"]["overrides"]) == ("-2", "1", "0")
    assert float(grades["alice"]["total"]) == alice["score"]
    assert "What changed" in (out / "report.html").read_text()
    canvas = (out / "canvas.csv").read_text().splitlines()
    assert canvas[0] == "Student,ID,SIS User ID,SIS Login ID,Section,SGD kit (1234)"
    assert canvas[2:] == [
        f"Alice,101,,alice@uni,,{grades['alice']['total']}",
        f"Bob,102,,bob@uni,,{grades['bob']['total']}",
        "Dave,104,,dave@uni,,0",
    ]
    assert "dave: in the roster, no submission: exported as 0" in export_printed
    assert "carol: graded, not in the roster: left out" in export_printed


def test_an_unknown_student_in_overrides_writes_no_gradebook(tmp_path: Path) -> None:
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "alice.py").write_text("x = 1\n")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "overrides.csv").write_text("student,check,points,reason,author\nzed,mse,1,typo,KL\n")
    done = run(f"{sys.executable} -m grader grade class --out out", tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: out/overrides.csv line 2: unknown student 'zed': no such entry in the class folder"
    ]
    assert not (tmp_path / "out" / "grades.csv").exists() and not (tmp_path / "out" / "students").exists()
