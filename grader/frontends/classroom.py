"""Grading a whole class: one row per student, in parallel, resumable, nothing ever lost.

`CLASS_DIR` holds one entry per student: a folder with sgd.py / sgd.ipynb (sgd.py wins when it
holds both), or a file `<student>.py` / `<student>.ipynb`. Entries are looked at, never followed:
a symbolic link, FIFO, device or socket gets a "not gradable" row saying what it is; hidden
entries (".name") and files of other kinds are skipped, each with its reason. For each student,
`OUT_DIR/students/<student>/results.json` (and feedback.html) are written atomically, and
`OUT_DIR/grades.csv` gathers them all. Each results.json records the row's status (graded, not
loadable, not gradable, crashed: `grader.verdict`), which grades.csv and the class report read. A
student whose graded file and grading setup are unchanged is not graded again unless `force`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import multiprocessing
import os
import stat
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing.util import Finalize
from pathlib import Path

import grader
from grader import DEFAULT_SEED
from grader.checks.example_store import recorded_examples
from grader.checks.model import checks_for
from grader.contract import STEPS
from grader.files import write_atomically
from grader.rubric import DEFAULT_RUBRIC, load_rubric
from grader.sandbox.client import Limits
from grader.submission import NAMES, SubmissionError, decode, read_bytes, refusal
from grader.text import csv_cell, plain
from grader.verdict import CRASHED, NOT_GRADABLE, recorded_status, status_of, with_status

SUFFIXES = (".py", ".ipynb")
STUDENTS = "students"
"""OUT_DIR/students/<student>/: apart from grades.csv and report.html, so no name can clash with them."""


@dataclass(frozen=True)
class Student:
    name: str
    path: Path
    problem: str = ""
    """Why this entry cannot be graded at all (a symbolic link, a FIFO…); its row says so."""


@dataclass(frozen=True)
class Skipped:
    """An entry of the class folder that is no student's, and why."""

    entry: str
    reason: str


@dataclass(frozen=True)
class Roster:
    """What `discover` found: the students (sorted by name) and the entries skipped."""

    students: list[Student] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


@dataclass(frozen=True)
class Settings:
    out: Path
    device: str = "cpu"
    seed: int = DEFAULT_SEED
    rubric: str | None = None
    force: bool = False
    limits: Limits = Limits()


def discover(class_dir: Path) -> Roster:
    """Every entry of a class folder, looked at without following it: a student, or skipped with why."""
    if not class_dir.is_dir():
        raise SubmissionError(f"{class_dir} is not a folder")
    with os.scandir(class_dir) as entries:
        names = sorted(entry.name for entry in entries)
    found: dict[str, str] = {}  # entry → why it cannot be graded ("" when it can)
    skipped = []
    for name in names:
        student, why = _classify(class_dir, name)
        if student:
            found[name] = why
        else:
            skipped.append(Skipped(name, why))
    rows = _row_names(list(found), folders={n for n in found if (class_dir / n).is_dir() and not found[n]})
    students = [Student(rows[name], class_dir / name, why) for name, why in found.items()]
    return Roster(sorted(students, key=lambda s: s.name), skipped)


def _classify(class_dir: Path, name: str) -> tuple[bool, str]:
    """(whether the entry is a student's, why it is skipped or cannot be graded; "" if it can be)."""
    if name.startswith("."):
        return False, "hidden"
    try:
        mode = os.lstat(class_dir / name).st_mode
    except OSError as exc:
        return True, f"{name} cannot be read: {exc.strerror}"
    if stat.S_ISDIR(mode):
        return True, ""
    if stat.S_ISREG(mode):
        return (True, "") if name.endswith(SUFFIXES) else (False, "not a .py or .ipynb file")
    return True, f"{name} is {refusal(mode)}: not read"


def _row_names(entries: list[str], folders: set[str]) -> dict[str, str]:
    """entry → row name: a folder's name, a file's stem, or the file's whole name where stems clash."""
    names = {e: e if e in folders or not e.endswith(SUFFIXES) else Path(e).stem for e in entries}
    while clashing := [e for e, n in names.items() if n != e and Counter(names.values())[n] > 1]:
        names.update((e, e) for e in clashing)
    return names


def is_class_folder(path: Path) -> bool:
    """A real folder (not a link) that is not itself one submission: it holds no sgd.py / sgd.ipynb."""
    try:
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            return False
    except OSError:
        return False
    return not any(os.path.lexists(path / name) for name in NAMES)


def student_folder(out: Path, name: str) -> Path:
    """Where a student's results.json and feedback.html go."""
    return out / STUDENTS / name


