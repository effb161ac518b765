"""Hostile class folders and uploads change nothing: submissions are read, never followed, within
caps, decoded as Python's import does; every class entry gets a row or is skipped with why; and
students' text reaches the terminal and grades.csv as plain text."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import ROOT
from rich.console import Console

from grader.builders.gradescope_bundle import autograde, find_upload
from grader.frontends import classroom
from grader.frontends.classroom import (
    Row,
    Settings,
    Skipped,
    Student,
    discover,
    fingerprint,
    grade_class,
    write_gradebook,
)
from grader.submission import NOTEBOOK_LIMIT, PY_LIMIT, SubmissionError, locate, read_source
from grader.text import csv_cell, plain

SOLUTION = ROOT / "solutions" / "sgd.py"
HOSTILE_MESSAGE = "[/] broke [bold]here\x1b]52;c;aGVsbG8=\x07 and \x1b[2J\r\x9b31m"


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Fail instead of hanging (a FIFO opened for reading blocks until a writer comes)."""

    def hung(signum, frame):
        raise TimeoutError(f"still blocked after {seconds} s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def refused(path: Path, *words: str) -> str:
    with deadline(5), pytest.raises(SubmissionError) as info:
        read_source(path)
    message = str(info.value)
    assert "\n" not in message and all(w in message for w in words), message
    return message


# --- reading one submission --------------------------------------------------------------------


def test_symlinks_are_not_followed(tmp_path: Path) -> None:
    (tmp_path / "linked-file").mkdir()
    (tmp_path / "linked-file" / "sgd.py").symlink_to(SOLUTION)
    refused(tmp_path / "linked-file", "sgd.py is a symbolic link: not read")
    refused(tmp_path / "linked-file" / "sgd.py", "sgd.py is a symbolic link: not read")
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "sgd.py").write_text("x = 1\n")
    (tmp_path / "linked-folder").symlink_to(tmp_path / "real")
    refused(tmp_path / "linked-folder", "linked-folder is a symbolic link: not read")
    with pytest.raises(SubmissionError, match="symbolic link"):
        locate(tmp_path / "linked-folder")


def test_fifos_devices_and_proc_files_are_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.py")
    refused(tmp_path / "pipe.py", "is a FIFO: not read")
    (tmp_path / "folder").mkdir()
    os.mkfifo(tmp_path / "folder" / "sgd.py")
    refused(tmp_path / "folder", "sgd.py is a FIFO: not read")
    refused(Path("/dev/zero"), "is a device: not read")
    (tmp_path / "zero.py").symlink_to("/dev/zero")
    refused(tmp_path / "zero.py", "symbolic link")
    refused(Path("/proc/self/environ"), "/proc or /sys file")


def test_bom_and_coding_cookie_decode_as_import_does(tmp_path: Path) -> None:
    (tmp_path / "bom.py").write_bytes(b"\xef\xbb\xbfname = 'caf\xc3\xa9'\n")
    assert read_source(tmp_path / "bom.py")[0] == "name = 'café'\n"
    (tmp_path / "latin.py").write_bytes("# -*- coding: latin-1 -*-\nname = 'café'\n".encode("latin-1"))
    source, _ = read_source(tmp_path / "latin.py")
    assert "name = 'café'" in source
    namespace: dict = {}
    exec(compile(source, "latin.py", "exec"), namespace)
    assert namespace["name"] == "café"
    (tmp_path / "bad.py").write_bytes(b"name = '\xff'\n")
    refused(tmp_path / "bad.py", "bad.py cannot be decoded")
    notebook = {"cells": [{"cell_type": "code", "source": "x = 1"}]}
    (tmp_path / "bom.ipynb").write_bytes(b"\xef\xbb\xbf" + json.dumps(notebook).encode())
    assert read_source(tmp_path / "bom.ipynb")[0] == "x = 1\n"


def test_reads_are_capped(tmp_path: Path) -> None:
    (tmp_path / "ok.py").write_bytes(b"#" * PY_LIMIT)
    assert len(read_source(tmp_path / "ok.py")[0]) == PY_LIMIT
    with open(tmp_path / "big.py", "wb") as f:
        f.truncate(PY_LIMIT + 1)
    refused(tmp_path / "big.py", "larger than 4 MiB: not read")
    with open(tmp_path / "big.ipynb", "wb") as f:
        f.truncate(NOTEBOOK_LIMIT + 1)
    refused(tmp_path / "big.ipynb", "larger than 32 MiB: not read")


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        "[1, 2]",
        '{"cells": 3}',
        '{"cells": [1]}',
        '{"cells": [{"cell_type": "code", "source": [1]}]}',
        "[" * 100_000,
    ],
)
def test_malformed_notebooks_are_one_line_errors(tmp_path: Path, text: str) -> None:
    (tmp_path / "sgd.ipynb").write_text(text)
    refused(tmp_path / "sgd.ipynb", "not a readable notebook")


