"""A class graded on Dask (a LocalCluster of two single-threaded workers) gets exactly the results
of the local pool, timings aside, even when a worker is killed mid-run (one run checks both: a
class costs ~25 s on two cores); an unreachable scheduler, or no Dask at all, is one line and exit
status 2. Skipped where the cluster extra is missing."""

from __future__ import annotations

import gc
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

import pytest
from conftest import CORPUS, corpus_files, corpus_source
from test_classroom import alive, descendants

from grader.cli import main
from grader.frontends.classroom import Settings, discover, grade_class
from grader.sandbox.client import Limits

LIMITS = Limits(call_timeout_s=2.0, import_timeout_s=4.0, step_timeout_s=5.0, submission_timeout_s=60.0)
HOSTILE = ("infinite_loop", "segfault", "memory_growth")
"""A hang, a crash and a memory hog: each costs its sandbox's worker, never a Dask worker."""


@pytest.fixture(scope="module")
def class_dir(tmp_path_factory) -> Path:
    """12 entries: two correct styles, five bugs, the hostile three, a syntax error, an empty folder."""
    folder = tmp_path_factory.mktemp("class") / "class"
    folder.mkdir()
    for path in corpus_files("correct")[:2]:
        (folder / f"correct-{path.stem}").mkdir()
        (folder / f"correct-{path.stem}" / "sgd.py").write_text(corpus_source(path))
    for path in corpus_files("bugs")[::11][:5]:
        (folder / f"bug-{path.stem}.py").write_text(corpus_source(path))
    for name in HOSTILE:
        (folder / f"hostile-{name}.py").write_text(corpus_source(CORPUS / "hostile" / f"{name}.py"))
    (folder / "syntax-error.py").write_text("def mse(preds, targets):\n    return (preds - targets ** 2\n")
    (folder / "empty-folder").mkdir()
    return folder


@pytest.fixture(scope="module")
def local(class_dir, tmp_path_factory) -> Settings:
    """The class graded on the local pool: what the cluster must match."""
    settings = Settings(tmp_path_factory.mktemp("local"), limits=LIMITS)
    started = time.monotonic()
    grade_class(class_dir, settings, jobs=2)
    print(f"\nlocal pool, 2 jobs: {time.monotonic() - started:.1f} s")
    return settings


@pytest.fixture(scope="module")
def transport():
    pytest.importorskip("distributed")
    from grader.frontends import cluster

    started = time.monotonic()
    with cluster.connect("local:2", Settings(Path("unused"), limits=LIMITS), jobs=2) as transport:
        print(f"\nLocalCluster of 2 up, sandboxes warm: {time.monotonic() - started:.1f} s")
        yield transport


def timeless(out: Path) -> dict[str, dict]:
    """Every student's results.json, without what depends on the time grading took: the execution
    time, and a failed check's message (it shows the failing example shrunk within a time budget,
    `runner.run_check`'s shrink_budget_s, so on a loaded machine perhaps less far)."""
    found = {}
    for path in sorted(out.glob("students/*/results.json")):
        results = json.loads(path.read_text())
        results.pop("execution_time")
        for test in results["tests"]:
            if test["status"] == "failed":
                test["output"] = test["output"] and "(a failing example)"
        found[path.parent.name] = results
    return found


def same_as_local(out: Path, local: Settings, names: list[str]) -> None:
    mine, theirs = timeless(out), timeless(local.out)
    assert sorted(mine) == sorted(names)
    for name in names:
        assert mine[name] == theirs[name], name
        assert (out / "students" / name / "feedback.html").is_file()  # it shows the time taken: not compared


def test_a_cluster_grades_a_class_as_the_local_pool_though_it_loses_a_worker(class_dir, local, transport, tmp_path):
    settings = Settings(tmp_path / "out", limits=LIMITS)
    workers = sorted(transport.client.run(os.getpid).values())
    progress, killed = [], []

    def kill_one(name: str, results: dict, cached: bool) -> None:
        if not killed and results["extra_data"]["status"] == "graded":  # mid-run: nine tasks at least are out
            killed.append(descendants(workers[0]))  # its sandbox: zygote, reference process, workers
            os.kill(workers[0], signal.SIGKILL)
        progress.append(name)

    started = time.monotonic()
    rows = grade_class(class_dir, settings, jobs=2, transport=transport, progress=kill_one)
    print(f"\nLocalCluster of 2, one worker killed: {time.monotonic() - started:.1f} s")
    assert killed and workers[0] not in transport.client.run(os.getpid).values()
    assert killed[0] and not alive(killed[0]), "a killed Dask worker's sandbox dies with it"
    assert len(rows) >= 12 and sorted(progress) == [r.student for r in rows]
    assert {r.status for r in rows} == {"graded", "not loadable", "not gradable"}
    same_as_local(settings.out, local, [r.student for r in rows])
    assert (settings.out / "grades.csv").read_text() == (local.out / "grades.csv").read_text()
    resumed = []
    grade_class(class_dir, settings, jobs=2, transport=transport, progress=lambda n, r, c: resumed.append(c))
    assert all(resumed) and len(resumed) == len(rows)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_scheduler_is_one_line_within_seconds(class_dir, tmp_path, capsys):
    pytest.importorskip("distributed")
    started = time.monotonic()
    code = main(["grade", str(class_dir), "--out", str(tmp_path), "--scheduler", f"tcp://127.0.0.1:{free_port()}"])
    gc.enable()  # `grade` switches it off until start-up is done
    seconds = time.monotonic() - started
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "cannot reach the Dask scheduler" in err
    assert seconds < 10, seconds


def test_without_dask_scheduler_says_how_to_install_it(class_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as where the cluster extra is not installed
    monkeypatch.delitem(sys.modules, "grader.frontends.cluster", raising=False)
    code = main(["grade", str(class_dir), "--out", str(tmp_path), "--scheduler", "local:2"])
    gc.enable()
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "pip install -e '.[cluster]'" in err


def test_a_task_failing_on_every_try_ends_as_one_crashed_row(class_dir, tmp_path):
    pytest.importorskip("distributed")
    from distributed import Client, LocalCluster

    from grader.frontends.cluster import DaskTransport

    settings = Settings(tmp_path / "out", limits=LIMITS)
    students = [s for s in discover(class_dir).students if s.name.startswith("bug-")][:2]
    done, progress = {}, []
    # workers without the sandbox plugin: every try of every task raises, as a sandbox broken each time
    quiet = {"dashboard_address": "127.0.0.1:0", "scheduler_kwargs": {"dashboard": False}}
    with LocalCluster(n_workers=1, processes=False, **quiet) as cluster, Client(cluster) as client:
        DaskTransport(client, "cpu", LIMITS, settings.seed)(students, settings, done, lambda *a: progress.append(a[0]))
    assert sorted(done) == sorted(progress) == [s.name for s in students]
    for student in students:
        assert done[student.name]["extra_data"]["status"] == "crashed", done[student.name]["output"]
        assert "KeyError" in done[student.name]["output"]
        assert (settings.out / "students" / student.name / "results.json").is_file()
