"""Performance benchmark of the SGD grading kit: how fast it grades, and that speed never costs a verdict.

    .venv/bin/python benchmarks/run.py                     # writes benchmarks/results.md and results.json
    .venv/bin/python benchmarks/run.py --quick --out DIR   # the CI smoke version: class of 10, no hangs, once

Every figure is measured in a subprocess, as a user would run it, --repeat times (median, min
and max reported); the repetitions are interleaved, so a noisy neighbour spreads over all figures:

1. cold single grade: `python -m grader grade solutions/sgd.py --json R.json`, whole process;
2. class throughput: a generated class (correct and buggy corpus variants, mixed) graded with
   `--jobs` = the core count into a fresh OUT folder each time;
3. nbgrader: a subset of the same class as notebooks, through real `nbgrader autograde` in a
   course built by `python -m grader course`, side by side with (2) in every repetition;
4. hostile overhead: the class plus 10% hostile submissions (the hangs first);
5. the student self-check: `pytest exercises --submission solutions/sgd.py -q`, and the same
   in the student release (`python -m grader release`), where no reference records the oracles'
   answers; each after one untimed first run, which writes pytest's caches as on a student's machine;
6. the class on `--device cuda`, where torch sees a CUDA device;
7. the class on Dask (`--scheduler local:<cores>`, with the cluster extra), beside (2).

The verdicts are checked in every repetition (correct variants at full marks, each bug below
full marks and failing at its own step only, nbgrader agreeing); the exit status is 1 when one
is wrong or a command fails, 0 otherwise (whether or not the targets are met).
"""

from __future__ import annotations

import argparse
import ast
import csv
import datetime
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus"
SOLUTION = ROOT / "solutions" / "sgd.py"
PYTHON = sys.executable  # the venv's python: grader, pytest, nbgrader and the kernels all come from it
BIN = Path(PYTHON).parent  # not resolved: a venv's bin/python is often a symlink out of the venv
ASSIGNMENT = "sgd"
TIMESTAMP = "2024-09-17 12:00:00.000000 UTC"
COMMAND_TIMEOUT_S = 3600

HANGS_FIRST = ("infinite_loop", "sleep_at_import", "ignore_signals", "fork_flood", "memory_growth")
"""Hostile submissions that cost time-outs: they come first, so that every class includes the worst."""

QUICK = {"class_size": 10, "nbgrader_subset": 2, "repeat": 1}
FULL = {"class_size": 200, "nbgrader_subset": 20, "repeat": 3}


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    unit: str
    target: tuple[str, float] | None = None  # ("<=", 3.0) or (">=", 10.0)


FIGURES = (
    Figure("import_torch_s", '`python -c "import torch"`, the yardstick of the start-up figures', "s"),
    Figure("cold_grade_s", "Cold single grade (reference solution, whole process)", "s"),
    Figure("cold_over_torch", "Cold single grade over `import torch`", "x", ("<=", 1.5)),
    Figure("class_wall_s", "Class grading, wall time", "s"),
    Figure("class_throughput", "Class throughput", "submissions/s", (">=", 5.0)),
    Figure("class_worker_s", "Worker time per submission (median execution_time)", "s"),
    Figure("class_overhead_s", "Class wall time outside grading (start-up, pages, report)", "s"),
    Figure("nbgrader_s_per_submission", "nbgrader autograde, per submission (serial)", "s/submission"),
    Figure("nbgrader_speedup", "Speed-up over nbgrader (throughput ratio)", "x", (">=", 25.0)),
    Figure("cluster_wall_s", "Class on Dask (--scheduler local:<cores>, a LocalCluster), wall time", "s"),
    Figure("cluster_over_pool", "Class on Dask over the local pool, wall time ratio", "x"),
    Figure("hostile_wall_s", "Class + hostile submissions, wall time", "s"),
    Figure("hostile_extra_s", "Extra wall time per hostile submission", "s/submission"),
    Figure("hostile_extra_worker_s", "Extra worker time per hostile submission", "s/submission"),
    Figure("selfcheck_s", "Student self-check (pytest exercises --submission solutions/sgd.py)", "s"),
    Figure("selfcheck_over_torch", "Student self-check over `import torch`", "x", ("<=", 2.0)),
    Figure("release_selfcheck_s", "Self-check in the student release (no reference: oracles run live)", "s"),
    Figure("release_selfcheck_over_torch", "Self-check in the student release over `import torch`", "x"),
    Figure("gpu_class_wall_s", "Class grading on CUDA, wall time", "s"),
    Figure("gpu_throughput", "Class throughput on CUDA", "submissions/s"),
)
FIGURE = {f.key: f for f in FIGURES}


