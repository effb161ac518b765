"""Grading a whole class: one row per student, in parallel, resumable, nothing ever lost.

`CLASS_DIR` holds one entry per student: a folder with sgd.py / sgd.ipynb (sgd.py wins when it
holds both), or a file `<student>.py` / `<student>.ipynb`. Entries are looked at, never followed:
a symbolic link, FIFO, device or socket gets a "not gradable" row saying what it is; hidden
entries (".name") and files of other kinds are skipped, each with its reason. For each student,
`OUT_DIR/students/<student>/results.json` (and feedback.html) are written atomically, and
`OUT_DIR/grades.csv` gathers them all. Each results.json records the row's status (graded, not
loadable, not gradable, crashed: `grader.verdict`), which grades.csv and the class report read. A
student whose graded file, grading setup and overrides (`grader.overrides`, from OUT_DIR/overrides.csv)
are unchanged is not graded again unless `force`; each results.json records what it was made from
(`extra_data["inputs"]`), so that OUT_DIR/changes.csv can say why a regrade changed a student's points.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import multiprocessing
import os
import stat
import time
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field, replace
from multiprocessing.util import Finalize
from pathlib import Path

import grader
from grader import DEFAULT_SEED
from grader.checks.example_store import recorded_examples
from grader.checks.model import checks_for
from grader.contract import STEPS
from grader.files import write_atomically
from grader.overrides import Override, apply_overrides, override_points, read_overrides
from grader.rubric import DEFAULT_RUBRIC, load_rubric
from grader.sandbox.client import Limits
from grader.submission import NAMES, SubmissionError, decode, read_bytes, refusal
from grader.text import csv_cell, plain
from grader.verdict import CRASHED, NOT_GRADABLE, recorded_status, status_of, with_status

SUFFIXES = (".py", ".ipynb")
STUDENTS = "students"
"""OUT_DIR/students/<student>/: apart from grades.csv and report.html, so no name can clash with them."""
OVERRIDES, CHANGES = "overrides.csv", "changes.csv"
"""OUT_DIR/overrides.csv (the instructor's), OUT_DIR/changes.csv (each run's)."""
REASONS = {
    "submission": "submission changed",
    "rubric": "rubric changed",
    "grader": "grader version changed",
    "seed": "seed or device changed",
    "device": "seed or device changed",
    "overrides": "override changed",
}
"""What a grade depends on (`inputs`), in the order a change is blamed on, and how changes.csv says it."""
FORCED = "regraded with --force"
"""changes.csv's reason when the points changed though none of the inputs did."""


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
    overrides: Mapping[str, tuple[Override, ...]] = field(default_factory=dict)
    """student → their overrides (`grade_class` reads them from OUT_DIR/overrides.csv)."""


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


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def inputs(student: Student, settings: Settings, graded: tuple[bytes, Path] | None = None) -> dict[str, str]:
    """What the grade depends on (the keys of REASONS): hashes of the graded file's name and bytes
    (read safely, nothing else of a folder) or of why it cannot be read, of the rubric and of the
    student's overrides; the grader version, seed and device."""
    rubric = Path(settings.rubric) if settings.rubric else DEFAULT_RUBRIC
    try:
        data, file = graded or read_bytes(student.path)
        submission = _sha(file.name.encode() + b"\0" + data)
    except SubmissionError as exc:
        submission = _sha(b"unreadable\0" + str(exc).encode())
    overrides = [o.record() for o in settings.overrides.get(student.name, ())]
    return {
        "submission": submission,
        "rubric": _sha(rubric.read_bytes()),
        "grader": grader.__version__,
        "seed": str(settings.seed),
        "device": settings.device,
        "overrides": _sha(json.dumps(overrides, sort_keys=True).encode()),
    }


def fingerprint(student: Student, settings: Settings, graded: tuple[bytes, Path] | None = None) -> str:
    """One hash of everything the grade depends on (`inputs`)."""
    return digest_of(inputs(student, settings, graded))


def digest_of(parts: dict[str, str]) -> str:
    return _sha(json.dumps(parts, sort_keys=True).encode())


def _stored(student: Student, out: Path) -> dict | None:
    """The student's results.json from an earlier run, or None."""
    try:
        results = json.loads((student_folder(out, student.name) / "results.json").read_text())
    except (OSError, ValueError):
        return None
    return results if isinstance(results, dict) and isinstance(results.get("extra_data"), dict) else None


def _previous(student: Student, settings: Settings, stored: dict | None) -> dict | None:
    """The `stored` results, when they were made from exactly this submission, setup and overrides
    (and record the submission's status: an older grader's do not)."""
    if settings.force or stored is None:
        return None
    same = stored["extra_data"].get("fingerprint") == fingerprint(student, settings)
    return stored if same and recorded_status(stored) is not None else None


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
    """Grade one student in this pool worker's sandbox, write their results.json and feedback.html;
    return results.json's content."""
    try:
        graded = read_bytes(student.path)
    except SubmissionError as exc:
        return record_unreadable(student, settings, str(exc))
    overrides = settings.overrides.get(student.name, ())
    return record(student, settings, graded, *grade_bytes(*graded, settings, _SANDBOX, overrides))