def fingerprint(student: Student, settings: Settings, graded: tuple[bytes, Path] | None = None) -> str:
    """What the grade depends on: the graded file's name and bytes (read safely, nothing else of a
    folder), or why it cannot be read, and the grading setup."""
    digest = hashlib.sha256()
    rubric = Path(settings.rubric) if settings.rubric else DEFAULT_RUBRIC
    for part in (grader.__version__, settings.device, str(settings.seed), rubric.read_text()):
        digest.update(part.encode() + b"\0")
    try:
        data, file = graded or read_bytes(student.path)
        digest.update(file.name.encode() + b"\0" + data)
    except SubmissionError as exc:
        digest.update(b"unreadable\0" + str(exc).encode())
    return digest.hexdigest()


def _previous(student: Student, settings: Settings) -> dict | None:
    """The stored results, when they were made from exactly this submission and setup (and record
    the submission's status: an older grader's do not)."""
    if settings.force:
        return None
    try:
        results = json.loads((student_folder(settings.out, student.name) / "results.json").read_text())
    except (OSError, ValueError):
        return None
    same = isinstance(results, dict) and results.get("extra_data", {}).get("fingerprint") == fingerprint(
        student, settings
    )
    return results if same and recorded_status(results) is not None else None


# --- worker processes ------------------------------------------------------------------

_SANDBOX = None


def _start_worker(device: str, limits: Limits, parent: int) -> None:
    """Pool initializer: one warm sandbox per worker, closed when the worker exits. The worker
    dies with the class run (`parent`), however that ends; its zygote and sandboxes die with it."""
    import signal

    import torch

    from grader.frontends.grade import open_sandbox
    from grader.sandbox import isolation

    if isolation.LINUX:
        isolation.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the run died before the line above
        os._exit(1)
    global _SANDBOX
    torch.set_num_threads(1)
    _SANDBOX = open_sandbox(device, limits)
    Finalize(_SANDBOX, _SANDBOX.close, exitpriority=10)


def grade_student(student: Student, settings: Settings) -> dict:
    """Grade one student and write their results.json and feedback.html; return results.json's content."""
    from grader.frontends.grade import environment, grade_source
    from grader.reporters.gradescope import results as results_json

    started = time.perf_counter()
    report = None
    try:
        data, file = read_bytes(student.path)
        digest = fingerprint(student, settings, (data, file))
        report = grade_source(decode(data, file), file.name, _SANDBOX, seed=settings.seed, rubric_path=settings.rubric)
        results = results_json(report)
        results["extra_data"]["graded_file"] = file.name
    except SubmissionError as exc:
        results = _ungraded(str(exc), settings, environment(settings.device, settings.seed, list(_SANDBOX.layers)))
        digest = fingerprint(student, settings)
    results["extra_data"]["fingerprint"] = digest
    results["execution_time"] = round(time.perf_counter() - started, 3)
    _record(student, settings, results, report)
    return results


def _record(student: Student, settings: Settings, results: dict, report=None) -> None:
    """Write a student's results.json and feedback.html (from `report` when there is one)."""
    from html import escape

    from grader.reporters.html import feedback_html

    folder = student_folder(settings.out, student.name)
    write_atomically(folder / "results.json", json.dumps(results, indent=2, ensure_ascii=True) + "\n")
    if report is not None:
        page = feedback_html(report)
    else:
        text = escape(plain(results["output"]))
        page = f"<!doctype html><meta charset=utf-8><title>Feedback</title><pre>{text}</pre>"
    write_atomically(folder / "feedback.html", page)


def _ungraded(reason: str, settings: Settings, env: dict) -> dict:
    """results.json for a submission that could not be graded at all: zero, with the reason."""
    rubric = load_rubric(settings.rubric)
    results = {
        "score": 0.0,
        "execution_time": 0.0,
        "output": f"Could not grade this submission: {reason}",
        "tests": [],
        "extra_data": {**env, "max_score": round(sum(rubric[c.id].points for c in checks_for()), 4)},
    }
    return with_status(results, NOT_GRADABLE)


# --- the class run -------------------------------------------------------------------------


@dataclass
class Row:
    """One line of grades.csv."""

    student: str
    results: dict

    @property
    def status(self) -> str:
        """The submission's status, as its results.json records it (`verdict.status_of`)."""
        return status_of(self.results)

    def step_points(self) -> dict[str, float]:
        points = dict.fromkeys(STEPS, 0.0)
        for test in self.results.get("tests", []):
            points[test["tags"][0]] += test["score"]
        return points