class BenchmarkError(Exception):
    """A command failed: the benchmark cannot go on."""


# --------------------------------------------------------------------------- commands


def run_timed(command: list[str], *, cwd: Path = ROOT, env: dict | None = None, ok: tuple[int, ...] = (0,)) -> float:
    """Wall seconds of one subprocess; BenchmarkError when its exit status is not in `ok`."""
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
    seconds = time.perf_counter() - started
    if done.returncode not in ok:
        tail = (done.stdout + done.stderr)[-3000:]
        raise BenchmarkError(f"`{' '.join(command)}` exited with {done.returncode}:\n{tail}")
    return seconds


def grader_command(*args: str) -> list[str]:
    return [PYTHON, "-m", "grader", *args]


def nbgrader_env(course: Path) -> dict:
    """As tests/test_nbgrader.py: the venv first on PATH (gradebook.db's creation calls `alembic`)."""
    return {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "SGD_KIT_ROOT": str(ROOT),
        "JUPYTER_CONFIG_DIR": str(course / ".jupyter"),
        "IPYTHONDIR": str(course / ".ipython"),
        "PYTHONHASHSEED": "0",
    }


def nbgrader_command(*args: str) -> list[str]:
    return [PYTHON, "-m", "nbgrader", *args]


# --------------------------------------------------------------------------- the class


@dataclass(frozen=True)
class Entry:
    """One student of the generated class."""

    student: str
    kind: str  # correct, bug or hostile
    corpus: Path
    step: str | None = None  # the step a bug breaks

    def source(self) -> str:
        return corpus_source(self.corpus)

    def rule_points(self) -> float:
        """The points of the rules its corpus header says it breaks (an API its step must not use)."""
        from grader.rubric import load_rubric

        rules = [rule.strip() for rule in header(self.corpus).get("rules", "").split(",") if rule.strip()]
        rubric = load_rubric()
        return sum(rubric[rule].points for rule in rules)


def corpus_files(kind: str) -> list[Path]:
    return sorted((CORPUS / kind).glob("*.py"))


def corpus_source(path: Path) -> str:
    """The whole submission a corpus file stands for (the rule of tests/conftest.py's `corpus_source`):
    a bugs or hostile file holds only what differs from the reference, so it goes on top of the
    reference source; a correct file is a whole rewrite already."""
    from grader import reference

    text = path.read_text()
    return reference.source_with(text) if path.parent.name in ("bugs", "hostile") else text


def header(path: Path) -> dict[str, str]:
    """The `key: value` lines of a corpus file's docstring (as tests/conftest.py reads them)."""
    doc = path.read_text().split('"""')[1]
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in doc.splitlines()[1:]) if v}


def class_entries(size: int) -> list[Entry]:
    """`size` students cycling through the correct and bug corpora, the correct ones spread evenly among the bugs."""
    correct, bugs = corpus_files("correct"), corpus_files("bugs")
    order = sorted(
        [(i / len(correct), 0, p) for i, p in enumerate(correct)] + [(i / len(bugs), 1, p) for i, p in enumerate(bugs)],
        key=lambda t: t[:2],
    )
    entries = []
    for index in range(size):
        _, is_bug, path = order[index % len(order)]
        kind = "bug" if is_bug else "correct"
        step = header(path)["step"] if is_bug else None
        entries.append(Entry(f"s{index:04d}-{kind}-{path.stem}", kind, path, step))
    return entries


def hostile_entries(count: int, *, hangs: bool = True) -> list[Entry]:
    """`count` hostile submissions (the reference with a hostile file appended), the hangs first;
    none of the hangs with `hangs=False` (the smoke version: each hang costs 25 s of time-outs)."""
    files = [p for p in corpus_files("hostile") if hangs or p.stem not in HANGS_FIRST]
    ranked = sorted(files, key=lambda p: HANGS_FIRST.index(p.stem) if p.stem in HANGS_FIRST else len(HANGS_FIRST))
    return [
        Entry(f"h{index:04d}-hostile-{ranked[index % len(ranked)].stem}", "hostile", ranked[index % len(ranked)])
        for index in range(count)
    ]