def test_malformed_notebook_exits_2_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "x.ipynb").write_text('{"cells": [')
    done = subprocess.run(
        [sys.executable, "-m", "grader", "grade", str(tmp_path / "x.ipynb")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "not a readable notebook" in done.stderr


def test_sgd_py_wins_over_sgd_ipynb(tmp_path: Path) -> None:
    (tmp_path / "sgd.py").write_text("x = 1\n")
    (tmp_path / "sgd.ipynb").write_text("{broken")
    assert read_source(tmp_path) == ("x = 1\n", tmp_path / "sgd.py")


# --- class folders -----------------------------------------------------------------------------


def hostile_class(folder: Path) -> Path:
    """Every kind of entry a class folder should not trust, and a few unusual names."""
    folder.mkdir()
    (folder / "_private.py").write_text("x = 1\n")
    (folder / ".hidden.py").write_text("x = 1\n")
    (folder / "notes.txt").write_text("not a submission\n")
    (folder / "linked.py").symlink_to(SOLUTION)
    (folder / "usr").symlink_to("/usr")
    (folder / "zero.py").symlink_to("/dev/zero")
    os.mkfifo(folder / "pipe.py")
    (folder / "mem").mkdir()
    (folder / "mem" / "sgd.py").symlink_to("/proc/self/mem")
    (folder / "grades.csv").mkdir()
    (folder / "grades.csv" / "sgd.py").write_text(SOLUTION.read_text())
    (folder / "grades.csv" / "sgd.ipynb").write_text("{broken")
    (folder / "report.html.py").write_text("def mse(:\n")
    (folder / "bob").mkdir()
    (folder / "bob.py").write_text("def mse(:\n")
    return folder


NOT_GRADABLE = {
    "linked": "linked.py is a symbolic link: not read",
    "usr": "usr is a symbolic link: not read",
    "zero": "zero.py is a symbolic link: not read",
    "pipe": "pipe.py is a FIFO: not read",
}


def test_every_entry_gets_a_row_or_a_reason(tmp_path: Path) -> None:
    with deadline(5):
        roster = discover(hostile_class(tmp_path / "class"))
    names = [s.name for s in roster.students]
    assert names == sorted(names)
    assert set(names) == {"_private", "bob", "bob.py", "grades.csv", "linked", "mem", "pipe", "report.html", "usr"} | {
        "zero"
    }
    assert roster.skipped == [Skipped(".hidden.py", "hidden"), Skipped("notes.txt", "not a .py or .ipynb file")]
    problems = {s.name: s.problem for s in roster.students if s.problem}
    assert problems == NOT_GRADABLE


def test_fingerprint_never_follows_a_student_folder(tmp_path: Path) -> None:
    roster = discover(hostile_class(tmp_path / "class"))
    settings = Settings(tmp_path / "out")
    with deadline(5):
        digests = {s.name: fingerprint(s, settings) for s in roster.students}
    assert len(set(digests.values())) == len(digests)
    folder = tmp_path / "class" / "grades.csv"
    (folder / "unrelated.txt").write_text("changes nothing")
    assert fingerprint(Student("grades.csv", folder), settings) == digests["grades.csv"]
    (folder / "sgd.py").write_text("x = 2\n")
    assert fingerprint(Student("grades.csv", folder), settings) != digests["grades.csv"]


def test_a_failing_entry_still_gets_its_row_and_grades_csv(tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("alice", "carol"):
        (folder / f"{name}.py").write_text("x = 1\n")
    (folder / "linked.py").symlink_to(SOLUTION)
    settings = Settings(tmp_path / "out")
    stored = settings.out / "students" / "carol" / "results.json"  # so that resuming fingerprints carol
    stored.parent.mkdir(parents=True)
    stored.write_text(json.dumps({"extra_data": {"fingerprint": "old"}}))

    def broken(student, settings, graded=None):
        raise RuntimeError("the disk fell off [/]")

    monkeypatch.setattr(classroom, "inputs", broken)
    rows = {r.student: r for r in grade_class(folder, settings, jobs=1)}
    assert rows["alice"].status == "crashed" and "RuntimeError: the disk fell off" in rows["alice"].results["output"]
    assert rows["carol"].status == "not gradable" and "the disk fell off" in rows["carol"].results["output"]
    assert rows["linked"].status == "not gradable" and NOT_GRADABLE["linked"] in rows["linked"].results["output"]
    table = list(csv.DictReader((settings.out / "grades.csv").open()))
    assert [line["student"] for line in table] == ["alice", "carol", "linked"]
    assert (settings.out / "students" / "linked" / "results.json").is_file()


def test_grades_csv_neutralises_formulas(tmp_path: Path) -> None:
    names = {
        '=HYPERLINK("http://x")': '\'=HYPERLINK("http://x")',
        "+1": "'+1",
        "-2": "'-2",
        "@SUM(A1)": "'@SUM(A1)",
        "\tx": "'\tx",
        "\r=1": "'=1",
        "bob\r=cmd|' /C calc'!A0": "bob=cmd|' /C calc'!A0",
        "plain": "plain",
    }
    results = {"score": 0.0, "output": "", "tests": [], "extra_data": {"max_score": 80.0}}
    write_gradebook([Row(name, results) for name in names], tmp_path / "grades.csv")
    table = list(csv.DictReader((tmp_path / "grades.csv").open(newline="")))
    assert [line["student"] for line in table] == list(names.values())
    assert {line["total"] for line in table} == {"0"} and {line["max"] for line in table} == {"80"}
    assert {line["status"] for line in table} == {"not gradable"}
    assert csv_cell("1.5") == "1.5" and csv_cell("-") == "'-"


def test_students_text_is_plain_on_the_console() -> None:
    from grader.cli import print_class_summary
    from grader.reporters.class_report import terminal_summary

    results = {"score": 0, "output": f"Could not load your submission: {HOSTILE_MESSAGE}", "tests": []}
    rows = [Row("[/]eve\x1b[31m", results)]
    buffer = io.StringIO()
    console = Console(file=buffer, width=200, force_terminal=False)
    print_class_summary(rows, Path("out"), console, [Skipped("[/]x\x1b]0;title\x07", "hidden")])
    terminal_summary(rows, console)
    text = buffer.getvalue()
    assert "\x1b" not in text and "\x9b" not in text and "\r" not in text
    assert "[/]eve" in text and "[/] broke [bold]here" in text and "skipped [/]x: hidden" in text
    assert plain(HOSTILE_MESSAGE) == "[/] broke [bold]here and "


# --- a real class run, twice (the second resumes) --------------------------------------------


def test_hostile_class_run(tmp_path: Path) -> None:
    folder = hostile_class(tmp_path / "class")
    (folder / "=cmd.py").write_text(f"raise RuntimeError({HOSTILE_MESSAGE!r})\n")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "grader", "grade", str(folder), "--out", str(out), "--jobs", "2"]
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    runs = [subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env) for _ in "12"]
    for done in runs:
        assert done.returncode == 0, done.stderr
        assert "\x1b" not in done.stdout and "]52;" not in done.stdout
        assert "skipped .hidden.py: hidden" in done.stdout and "skipped notes.txt: not a .py" in done.stdout
    table = {line["student"]: line for line in csv.DictReader((out / "grades.csv").open(newline=""))}
    assert set(table) == {s.name for s in discover(folder).students} - {"=cmd"} | {"'=cmd"}
    for name, why in NOT_GRADABLE.items():
        assert table[name]["status"] == "not gradable"
        assert why in json.loads((out / "students" / name / "results.json").read_text())["output"]
    assert table["mem"]["status"] == "not gradable"
    assert table["_private"]["status"] == "graded", (out / "students" / "_private" / "results.json").read_text()[:3000]
    assert table["bob"]["status"] == "not gradable" and table["bob.py"]["status"] == "not loadable"
    assert table["'=cmd"]["status"] == "not loadable" and "[/] broke" in runs[0].stdout
    csv_student = json.loads((out / "students" / "grades.csv" / "results.json").read_text())
    assert csv_student["score"] == csv_student["extra_data"]["max_score"] > 0
    assert csv_student["extra_data"]["graded_file"] == "sgd.py"
    assert (out / "students" / "report.html" / "feedback.html").is_file()
    report = (out / "report.html").read_text()
    assert "Skipped entries" in report and "notes.txt" in report
    assert "\x1b" not in (out / "grades.csv").read_text()


# --- Gradescope --------------------------------------------------------------------------------


def test_gradescope_upload_linked_to_the_solution_scores_zero(tmp_path: Path) -> None:
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "sgd.py").symlink_to(SOLUTION)
    upload, why = find_upload(tmp_path / "submission")
    assert upload is None and "sgd.py is a symbolic link: not read" in why and "\n" not in why
    results = autograde(tmp_path, python="/bin/false")
    assert results["score"] == 0 and results["tests"] == [] and "symbolic link" in results["output"]
    assert json.loads((tmp_path / "results" / "results.json").read_text()) == results


def test_gradescope_walk_does_not_follow_folders(tmp_path: Path) -> None:
    real = tmp_path / "elsewhere"
    real.mkdir()
    (real / "sgd.py").write_text("x = 1\n")
    (tmp_path / "upload").mkdir()
    (tmp_path / "upload" / "linked").symlink_to(real)
    os.mkfifo(tmp_path / "upload" / "sgd.ipynb")
    with deadline(5):
        upload, why = find_upload(tmp_path / "upload")
    assert upload is None and "sgd.ipynb is a FIFO: not read" in why


def test_gradescope_runner_imports_no_torch() -> None:
    code = "import sys, grader.builders.gradescope_bundle as g, grader.submission; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr
