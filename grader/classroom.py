"""Grading a whole class: one row per student, in parallel, resumable, nothing ever lost.

`CLASS_DIR` holds one entry per student: a folder with sgd.py / sgd.ipynb, or a file
`<student>.py` / `<student>.ipynb`. For each, `OUT_DIR/<student>/results.json` (and
feedback.html) are written atomically, and `OUT_DIR/grades.csv` gathers them all.
A student whose submission and grading setup are unchanged is skipped unless `force`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing.util import Finalize
from pathlib import Path

import grader
from grader.checks.core import DEFAULT_SEED, checks_for, recorded_examples
from grader.contract import STEPS
from grader.files import write_atomically
from grader.rubric import DEFAULT_RUBRIC, load_rubric
from grader.sandbox.client import Limits
from grader.submission import NAMES, SubmissionError, read_source

SUFFIXES = (".py", ".ipynb")


@dataclass(frozen=True)
class Student:
    name: str
    path: Path


@dataclass(frozen=True)
class Settings:
    out: Path
    device: str = "cpu"
    seed: int = DEFAULT_SEED
    rubric: str | None = None
    force: bool = False
    limits: Limits = Limits()


def discover(class_dir: Path) -> list[Student]:
    """Every student entry of a class folder, sorted by name; hidden files are skipped."""
    if not class_dir.is_dir():
        raise SubmissionError(f"{class_dir} is not a folder")
    students = []
    for entry in sorted(class_dir.iterdir()):
        if entry.name.startswith((".", "_")):
            continue
        if entry.is_dir():
            students.append(Student(entry.name, entry))
        elif entry.suffix in SUFFIXES:
            students.append(Student(entry.stem, entry))
    names = [s.name for s in students]
    clashes = sorted({n for n in names if names.count(n) > 1})
    if clashes:
        raise SubmissionError(f"{class_dir}: two entries for {', '.join(clashes)} (a folder and a file?)")
    return students


def is_class_folder(path: Path) -> bool:
    """A folder that is not itself one submission."""
    return path.is_dir() and not any((path / name).is_file() for name in NAMES)


def fingerprint(student: Student, settings: Settings) -> str:
    """What the grade depends on: the submission's bytes and the grading setup."""
    digest = hashlib.sha256()
    rubric = Path(settings.rubric) if settings.rubric else DEFAULT_RUBRIC
    for part in (grader.__version__, settings.device, str(settings.seed), rubric.read_text()):
        digest.update(part.encode() + b"\0")
    files = sorted(p for p in student.path.rglob("*") if p.is_file()) if student.path.is_dir() else [student.path]
    for file in files:
        digest.update(str(file.relative_to(student.path.parent)).encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def _previous(student: Student, settings: Settings) -> dict | None:
    """The stored results, when they were made from exactly this submission and setup."""
    try:
        results = json.loads((settings.out / student.name / "results.json").read_text())
    except (OSError, ValueError):
        return None
    same = results.get("extra_data", {}).get("fingerprint") == fingerprint(student, settings)
    return results if same and not settings.force else None


# --- worker processes ------------------------------------------------------------------

_SANDBOX = None


def _start_worker(device: str, limits: Limits) -> None:
    """Pool initializer: one warm sandbox per worker, closed when the worker exits."""
    import torch

    from grader.grading import open_sandbox

    global _SANDBOX
    torch.set_num_threads(1)
    _SANDBOX = open_sandbox(device, limits)
    Finalize(_SANDBOX, _SANDBOX.close, exitpriority=10)


def grade_student(student: Student, settings: Settings) -> dict:
    """Grade one student and write their results.json and feedback.html; return results.json's content."""
    from grader.grading import Report, environment, grade_source
    from grader.reporters.gradescope import results as results_json

    folder = settings.out / student.name
    started = time.perf_counter()
    try:
        source, file = read_source(student.path)
        report = grade_source(source, file.name, _SANDBOX, seed=settings.seed, rubric_path=settings.rubric)
        results = results_json(report)
    except SubmissionError as exc:
        report = None
        results = _ungraded(str(exc), settings, environment(settings.device, settings.seed, list(_SANDBOX.layers)))
    results["extra_data"]["fingerprint"] = fingerprint(student, settings)
    results["execution_time"] = round(time.perf_counter() - started, 3)
    write_atomically(folder / "results.json", json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    _write_feedback(report if isinstance(report, Report) else None, results, folder)
    return results


def _write_feedback(report, results: dict, folder: Path) -> None:
    from html import escape

    from grader.reporters.html import feedback_html

    if report is not None:
        page = feedback_html(report)
    else:
        page = f"<!doctype html><meta charset=utf-8><title>Feedback</title><pre>{escape(results['output'])}</pre>"
    write_atomically(folder / "feedback.html", page)


def _ungraded(reason: str, settings: Settings, env: dict) -> dict:
    """results.json for a submission that could not be graded at all: zero, with the reason."""
    rubric = load_rubric(settings.rubric)
    return {
        "score": 0.0,
        "execution_time": 0.0,
        "output": f"Could not grade this submission: {reason}",
        "tests": [],
        "extra_data": {**env, "max_score": round(sum(rubric[c.id].points for c in checks_for()), 4)},
    }


# --- the class run -------------------------------------------------------------------------


@dataclass
class Row:
    """One line of grades.csv."""

    student: str
    results: dict

    @property
    def status(self) -> str:
        """graded; graded, but the submission could not be loaded; or not graded, with why."""
        output = self.results.get("output", "")
        if not self.results.get("tests"):
            return "crashed" if output.startswith("Grading crashed") else "not gradable"
        return "not loadable" if output.startswith("Could not load") else "graded"

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
) -> list[Row]:
    """Grade every student of `class_dir` on `jobs` warm workers; return one row per student."""
    students = discover(class_dir)
    load_rubric(settings.rubric, check_ids=[c.id for c in checks_for()])
    settings.out.mkdir(parents=True, exist_ok=True)
    for stale in settings.out.glob("*/.*.tmp"):  # left by a run that was killed mid-write
        stale.unlink(missing_ok=True)
    done: dict[str, dict] = {}
    todo = []
    for student in students:
        previous = _previous(student, settings)
        if previous is not None:
            done[student.name] = previous
            progress(student.name, previous, True)
        else:
            todo.append(student)
    if todo:
        from grader.grading import settle_after_start_up, warm_torch_optim

        for check in checks_for():  # record hypothesis' examples once, before the workers fork
            recorded_examples(check, settings.seed)
        warm_torch_optim()
        settle_after_start_up()
        _run_pool(todo, settings, jobs, done, progress)
    rows = [Row(s.name, done[s.name]) for s in students]
    write_gradebook(rows, settings.out / "grades.csv")
    return rows


def _run_pool(todo: list[Student], settings: Settings, jobs: int, done: dict, progress) -> None:
    """Grade `todo` in a pool of forked workers; a worker that dies costs only its submission."""
    attempts: dict[str, int] = {}
    context = multiprocessing.get_context("fork")
    while todo:
        pool = ProcessPoolExecutor(
            max(1, jobs), mp_context=context, initializer=_start_worker, initargs=(settings.device, settings.limits)
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
                        results = _crashed(student, settings, "a grading worker died twice on this submission")
                    except Exception as exc:  # noqa: BLE001 - a grader bug must not sink the class
                        results = _crashed(student, settings, f"{type(exc).__name__}: {exc}")
                    done[student.name] = results
                    progress(student.name, results, False)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _crashed(student: Student, settings: Settings, reason: str) -> dict:
    """Record a submission the grader itself could not finish, so that it still gets its row."""
    from grader.grading import environment

    results = _ungraded(reason, settings, environment(settings.device, settings.seed, []))
    results["output"] = f"Grading crashed: {reason}"
    write_atomically(settings.out / student.name / "results.json", json.dumps(results, indent=2) + "\n")
    return results


def write_gradebook(rows: list[Row], path: Path) -> None:
    """grades.csv: one row per student, one column per step, then the total."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", *STEPS, "total", "max", "status"])
    for row in rows:
        points = row.step_points()
        max_score = row.results.get("extra_data", {}).get("max_score", "")
        writer.writerow(
            [
                row.student,
                *(f"{points[s]:g}" for s in STEPS),
                f"{row.results.get('score', 0):g}",
                f"{max_score:g}" if max_score != "" else "",
                row.status,
            ]
        )
    write_atomically(path, buffer.getvalue())


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