def write_class(folder: Path, entries: list[Entry]) -> Path:
    folder.mkdir(parents=True)
    for entry in entries:
        (folder / f"{entry.student}.py").write_text(entry.source())
    return folder


def read_grades(out: Path) -> dict[str, dict]:
    with open(out / "grades.csv", newline="") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def failing_steps(out: Path, student: str) -> set[str]:
    results = json.loads((out / "students" / student / "results.json").read_text())
    return {t["tags"][0] for t in results.get("tests", []) if t["status"] == "failed"}


def verdict_problems(entries: list[Entry], out: Path) -> list[str]:
    """What is wrong with the class's grades: correct variants below full marks, bugs at full marks or elsewhere."""
    grades = read_grades(out)
    problems = []
    for entry in entries:
        row = grades.get(entry.student)
        if row is None:
            problems.append(f"{entry.student}: no row in grades.csv")
            continue
        total, full = float(row["total"]), float(row["max"] or "nan")
        if entry.kind == "correct" and (row["status"] != "graded" or total != full - entry.rule_points()):
            expected = f"full marks less its rules' {entry.rule_points():g}" if entry.rule_points() else "full marks"
            problems.append(f"{entry.student}: {total:g} of {full:g} ({row['status']}), expected {expected}")
        elif entry.kind == "bug":
            if not total < full:
                problems.append(f"{entry.student}: {total:g} of {full:g}, expected below full marks")
            elif failing_steps(out, entry.student) != {entry.step}:
                steps = sorted(failing_steps(out, entry.student))
                problems.append(f"{entry.student}: fails at {steps}, expected only at {entry.step}")
        elif entry.kind == "hostile" and row["status"] not in ("graded", "not loadable"):
            problems.append(f"{entry.student}: status {row['status']}")
    return problems


def execution_times(out: Path, entries: list[Entry]) -> list[float]:
    """Each student's execution_time from results.json: the worker seconds grade_source took."""
    return [json.loads((out / "students" / e.student / "results.json").read_text())["execution_time"] for e in entries]


def totals(out: Path) -> dict[str, str]:
    return {student: row["total"] for student, row in read_grades(out).items()}


# --------------------------------------------------------------------------- nbgrader


def submission_notebook(release, source: str):
    """The released notebook with each solution cell holding the submission's function of that name.

    The submission's other top-level code (imports, helpers, constants; no `from __future__`) goes
    first into the first solution cell, so its functions find what they use; the locked test cells
    stay as released."""
    import nbformat

    from grader.contract import FUNCTION_STEP

    tree = ast.parse(source)
    body = tree.body[1:] if ast.get_docstring(tree) is not None else tree.body
    functions, prelude = {}, []
    for node in body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            continue  # a notebook cell is not the start of a file (and annotations evaluate fine in 3.11)
        start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        text = "\n".join(source.splitlines()[start - 1 : node.end_lineno])
        if isinstance(node, ast.FunctionDef) and node.name in FUNCTION_STEP:
            functions[node.name] = text
        else:
            prelude.append(text)
    notebook = nbformat.from_dict(json.loads(json.dumps(release)))  # a deep copy
    first = True
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            name = meta["grade_id"]
            cell.source = functions.get(name, f"# {name}: not in this submission")
            if first:
                cell.source = "\n\n".join([*prelude, cell.source])
                first = False
    return notebook


def make_release(folder: Path) -> Path:
    """The student release (`python -m grader release`), with the reference as the submission to check."""
    run_timed(grader_command("release", str(folder)))
    (folder / "submission").mkdir()
    shutil.copy(SOLUTION, folder / "submission" / "sgd.py")
    return folder


