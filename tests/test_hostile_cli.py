"""Hostile submissions graded through the real command line, as an instructor runs it.

Each case of tests/corpus/hostile/ named in CASES is put on top of the reference solution
(`reference.source_with`), so every step its attack does not touch is correct. One class run
(jobs=2) grades them all, with no-attack garbage baselines beside them, and a few single-file
runs cover what only that path shows. For each case: a row and a results.json, bounded time,
no gain over plain garbage at the steps it attacks, full marks elsewhere, and nothing alive
afterwards.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import CORPUS, ROOT, corpus_source, live_processes, processes_of

from grader import reference
from grader.contract import STEPS
from grader.text import MAX_MESSAGE_CHARS

FIRST_UID, UID_SPAN = 1_000_000, 100_000  # a sandbox's uids: one block of UID_SPAN at or above FIRST_UID
CASE_LIMIT_S = 120


@dataclass(frozen=True)
class Case:
    attacks: dict[str, str] = field(default_factory=dict)
    """step -> the garbage entry whose points there the case may not exceed."""
    may_lose: frozenset[str] = frozenset()
    """Steps the case may lose by its own doing; every other step must be at full marks."""


CASES = {
    "train_leaks_mse": Case({"mse": "garbage-mse"}),
    "oracle_forgery": Case({"mse": "garbage-mse"}),
    "oracle_costly_errors": Case(),
    "oracle_left_busy": Case(),
    "oracle_busy_for_next": Case(),
    "plant_everywhere": Case(),
    "markup_and_escapes": Case({"mse": "garbage-mse"}),
    "megabyte_error": Case({"mse": "garbage-mse"}),
    "thread_flood": Case(may_lose=frozenset({"mse"})),
    "fd_flood": Case(),
    "fill_tmp_inodes": Case(may_lose=frozenset({"mse"})),
    "pid_hopper": Case(),
    "swap_inputs": Case({"step": "garbage-in-place-step"}),
    "restore_after_yield": Case({"step": "garbage-no-step"}),
}
LAST = {"oracle_busy_for_next"}
"""Cases graded last in the class run: what they leave behind reaches the next submission."""

GARBAGE = {
    "garbage-mse": "def mse(preds, targets):\n    return (preds * 0).sum()\n",
    "garbage-in-place-step": (
        "def sgd_step(params, grads, lr):\n    for p, g in zip(params, grads):\n        p.sub_(lr * g)\n"
        "    return list(params)\n"
    ),
    "garbage-no-step": "def sgd_step(params, grads, lr):\n    return [p.clone() for p in params]\n",
}
"""The same steps done wrong without any attack: what an attack may score at most."""


def entry(case: str) -> str:
    return f"zz-{case}" if case in LAST else case


def hostile_source(case: str) -> str:
    return corpus_source(CORPUS / "hostile" / f"{case}.py")


def padded_source(size: int) -> str:
    """The reference solution, made `size` bytes long with comment lines."""
    base = reference.source_with("")
    line = "# " + "x" * 97 + "\n"
    return base + line * ((size - len(base.encode())) // len(line))


# --- running the CLI and watching what it starts ------------------------------------------


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    started: set[tuple[int, str]]
    """(pid, start time) of every process seen below the CLI while it ran."""
    uid_blocks: set[int]
    """The first uid of each sandbox uid block its processes ran as."""

    def survivors(self, wait_s: float = 5.0) -> list[int]:
        """Processes it started, or running as one of its sandboxes' uids, still alive after `wait_s`."""
        deadline = time.monotonic() + wait_s
        while True:
            now = live_processes()
            left = [pid for pid, start in self.started if pid in now and now[pid].start == start]
            for base in self.uid_blocks:
                left += processes_of(range(base, base + UID_SPAN))
            if not left or time.monotonic() > deadline:
                return sorted(set(left))
            time.sleep(0.1)


def run_cli(*args: str, timeout_s: float, env: dict | None = None) -> Run:
    """`python -m grader grade ARGS`, watched: every process below it is recorded while it runs."""
    started, seen, stop = time.monotonic(), {}, threading.Event()
    process = subprocess.Popen(
        [sys.executable, "-m", "grader", "grade", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, **(env or {})},
    )

    def watch() -> None:
        while not stop.wait(0.05):
            now = live_processes()
            below = {process.pid} | {pid for pid, process in now.items() if (pid, process.start) in seen}
            grew = True
            while grew:
                new = {pid for pid, process in now.items() if process.parent in below and pid not in below}
                below |= new
                grew = bool(new)
            seen.update({(pid, now[pid].start): now[pid].uid for pid in below if pid in now})

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        out, err = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        pytest.fail(f"grade {' '.join(args)} ran past {timeout_s} s")
    finally:
        stop.set()
        watcher.join()
    blocks = {uid - (uid - FIRST_UID) % UID_SPAN for uid in seen.values() if uid >= FIRST_UID}
    return Run(process.returncode, out, err, time.monotonic() - started, set(seen), blocks)


def rows_of(out: Path) -> dict[str, dict]:
    with open(out / "grades.csv", newline="") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def step_points(results: dict) -> dict[str, float]:
    points = dict.fromkeys(STEPS, 0.0)
    for test in results["tests"]:
        points[test["tags"][0]] += test["score"]
    return points


def full_points(results: dict) -> dict[str, float]:
    points = dict.fromkeys(STEPS, 0.0)
    for test in results["tests"]:
        points[test["tags"][0]] += test["max_score"]
    return points


# --- one class run: every case, the garbage baselines, a 6 MiB and a source over 1 MiB ---------------


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict:
    folder, out = tmp_path_factory.mktemp("hostile") / "class", tmp_path_factory.mktemp("hostile-out")
    folder.mkdir()
    for case in CASES:
        (folder / f"{entry(case)}.py").write_text(hostile_source(case))
    for name, extra in GARBAGE.items():
        (folder / f"{name}.py").write_text(reference.source_with(extra))
    (folder / "six-mib.py").write_text(padded_source(6 * 2**20))
    (folder / "over-one-mib.py").write_text(padded_source(2**20 + 50_000))
    host_tmp = set(os.listdir("/tmp")), set(os.listdir("/dev/shm"))
    run = run_cli(str(folder), "--out", str(out), "--jobs", "2", "--call-timeout", "3", timeout_s=600)
    results = {p.parent.name: json.loads(p.read_text()) for p in (out / "students").glob("*/results.json")}
    print(f"\nclass of {len(results)} graded in {run.seconds:.1f} s with 2 jobs")
    return {"run": run, "out": out, "folder": folder, "results": results, "host_tmp": host_tmp}


def test_class_run_exits_cleanly(graded):
    run = graded["run"]
    assert run.returncode == 0, run.stderr[-2000:]


def test_every_entry_has_exactly_one_row(graded):
    entries = sorted(p.stem for p in graded["folder"].iterdir())
    with open(graded["out"] / "grades.csv", newline="") as f:
        students = [row["student"] for row in csv.DictReader(f)]
    assert sorted(students) == entries and len(set(students)) == len(students)
    assert sorted(graded["results"]) == entries


def test_every_entry_finishes_in_bounded_time(graded):
    slow = {name: r["execution_time"] for name, r in graded["results"].items() if r["execution_time"] > CASE_LIMIT_S}
    assert not slow


@pytest.mark.parametrize("case", sorted(CASES))
def test_no_gain_and_nothing_else_lost(graded, case):
    """At the steps a case attacks, no more than garbage; steps it may break, anything; the rest, full marks."""
    spec, results = CASES[case], graded["results"][entry(case)]
    assert results["tests"], results["output"]
    got, full = step_points(results), full_points(results)
    problems = [
        f"{step}: {got[step]:g} points, garbage gets {step_points(graded['results'][baseline])[step]:g}"
        for step, baseline in spec.attacks.items()
        if got[step] > step_points(graded["results"][baseline])[step]
    ]
    for step in sorted({s for s in STEPS if got[s] < full[s]} - set(spec.attacks) - spec.may_lose):
        failed = [t["output"][:200] for t in results["tests"] if t["tags"] == [step] and t["status"] == "failed"]
        problems.append(f"{step}: lost {full[step] - got[step]:g} points: {failed}")
    assert not problems


def test_garbage_baselines_score_as_expected(graded):
    """The baselines are what they claim: wrong at one step only, with some points there."""
    for name, step in (("garbage-mse", "mse"), ("garbage-in-place-step", "step"), ("garbage-no-step", "step")):
        results = graded["results"][name]
        got, full = step_points(results), full_points(results)
        assert {s for s in STEPS if got[s] < full[s]} == {step}, (name, got)


def test_sizes_are_refused_or_graded(graded):
    results, row = graded["results"], rows_of(graded["out"])
    assert results["six-mib"]["tests"] == [] and "4 MiB" in results["six-mib"]["output"]
    assert row["six-mib"]["status"] == "not gradable"
    assert results["over-one-mib"]["score"] == results["over-one-mib"]["extra_data"]["max_score"]


def test_messages_stay_bounded(graded):
    for name, results in graded["results"].items():
        assert len(json.dumps(results)) < 64 * 2**10, name
        assert all(len(t["output"]) <= MAX_MESSAGE_CHARS for t in results["tests"]), name
    huge = graded["results"]["megabyte_error"]
    assert len(huge["extra_data"]["submission_output"].encode()) <= 16 * 2**10


def test_nothing_survives_the_class_run(graded):
    run = graded["run"]
    assert run.uid_blocks or os.geteuid() != 0, "as root, workers run as sandbox uids"
    assert run.survivors() == []


def test_host_tmp_gets_nothing_from_workers(graded):
    before_tmp, before_shm = graded["host_tmp"]
    blocks = graded["run"].uid_blocks
    for folder, before in (("/tmp", before_tmp), ("/dev/shm", before_shm)):
        for name in set(os.listdir(folder)) - before:
            try:
                uid = os.lstat(os.path.join(folder, name)).st_uid
            except OSError:
                continue
            assert not any(base <= uid < base + UID_SPAN for base in blocks), os.path.join(folder, name)


# --- what only the single-file path shows --------------------------------------------------

ESCAPES = ("\x1b]", "\x1b[2J", "\x1b[H", "\x07", "\x9b", "\x9c", "\x9d", "\r")


@pytest.fixture(scope="module")
def markup_run(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("markup")
    path = folder / "markup_and_escapes.py"
    path.write_text(hostile_source("markup_and_escapes"))
    results, page = folder / "results.json", folder / "feedback.html"
    env = {"FORCE_COLOR": "1", "COLUMNS": "200"}  # as on a terminal, wide enough to keep the text whole
    run = run_cli(str(path), "--json", str(results), "--html", str(page), timeout_s=CASE_LIMIT_S, env=env)
    return {"run": run, "results": results, "page": page}


def test_markup_and_escapes_never_reach_the_terminal(markup_run):
    run = markup_run["run"]
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.seconds < CASE_LIMIT_S
    assert "FULL MARKS" in run.stdout and "[/]" in run.stdout  # shown, as text
    assert [s for s in ESCAPES if s in run.stdout + run.stderr] == []
    results = json.loads(markup_run["results"].read_text())
    assert step_points(results)["mse"] == 0
    assert run.survivors() == []


def test_written_files_hold_no_escape_sequences(markup_run):
    problems = []
    for path in (markup_run["results"], markup_run["page"]):
        text = path.read_text(encoding="utf-8")
        problems += [f"{path.name} holds {s!r}" for s in ESCAPES if s in text]
    assert not problems


def test_six_mib_source_is_refused_in_one_line(tmp_path):
    path = tmp_path / "six_mib.py"
    path.write_text(padded_source(6 * 2**20))
    run = run_cli(str(path), "--json", str(tmp_path / "results.json"), timeout_s=CASE_LIMIT_S)
    lines = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
    assert run.returncode == 2 and len(lines) == 1 and "4 MiB" in lines[0], lines
    assert not (tmp_path / "results.json").exists()
    assert run.survivors() == []


def test_next_submission_loses_nothing(tmp_path):
    folder, out = tmp_path / "class", tmp_path / "out"
    folder.mkdir()
    (folder / "a-oracle_busy_for_next.py").write_text(hostile_source("oracle_busy_for_next"))
    (folder / "b-next.py").write_text(reference.source_with(""))
    run = run_cli(str(folder), "--out", str(out), "--jobs", "1", "--call-timeout", "3", timeout_s=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.survivors() == []
    rows = rows_of(out)
    assert sorted(rows) == ["a-oracle_busy_for_next", "b-next"]
    assert float(rows["a-oracle_busy_for_next"]["total"]) == float(rows["a-oracle_busy_for_next"]["max"])
    assert float(rows["b-next"]["total"]) == float(rows["b-next"]["max"]), rows["b-next"]
