"""A whole class, graded for real: every corpus (correct, buggy, hostile), a notebook, a syntax
error and an empty folder, on two workers. Every student gets a row, each bug costs its own
step only, each hostile submission only what it breaks, and tampering never pays."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from conftest import CORPUS, ROOT, corpus_files, corpus_source, header, live_processes, processes_of
from test_hostile_cli import CASES as CLI_CASES

from grader import reference
from grader.contract import STEPS
from grader.frontends.classroom import Settings, grade_class
from grader.rubric import load_rubric
from grader.sandbox.client import Limits

LIMITS = Limits(call_timeout_s=2.0, import_timeout_s=4.0, step_timeout_s=10.0, submission_timeout_s=60.0)
HOSTILE = [path for path in corpus_files("hostile") if path.stem not in CLI_CASES]
"""The hostile cases this class run grades (test_hostile_cli.py grades the others in its own)."""

MAY_COST = {
    "sleep_at_import": set(STEPS),  # nothing can be imported: every step scores zero
    "patch_random": {"init", "train"},  # it breaks torch.randn for its own init
    "mutate_and_hide": {"step"},  # its sgd_step changes its inputs, and must lose that point
    "swap_inputs": {"step"},  # likewise, with the changed tensors swapped out of the lists
    "restore_after_yield": {"step"},  # its generator undoes the step once consumed: no step at all
}
"""Steps a hostile submission may lose; every other one may lose only `mse`, where its tricks live."""

PLAIN_GARBAGE = {
    "monkeypatch_torch": "torch.zeros(())",
    "tensor_subclass": "torch.tensor(42.0)",
    "reduce_payload": "object()",
}
"""What each tampering `mse` really returns, without the tampering."""


def make_class(folder: Path) -> None:
    folder.mkdir()
    for path in corpus_files("correct"):
        (folder / f"correct-{path.stem}").mkdir()
        (folder / f"correct-{path.stem}" / "sgd.py").write_text(corpus_source(path))
    for path in corpus_files("bugs"):
        (folder / f"bug-{path.stem}.py").write_text(corpus_source(path))
    for path in HOSTILE:
        (folder / f"hostile-{path.stem}.py").write_text(corpus_source(path))
    for name, value in PLAIN_GARBAGE.items():
        (folder / f"garbage-{name}.py").write_text(
            reference.source_with(f"def mse(preds, targets):\n    return {value}\n")
        )
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("%matplotlib inline"),
        nbformat.v4.new_code_cell(reference.SOLUTION.read_text()),
    ]
    nbformat.write(notebook, folder / "notebook-student.ipynb")
    (folder / "syntax-error.py").write_text("def mse(preds, targets):\n    return (preds - targets ** 2\n")
    (folder / "empty-folder").mkdir()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class") / "class"
    make_class(folder)
    settings = Settings(tmp_path_factory.mktemp("out"), limits=LIMITS)
    started = time.monotonic()
    rows = grade_class(folder, settings, jobs=2)
    return {
        "rows": {r.student: r for r in rows},
        "seconds": time.monotonic() - started,
        "settings": settings,
        "folder": folder,
    }


def failing_steps(row) -> set[str]:
    return {t["tags"][0] for t in row.results["tests"] if t["status"] == "failed"}


def test_every_student_gets_a_row(graded):
    rows = graded["rows"]
    assert len(rows) >= 50
    with open(graded["settings"].out / "grades.csv") as f:
        table = list(csv.DictReader(f))
    assert [r["student"] for r in table] == sorted(rows)
    for line in table:
        assert float(line["total"]) == pytest.approx(sum(float(line[s]) for s in STEPS))
        assert float(line["total"]) == pytest.approx(rows[line["student"]].results["score"])
    for name, row in rows.items():
        assert (graded["settings"].out / "students" / name / "results.json").is_file()
        assert (graded["settings"].out / "students" / name / "feedback.html").is_file()
        if row.status == "graded":
            expected = "sgd.py" if name.startswith("correct-") else f"{name}.{'ipynb' if 'notebook' in name else 'py'}"
            assert row.results["extra_data"]["graded_file"] == expected
    print(f"\nclass of {len(rows)} graded in {graded['seconds']:.1f} s with 2 jobs")


@pytest.mark.parametrize("path", corpus_files("correct"), ids=lambda p: p.stem)
def test_correct_style_gets_full_marks_but_for_the_rules_it_breaks(path, graded):
    """A correct style loses only the points of the rules its header names (an API its step must
    not use, e.g. torch.autograd in mse_grad), and those rules are all that fails."""
    row = graded["rows"][f"correct-{path.stem}"]
    broken = {rule for rule in header(path).get("rules", "").split(", ") if rule}
    policy = row.results["extra_data"]["policy"]
    assert {f["rule"] for f in policy if f["evidence"] == "static"} == broken
    rubric = load_rubric()
    failed = [t for t in row.results["tests"] if t["status"] == "failed"]
    assert len(failed) == len(broken) and {t["tags"][0] for t in failed} == {rule.split(".")[0] for rule in broken}
    lost = sum(rubric[rule].points for rule in broken)
    assert row.results["score"] == row.results["extra_data"]["max_score"] - lost, failing_steps(row)


@pytest.mark.parametrize("path", corpus_files("bugs"), ids=lambda p: p.stem)
def test_bug_fails_at_its_step_only(path, graded):
    expected = header(path)
    row = graded["rows"][f"bug-{path.stem}"]
    assert failing_steps(row) == {expected["step"]}, row.results["tests"]
    if expected["diagnosis"] != "none":
        assert expected["diagnosis"] in row.results["extra_data"]["diagnoses"]


@pytest.mark.parametrize("path", HOSTILE, ids=lambda p: p.stem)
def test_hostile_submission_costs_only_what_it_breaks(path, graded):
    row = graded["rows"][f"hostile-{path.stem}"]
    assert row.status in ("graded", "not loadable")
    assert failing_steps(row) <= MAY_COST.get(path.stem, {"mse"}), [t["output"] for t in row.results["tests"]]


@pytest.mark.parametrize("name", sorted(PLAIN_GARBAGE))
def test_tampering_scores_no_more_than_plain_garbage(name, graded):
    tampered, plain = graded["rows"][f"hostile-{name}"], graded["rows"][f"garbage-{name}"]
    assert tampered.step_points()["mse"] <= plain.step_points()["mse"]
    assert tampered.results["score"] <= plain.results["score"]


def test_broken_and_unusual_submissions_get_rows(graded):
    rows = graded["rows"]
    assert rows["notebook-student"].results["score"] == rows["notebook-student"].results["extra_data"]["max_score"]
    assert rows["syntax-error"].status == "not loadable" and rows["syntax-error"].results["score"] == 0
    assert "syntax error at line 2" in rows["syntax-error"].results["output"]
    assert rows["empty-folder"].status == "not gradable" and "holds no sgd.py" in rows["empty-folder"].results["output"]


def test_nothing_outlives_grading(graded):
    assert processes_of(range(1_000_000, 2**32 - 1)) == []
    assert not list(graded["settings"].out.glob("students/*/.*.tmp"))


def test_rerun_grades_only_what_changed(graded):
    settings, folder = graded["settings"], graded["folder"]
    before = (settings.out / "grades.csv").read_text()
    changed = folder / "bug-mse__rmse.py"
    changed.write_text(reference.source_with("# fixed: the reference mse\n"))
    regraded = []
    grade_class(folder, settings, jobs=2, progress=lambda name, results, cached: cached or regraded.append(name))
    assert regraded == ["bug-mse__rmse"]
    after = (settings.out / "grades.csv").read_text()
    assert after != before and len(after.splitlines()) == len(before.splitlines())


def descendants(pid: int) -> set[tuple[int, str]]:
    """(pid, start time) of every process below `pid`."""
    now = live_processes()
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        for child, process in now.items():
            if process.parent == parent:
                found.add((child, process.start))
                todo.append(child)
    return found


def alive(processes: set[tuple[int, str]]) -> list[int]:
    """The processes still running (a zombie or a reused pid does not count)."""
    now = live_processes()
    return [pid for pid, start in processes if pid in now and now[pid].start == start]


def test_interrupted_run_leaves_whole_files_and_resumes(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    for i, path in enumerate(corpus_files("bugs")[:6]):
        (folder / f"student{i}.py").write_text(corpus_source(path))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "grader", "grade", str(folder), "--out", str(out), "--jobs", "2"]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(out.glob("students/*/results.json"))) < 2:
        time.sleep(0.1)
    started = descendants(process.pid)
    assert len(started) >= 4  # pool workers, their zygotes, workers
    os.kill(process.pid, signal.SIGKILL)  # the harshest interruption: no clean-up at all
    process.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and alive(started):
        time.sleep(0.1)
    assert not alive(started), "pool workers, zygotes and workers die with the class run"
    for results in out.glob("students/*/results.json"):
        json.loads(results.read_text())  # every file that exists is whole
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert len(list(csv.DictReader((out / "grades.csv").open()))) == 6
    assert (out / "changes.csv").read_text() == "student,step,old points,new points,reason\n"  # first grades
    assert not list(out.glob("students/*/.*.tmp")) and not list(out.glob(".*.tmp"))
    assert CORPUS.is_dir()