def grade_class(
    class_dir: Path,
    settings: Settings,
    *,
    jobs: int,
    progress: Callable[[str, dict, bool], None] = lambda name, results, cached: None,
    roster: Roster | None = None,
) -> list[Row]:
    """Grade every student of `class_dir` (or of `roster`, its `discover`) on `jobs` warm workers;
    return one row per student, and write grades.csv whatever happened to any one of them."""
    students = (roster or discover(class_dir)).students
    load_rubric(settings.rubric)
    _remove_stale(settings.out)
    done: dict[str, dict] = {}
    todo = []
    for student in students:
        results, cached = _without_grading(student, settings)
        if results is None:
            todo.append(student)
        else:
            done[student.name] = results
            progress(student.name, results, cached)
    if todo:
        from grader.frontends.grade import settle_after_start_up, warm_torch_optim

        for check in checks_for():  # record hypothesis' examples once, before the workers fork
            recorded_examples(check, settings.seed)
        warm_torch_optim()
        settle_after_start_up()
        _run_pool(todo, settings, jobs, done, progress)
    rows = [Row(s.name, done[s.name]) for s in students]
    write_gradebook(rows, settings.out / "grades.csv")
    return rows


def _remove_stale(out: Path) -> None:
    """Make OUT_DIR/students/, and remove the temporary files a run killed mid-write left."""
    student_folder(out, "").mkdir(parents=True, exist_ok=True)
    for stale in [*out.glob(".*.tmp"), *student_folder(out, "").glob("*/.*.tmp")]:
        stale.unlink(missing_ok=True)


def _without_grading(student: Student, settings: Settings) -> tuple[dict | None, bool]:
    """(results, whether they are stored ones) for a student who need not be graded; (None, False) else."""
    try:
        if not student.problem:
            previous = _previous(student, settings)
            return previous, previous is not None
        reason = student.problem
    except Exception as exc:  # noqa: BLE001 - one entry must not sink the class
        reason = f"{type(exc).__name__}: {exc}"
    return _not_gradable(student, settings, reason), False


def _not_gradable(student: Student, settings: Settings, reason: str, *, crashed: bool = False) -> dict:
    """Record a submission that could not be graded at all (or whose grading crashed): it still gets its row."""
    from grader.frontends.grade import environment

    results = _ungraded(reason, settings, environment(settings.device, settings.seed, []))
    if crashed:
        results["output"] = f"Grading crashed: {reason}"
        with_status(results, CRASHED)
    try:
        _record(student, settings, results)
    except OSError:  # its own files are lost, but not its row in grades.csv
        pass
    return results


def _run_pool(todo: list[Student], settings: Settings, jobs: int, done: dict, progress) -> None:
    """Grade `todo` in a pool of forked workers; a worker that dies costs only its submission."""
    attempts: dict[str, int] = {}
    context = multiprocessing.get_context("fork")
    while todo:
        pool = ProcessPoolExecutor(
            max(1, jobs),
            mp_context=context,
            initializer=_start_worker,
            initargs=(settings.device, settings.limits, os.getpid()),
        )
        futures: dict[Future, Student] = {pool.submit(grade_student, s, settings): s for s in todo}
        todo = []
        try:
            pending = set(futures)
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    student = futures[future]
                    try:
                        results = future.result()
                    except BrokenProcessPool:
                        attempts[student.name] = attempts.get(student.name, 0) + 1
                        if attempts[student.name] < 2:
                            todo.append(student)
                            continue
                        reason = "a grading worker died twice on this submission"
                        results = _not_gradable(student, settings, reason, crashed=True)
                    except Exception as exc:  # noqa: BLE001 - a grader bug must not sink the class
                        reason = f"{type(exc).__name__}: {exc}"
                        results = _not_gradable(student, settings, reason, crashed=True)
                    done[student.name] = results
                    progress(student.name, results, False)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def write_gradebook(rows: list[Row], path: Path) -> None:
    """grades.csv: one row per student, one column per step, then the total; text cells that a
    spreadsheet could take for a formula start with a single quote."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", *STEPS, "total", "max", "status"])
    for row in rows:
        points = row.step_points()
        max_score = row.results.get("extra_data", {}).get("max_score", "")
        writer.writerow(
            [
                csv_cell(row.student),
                *(f"{points[s]:g}" for s in STEPS),
                f"{row.results.get('score', 0):g}",
                f"{max_score:g}" if max_score != "" else "",
                csv_cell(row.status),
            ]
        )
    write_atomically(path, buffer.getvalue())


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