def writing_bytecode() -> dict[str, str]:
    """This environment, but letting Python write bytecode, as a student's machine does: pytest
    then keeps its rewrite of hypothesis' modules (about a second per run otherwise)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def make_course(folder: Path) -> Path:
    """A course from `python -m grader course`, with the assignment generated (and gradebook.db made)."""
    run_timed(grader_command("course", str(folder)))
    run_timed(nbgrader_command("generate_assignment", ASSIGNMENT), cwd=folder, env=nbgrader_env(folder))
    return folder


def submit_all(course: Path, entries: list[Entry]) -> None:
    import nbformat

    release = nbformat.read(course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    for entry in entries:
        folder = course / "submitted" / entry.student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(submission_notebook(release, entry.source()), folder / f"{ASSIGNMENT}.ipynb")
        (folder / "timestamp.txt").write_text(TIMESTAMP)


def nbgrader_problems(course: Path, entries: list[Entry]) -> list[str]:
    """nbgrader's verdicts: the correct variants at full marks, each bug below."""
    from nbgrader.api import Gradebook, MissingEntry

    problems = []
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for entry in entries:
            try:
                submission = gradebook.find_submission(ASSIGNMENT, entry.student)
            except MissingEntry:
                problems.append(f"nbgrader: {entry.student} was not autograded")
                continue
            score, full = submission.score, submission.max_score
            if (entry.kind == "correct") != (score == full - entry.rule_points()):
                expected = "full marks" if entry.kind == "correct" else "below full marks"
                problems.append(f"nbgrader: {entry.student}: {score:g} of {full:g}, expected {expected}")
    return problems


# --------------------------------------------------------------------------- measuring


@dataclass
class Measurements:
    runs: dict[str, list[float]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    checks: dict[str, int] = field(default_factory=dict)
    hostile_seconds: dict[str, list[float]] = field(default_factory=dict)
    gpu_totals_match: list[bool] = field(default_factory=list)

    def add(self, key: str, value: float) -> None:
        self.runs.setdefault(key, []).append(value)
        say(f"    {FIGURE[key].label}: {value:.3g} {FIGURE[key].unit}")

    def check(self, name: str, problems: list[str]) -> None:
        self.checks[name] = self.checks.get(name, 0) + 1
        self.problems += problems
        for problem in problems:
            say(f"    VERDICT WRONG: {problem}")


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def measure(args: argparse.Namespace, work: Path) -> Measurements:
    cores = core_count()
    entries = class_entries(args.class_size)
    hostile = hostile_entries(max(1, round(args.class_size / 10)), hangs=not args.quick)
    class_dir = write_class(work / "class", entries)
    hostile_dir = write_class(work / "class-hostile", entries + hostile)
    subset = entries[: args.nbgrader_subset]
    m = Measurements()
    if args.skip_nbgrader:
        for key in ("nbgrader_s_per_submission", "nbgrader_speedup"):
            m.skipped[key] = "skipped (--skip-nbgrader)"
    elif subset:
        say("building the nbgrader course (not timed)")
        course_template = make_course(work / "course-template")
    cluster = not args.skip_cluster and importlib.util.find_spec("distributed") is not None
    if not cluster:
        for key in ("cluster_wall_s", "cluster_over_pool"):
            m.skipped[key] = "skipped (--skip-cluster)" if args.skip_cluster else "no Dask (the cluster extra)"
    gpu = cuda_available()
    if not gpu:
        for key in ("gpu_class_wall_s", "gpu_throughput"):
            m.skipped[key] = "no CUDA device"

    def grade_class(folder: Path, out: Path, *extra: str) -> float:
        return run_timed(grader_command("grade", str(folder), "--out", str(out), "--jobs", str(cores), *extra))

    say("recording the examples and their answers, if this grader version has none yet (not timed)")
    run_timed(grader_command("grade", str(SOLUTION)))
    selfcheck = [PYTHON, "-m", "pytest", "exercises", "--submission", str(SOLUTION), "-q"]
    release_check = [PYTHON, "-m", "pytest", "-q", "--submission", "submission/sgd.py"]
    release = None
    if args.quick:
        for key in ("release_selfcheck_s", "release_selfcheck_over_torch"):
            m.skipped[key] = "skipped (--quick)"
    else:
        release = make_release(work / "release")
        say("a student's first self-check, in the kit and in the release (not timed): it writes pytest's caches")
        run_timed(selfcheck, env=writing_bytecode())
        run_timed(release_check, cwd=release, env=writing_bytecode())
    for rep in range(1, args.repeat + 1):
        say(f"repetition {rep} of {args.repeat}")
        with tempfile.TemporaryDirectory(dir=work) as scratch:
            scratch = Path(scratch)
            torch_s = run_timed([PYTHON, "-c", "import torch"])
            m.add("import_torch_s", torch_s)
            cold_s = run_timed(grader_command("grade", str(SOLUTION), "--json", str(scratch / "R.json")))
            m.add("cold_grade_s", cold_s)
            m.add("cold_over_torch", cold_s / torch_s)
            results = json.loads((scratch / "R.json").read_text())
            full = results["score"] == results["extra_data"]["max_score"]
            m.check("reference at full marks", [] if full else [f"the reference got {results['score']:g}"])

            class_s = grade_class(class_dir, scratch / "out")
            m.add("class_wall_s", class_s)
            m.add("class_throughput", len(entries) / class_s)
            worker_s = execution_times(scratch / "out", entries)
            m.add("class_worker_s", statistics.median(worker_s))
            m.add("class_overhead_s", class_s - sum(worker_s) / cores)
            m.check("class verdicts", verdict_problems(entries, scratch / "out"))
            cpu_totals = totals(scratch / "out")
            if cluster:
                cluster_s = grade_class(class_dir, scratch / "out-cluster", "--scheduler", f"local:{cores}")
                m.add("cluster_wall_s", cluster_s)
                m.add("cluster_over_pool", cluster_s / class_s)
                m.check("Dask class verdicts", verdict_problems(entries, scratch / "out-cluster"))
                same = totals(scratch / "out-cluster") == cpu_totals
                m.check("Dask totals as the local pool's", [] if same else ["Dask totals differ from the pool's"])

            if not args.skip_nbgrader and subset:
                course = scratch / "course"
                shutil.copytree(course_template, course)
                submit_all(course, subset)
                nb_s = run_timed(nbgrader_command("autograde", ASSIGNMENT), cwd=course, env=nbgrader_env(course))
                m.add("nbgrader_s_per_submission", nb_s / len(subset))
                m.add("nbgrader_speedup", (len(entries) / class_s) / (len(subset) / nb_s))
                m.check("nbgrader verdicts", nbgrader_problems(course, subset))

            hostile_s = grade_class(hostile_dir, scratch / "out-hostile")
            m.add("hostile_wall_s", hostile_s)
            expected = class_s * len(entries + hostile) / len(entries)  # as if they were ordinary submissions
            m.add("hostile_extra_s", (hostile_s - expected) / len(hostile))
            ordinary = statistics.mean(execution_times(scratch / "out-hostile", entries))
            hostile_worker_s = execution_times(scratch / "out-hostile", hostile)
            m.add("hostile_extra_worker_s", statistics.mean(hostile_worker_s) - ordinary)
            m.check("hostile-class verdicts", verdict_problems(entries + hostile, scratch / "out-hostile"))
            for entry, seconds in zip(hostile, hostile_worker_s):
                m.hostile_seconds.setdefault(entry.corpus.stem, []).append(seconds)

            selfcheck_s = run_timed(selfcheck)
            m.add("selfcheck_s", selfcheck_s)
            torch_s = run_timed([PYTHON, "-c", "import torch"])
            m.add("selfcheck_over_torch", selfcheck_s / torch_s)
            if release is not None:
                release_s = run_timed(release_check, cwd=release)
                m.add("release_selfcheck_s", release_s)
                m.add("release_selfcheck_over_torch", release_s / torch_s)

            if gpu:
                gpu_s = grade_class(class_dir, scratch / "out-cuda", "--device", "cuda")
                m.add("gpu_class_wall_s", gpu_s)
                m.add("gpu_throughput", len(entries) / gpu_s)
                m.check("CUDA class verdicts", verdict_problems(entries, scratch / "out-cuda"))
                m.gpu_totals_match.append(totals(scratch / "out-cuda") == cpu_totals)
    return m


def core_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


# --------------------------------------------------------------------------- reporting


def machine() -> dict:
    import torch

    import grader

    model = ""
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        model = platform.processor() or platform.machine()
    try:
        nbgrader_version = __import__("nbgrader").__version__
    except ImportError:
        nbgrader_version = None
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True)
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "cores": core_count(),
        "cpu_count": os.cpu_count(),
        "cpu_model": model,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "nbgrader": nbgrader_version,
        "grader": grader.__version__,
        "commit": commit.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
        if commit.returncode == 0
        else None,
    }


def summary(m: Measurements) -> dict[str, dict]:
    figures = {}
    for f in FIGURES:
        entry: dict = {"label": f.label, "unit": f.unit, "target": None, "met": None}
        if f.target:
            entry["target"] = {"op": f.target[0], "value": f.target[1]}
        runs = m.runs.get(f.key)
        if runs:
            median = statistics.median(runs)
            entry.update(median=median, min=min(runs), max=max(runs), runs=runs)
            if f.target:
                op, value = f.target
                entry["met"] = median <= value if op == "<=" else median >= value
        else:
            entry.update(median=None, min=None, max=None, runs=[], skipped=m.skipped.get(f.key, "not measured"))
        figures[f.key] = entry
    return figures


def number(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"


def markdown(report: dict) -> str:
    mach, settings, figures, verdicts = report["machine"], report["settings"], report["figures"], report["verdicts"]
    quick = settings["quick"]
    lines = [
        "# Benchmark results",
        "",
        f"`{report['command']}` on {mach['date']}" + (" (QUICK: smoke-test sizes, not representative)" * quick),
        "",
        f"- Machine: {mach['cores']} cores ({mach['cpu_count']} CPUs), {mach['cpu_model']}; "
        f"load average at start {', '.join(map(str, mach['load_average_at_start']))}",
        f"- Python {mach['python']}, torch {mach['torch']}, nbgrader {mach['nbgrader']}, "
        f"grader {mach['grader']}, commit {mach['commit']}; CUDA: {mach['cuda'] or 'no CUDA device'}",
        f"- Class of {settings['class_size']} submissions ({settings['class_mix']}), graded with "
        f"`--jobs {settings['jobs']}`, a fresh OUT folder each repetition; "
        f"hostile run: the class plus {settings['hostile_count']} hostile ({', '.join(settings['hostile'])})",
        f"- Each figure: median of {settings['repeat']} repetition(s), min and max beside it; the targets are "
        "for 2 cores" + ("" if mach["cores"] == 2 else f" (this machine has {mach['cores']}: compare with care)"),
        "",
        "| figure | median | min | max | target | met? |",
        "|---|---|---|---|---|---|",
    ]
    for f in figures.values():
        target = (
            f"{f['target']['op'].replace('<=', '≤').replace('>=', '≥')} {f['target']['value']:g}" if f["target"] else ""
        )
        unit = f" {f['unit']}"
        if f["median"] is None:
            lines.append(f"| {f['label']} | {f['skipped']} | | | {target} | |")
            continue
        met = "" if f["met"] is None else ("yes" if f["met"] else "**no**")
        cells = [number(f[k]) + unit for k in ("median", "min", "max")]
        lines.append(f"| {f['label']} | {' | '.join(cells)} | {target}{unit if target else ''} | {met} |")
    nb = settings["nbgrader_subset"]
    lines += ["", "## Notes", ""]
    if settings["skip_nbgrader"]:
        lines.append("- nbgrader was not run (--skip-nbgrader).")
    else:
        lines.append(
            f"- nbgrader: a subset of {nb} of the {settings['class_size']} submissions (the first {nb} of the class, "
            "correct and buggy), as notebooks: the released exercises/sgd.ipynb with each solution cell holding "
            "the submission's function, the locked test cells as released. `nbgrader autograde` runs them one "
            "after the other, as it does; its wall time is divided by the subset size. The course is built once "
            "(not timed) and copied for each repetition. The speed-up is class submissions/s over nbgrader "
            "submissions/s, both measured in the same repetition."
        )
    lines.append(
        "- Hostile overhead: extra wall time per hostile submission = (hostile-class time − class time × "
        "(class + hostile) / class) / hostile: what they cost beyond an ordinary submission, with "
        f"`--jobs {settings['jobs']}` overlapping them with other work. Extra worker time per hostile submission = "
        "mean execution_time of the hostile ones − that of the ordinary ones in the same run: what the time-outs "
        "cost a worker. Both under the CLI's default limits (10 s per call, 30 s per step)."
    )
    if report["hostile_seconds"]:
        each = ", ".join(f"{name} {number(s)} s" for name, s in report["hostile_seconds"].items())
        lines.append(f"- Worker time per hostile submission (median execution_time in results.json): {each}.")
    if report["gpu_totals_match"] is not None:
        same = "match" if report["gpu_totals_match"] else "**do not match**"
        lines.append(f"- CUDA: the per-student totals in grades.csv {same} the CPU run's.")
    else:
        lines.append("- GPU: no CUDA device.")
    lines += ["", "## Verdicts", ""]
    lines.append(f"**{'All verdicts right' if verdicts['ok'] else 'VERDICTS WRONG'}.** Checked in every repetition:")
    lines.append("")
    for name, count in verdicts["checked"].items():
        lines.append(f"- {name}: checked {count} time(s)")
    lines.append("")
    lines.append(
        "Correct variants: full marks; each bug: below full marks, failing at its own step only; hostile "
        "submissions: a row each, graded or not loadable"
        + ("." if settings["skip_nbgrader"] else "; nbgrader: correct at full marks, bugs below.")
    )
    for problem in verdicts["problems"]:
        lines.append(f"- WRONG: {problem}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the CI smoke version: class 10, nbgrader 2, repeat 1")
    parser.add_argument("--out", type=Path, help="folder for results.md and results.json (default: benchmarks/)")
    parser.add_argument("--repeat", type=int, help=f"repetitions per figure (default {FULL['repeat']})")
    parser.add_argument("--class-size", type=int, help=f"submissions in the class (default {FULL['class_size']})")
    parser.add_argument(
        "--nbgrader-subset", type=int, help=f"submissions for nbgrader (default {FULL['nbgrader_subset']})"
    )
    parser.add_argument("--skip-nbgrader", action="store_true", help="do not run nbgrader")
    parser.add_argument("--skip-cluster", action="store_true", help="do not grade the class on a LocalCluster")
    args = parser.parse_args(argv)
    if args.quick and args.out is None:
        parser.error("--quick needs --out DIR, so that it never overwrites the committed results")
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.repeat < 1 or args.class_size < 1 or args.nbgrader_subset < 0:
        parser.error("--repeat and --class-size must be at least 1, --nbgrader-subset at least 0")
    args.nbgrader_subset = min(args.nbgrader_subset, args.class_size)
    args.out = args.out or Path(__file__).resolve().parent
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT))  # grader, for the contract and versions
    started = time.perf_counter()
    say("benchmark: " + ", ".join(f"{k} {v}" for k, v in vars(args).items()))
    mach = machine()
    entries = class_entries(args.class_size)
    hostile = hostile_entries(max(1, round(args.class_size / 10)), hangs=not args.quick)
    try:
        with tempfile.TemporaryDirectory(prefix="sgd-benchmark-") as work:
            m = measure(args, Path(work))
    except (BenchmarkError, subprocess.TimeoutExpired) as exc:
        say(f"benchmark failed: {exc}")
        return 1
    kinds = [e.kind for e in entries]
    report = {
        "command": " ".join(["python benchmarks/run.py", *(argv if argv is not None else sys.argv[1:])]),
        "machine": mach,
        "settings": {
            "quick": args.quick,
            "repeat": args.repeat,
            "class_size": args.class_size,
            "class_mix": f"{kinds.count('correct')} correct, {kinds.count('bug')} buggy, from tests/corpus",
            "jobs": core_count(),
            "nbgrader_subset": 0 if args.skip_nbgrader else args.nbgrader_subset,
            "skip_nbgrader": args.skip_nbgrader,
            "hostile_count": len(hostile),
            "hostile": [e.corpus.stem for e in hostile],
        },
        "figures": summary(m),
        "hostile_seconds": {name: statistics.median(s) for name, s in m.hostile_seconds.items()},
        "gpu_totals_match": all(m.gpu_totals_match) if m.gpu_totals_match else None,
        "verdicts": {"ok": not m.problems, "checked": m.checks, "problems": m.problems},
        "seconds": round(time.perf_counter() - started, 1),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    (args.out / "results.md").write_text(markdown(report))
    say(markdown(report))
    say(f"wrote {args.out / 'results.md'} and {args.out / 'results.json'} in {report['seconds']} s")
    return 0 if not m.problems else 1


if __name__ == "__main__":
    sys.exit(main())