def grade_bytes(data: bytes, file: Path, settings: Settings, sandbox, overrides=()) -> tuple[dict, str | None]:
    """Grade a submission read as `data` from `file` in `sandbox`, with the student's `overrides`
    applied, writing nothing: (results.json's content, the feedback page, or None for the plain one).
    A pool worker and a Dask worker (`frontends.cluster`) both grade through this."""
    from grader.frontends.grade import environment, grade_source
    from grader.reporters.gradescope import results as results_json
    from grader.reporters.html import feedback_html

    started = time.perf_counter()
    report = None
    try:
        report = grade_source(decode(data, file), file.name, sandbox, seed=settings.seed, rubric_path=settings.rubric)
    except SubmissionError as exc:
        results = _ungraded(str(exc), settings, environment(settings.device, settings.seed, sandbox.layers))
    else:
        results = results_json(report)
        results["extra_data"]["graded_file"] = file.name
    results["execution_time"] = round(time.perf_counter() - started, 3)
    apply_overrides(results, overrides)
    page = feedback_html(report, overrides=results["extra_data"].get("overrides", [])) if report else None
    return results, page


def record(student: Student, settings: Settings, graded: tuple[bytes, Path] | None, results: dict, page=None) -> dict:
    """Fingerprint `results` (of the submission read as `graded`; None: unreadable), write them and
    the feedback page (`_record`), and return them."""
    parts = inputs(student, settings, graded)
    results["extra_data"].update(inputs=parts, fingerprint=digest_of(parts))
    _record(student, settings, results, page)
    return results


def record_unreadable(student: Student, settings: Settings, reason: str) -> dict:
    """Record a submission that cannot be read: no sandbox saw it; a re-run skips it while it stays so."""
    from grader.frontends.grade import environment

    results = _ungraded(reason, settings, environment(settings.device, settings.seed, []))
    apply_overrides(results, settings.overrides.get(student.name, ()))
    return record(student, settings, None, results)


def _record(student: Student, settings: Settings, results: dict, page: str | None = None) -> None:
    """Write a student's results.json, with what it changed from the stored one
    (`extra_data["changed"]`), and feedback.html (`page`, or a plain one showing the output)."""
    from html import escape

    from grader.reporters.html import overrides_html

    folder = student_folder(settings.out, student.name)
    moved = changes(student.name, _stored(student, settings.out), results)
    results["extra_data"]["changed"] = [asdict(c) for c in moved]
    write_atomically(folder / "results.json", json.dumps(results, indent=2, ensure_ascii=True) + "\n")
    if page is None:
        overrides = results["extra_data"].get("overrides", [])
        text = escape(plain(results["output"]))
        page = f"<!doctype html><meta charset=utf-8><title>Feedback</title><pre>{text}</pre>{overrides_html(overrides)}"
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

Progress = Callable[[str, dict, bool], None]
"""Called with (student, results, whether they are stored ones) as each student is done."""
Transport = Callable[[list[Student], Settings, dict, Progress], None]
"""Grades (todo, settings, done, progress): each student of `todo` gets results in `done[name]`,
written (`record`), and a `progress` call; `_run_pool` is the local one."""


@dataclass(frozen=True)
class Change:
    """One line of changes.csv: a regrade changed a student's points at a step, and why."""

    student: str
    step: str
    old: float
    new: float
    reason: str


@dataclass
class Row:
    """One line of grades.csv."""

    student: str
    results: dict
    changes: list[Change] = field(default_factory=list)
    """What this run's regrade changed in the student's points (none when nothing did)."""

    @property
    def status(self) -> str:
        """The submission's status, as its results.json records it (`verdict.status_of`)."""
        return status_of(self.results)

    def step_points(self) -> dict[str, float]:
        """step → the points graded there, with the overrides' added."""
        points = dict.fromkeys(STEPS, 0.0)
        for test in self.results.get("tests", []):
            points[test["tags"][0]] += test["score"]
        for step, added in override_points(self.results).items():
            points[step] = points.get(step, 0.0) + added
        return points

    @property
    def overridden(self) -> float:
        """The points the overrides add in all."""
        return sum(override_points(self.results).values())


def grade_class(
    class_dir: Path,
    settings: Settings,
    *,
    jobs: int,
    progress: Callable[[str, dict, bool], None] = lambda name, results, cached: None,
    roster: Roster | None = None,
    transport: Transport | None = None,
) -> list[Row]:
    """Grade every student of `class_dir` (or of `roster`, its `discover`) on `jobs` warm workers
    (or through `transport`: a Dask cluster's, `frontends.cluster`), with OUT_DIR/overrides.csv
    applied; return one row per student, and write grades.csv and changes.csv whatever happened to
    any one of them. A bad overrides.csv stops it before anything is graded or written (OverrideError)."""
    students = (roster or discover(class_dir)).students
    load_rubric(settings.rubric)
    since = _written(settings.out / CHANGES)
    stored = {s.name: _stored(s, settings.out) for s in students}
    steps_of = {c.id: c.step for c in checks_for()} | {step: step for step in STEPS}
    overrides = read_overrides(settings.out / OVERRIDES, stored, steps_of)
    settings = replace(settings, overrides=overrides)
    _remove_stale(settings.out)
    done: dict[str, dict] = {}
    todo = []
    for student in students:
        results, cached = _without_grading(student, settings, stored[student.name])
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
        (transport or functools.partial(_run_pool, jobs=jobs))(todo, settings, done, progress)
    rows = [Row(s.name, done[s.name], _unreported(done[s.name], s, settings.out, since)) for s in students]
    write_gradebook(rows, settings.out / "grades.csv")
    write_changes(rows, settings.out / CHANGES)
    return rows


def _written(path: Path) -> int:
    """When `path` was last written (ns), or 0 if it does not exist."""
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return 0


def _unreported(results: dict, student: Student, out: Path, since: int) -> list[Change]:
    """The changes a student's `results` record, if their results.json was written after the last
    changes.csv: by this run, or by a run killed before it wrote changes.csv."""
    if _written(student_folder(out, student.name) / "results.json") <= since:
        return []
    return [Change(**c) for c in results["extra_data"].get("changed", [])]


def changes(student: str, old: dict | None, new: dict) -> list[Change]:
    """What regrading changed in `student`'s points per step from their `old` results (nothing for a
    first grade), blamed on the first of REASONS whose input differs."""
    if old is None:
        return []
    before, after = Row(student, old).step_points(), Row(student, new).step_points()
    moved = [step for step in after if abs(after[step] - before.get(step, 0.0)) > 1e-9]
    if not moved:
        return []
    reason = _reason(old["extra_data"].get("inputs"), new["extra_data"].get("inputs"))
    return [Change(student, step, before.get(step, 0.0), after[step], reason) for step in moved]


def _reason(old: dict | None, new: dict | None) -> str:
    if not old:  # results made before they recorded their inputs: by an older grader
        return REASONS["grader"]
    if not new:  # the submission could not be read or graded this time
        return REASONS["submission"]
    return next((why for key, why in REASONS.items() if old.get(key) != new.get(key)), FORCED)


def write_changes(rows: list[Row], path: Path) -> None:
    """changes.csv: a header, then one line per student and step whose points this run changed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "step", "old points", "new points", "reason"])
    for change in (c for row in rows for c in row.changes):
        writer.writerow([csv_cell(change.student), change.step, f"{change.old:g}", f"{change.new:g}", change.reason])
    write_atomically(path, buffer.getvalue())


def _remove_stale(out: Path) -> None:
    """Make OUT_DIR/students/, and remove the temporary files a run killed mid-write left."""
    student_folder(out, "").mkdir(parents=True, exist_ok=True)
    for stale in [*out.glob(".*.tmp"), *student_folder(out, "").glob("*/.*.tmp")]:
        stale.unlink(missing_ok=True)


def _without_grading(student: Student, settings: Settings, stored: dict | None) -> tuple[dict | None, bool]:
    """(results, whether they are the `stored` ones) for a student who need not be graded; (None, False) else."""
    try:
        if not student.problem:
            previous = _previous(student, settings, stored)
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
        results["extra_data"]["inputs"] = inputs(student, settings)
    except Exception:  # noqa: BLE001 - what cannot be fingerprinted still gets its row
        pass
    apply_overrides(results, settings.overrides.get(student.name, ()))
    try:
        _record(student, settings, results)
    except OSError:  # its own files are lost, but not its row in grades.csv
        pass
    return results


def _run_pool(todo: list[Student], settings: Settings, done: dict, progress, *, jobs: int) -> None:
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
    """grades.csv: one row per student, one column per step (overrides included), the points the
    overrides add, then the total; text cells that a spreadsheet could take for a formula start with
    a single quote."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", *STEPS, "overrides", "total", "max", "status"])
    for row in rows:
        points = row.step_points()
        max_score = row.results.get("extra_data", {}).get("max_score", "")
        writer.writerow(
            [
                csv_cell(row.student),
                *(f"{points[s]:g}" for s in STEPS),
                f"{row.overridden:g}",
                f"{row.results.get('score', 0):g}",
                f"{max_score:g}" if max_score != "" else "",
                csv_cell(row.status),
            ]
        )
    write_atomically(path, buffer.getvalue())


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
