"""Grading a class on Dask: `--scheduler tcp://HOST:8786` (an existing cluster) or `local[:N]`.

The transport plugs into `classroom.grade_class` in place of its local pool, and grades through the
same `classroom.grade_bytes`. Each Dask worker process keeps one warm sandbox (`SandboxPlugin`):
student code runs only there, never in the worker's own process. The client is the trusted side
for files: it reads each submission (never following links, size-capped), sends its bytes as a
task, gets back JSON text (results.json's content and the feedback page: nothing the student made
is ever unpickled), and writes every file itself (`classroom.record`). A task whose worker dies is
rerun elsewhere; one that fails `RETRIES` + 1 times (or kills its workers again and again) ends as a
`crashed` row. Needs the `cluster` extra (distributed): only `--scheduler` imports this module.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from distributed import Client, LocalCluster, WorkerPlugin, as_completed, get_worker

from grader.files import write_atomically
from grader.frontends.classroom import (
    Progress,
    Settings,
    Student,
    _not_gradable,
    grade_bytes,
    record,
    record_unreadable,
)
from grader.rubric import DEFAULT_RUBRIC
from grader.sandbox.client import Limits
from grader.submission import SubmissionError, one_line, read_bytes

PLUGIN = "sgd-sandbox"
RETRIES = 2
"""Reruns of a task that failed (its sandbox broke); a lost worker's tasks are rerun by the
scheduler anyway, up to its `distributed.scheduler.allowed-failures`."""
IN_FLIGHT = 256
"""Tasks submitted ahead of the results: the scheduler holds their bytes, not the whole class's."""
CONNECT_TIMEOUT = "3s"


class ClusterError(Exception):
    """No cluster to grade on (a bad --scheduler, an unreachable scheduler, a worker that cannot start
    its sandbox): one line, exit status 2."""


class SandboxPlugin(WorkerPlugin):
    """A Dask worker plugin: one warm sandbox per worker process, opened at set-up (in the worker's
    main thread, which lives as long as the process: its zygote dies with that thread, PDEATHSIG),
    warmed up as a local pool's parent is before it forks its workers."""

    def __init__(self, device: str, limits: Limits, seed: int) -> None:
        self.device, self.limits, self.seed = device, limits, seed
        self.sandbox = None

    def setup(self, worker) -> None:
        import torch
        from hypothesis.errors import HypothesisDeprecationWarning

        from grader.checks.example_store import recorded_examples
        from grader.checks.model import checks_for
        from grader.files import launch_for_grading
        from grader.frontends.grade import open_sandbox, settle_after_start_up

        warnings.simplefilter("ignore", HypothesisDeprecationWarning)  # the kit's own strategies: not news per worker
        torch.set_num_threads(1)
        launched = launch_for_grading(self.device)  # the zygote starts while the examples load
        for check in checks_for():
            recorded_examples(check, self.seed)
        self.sandbox = open_sandbox(self.device, self.limits, launched)
        settle_after_start_up()

    def teardown(self, worker) -> None:
        if self.sandbox is not None:
            self.sandbox.close()

    def reopen(self) -> None:
        """A fresh sandbox, after a task that failed: its zygote may be what broke."""
        from grader.frontends.grade import open_sandbox

        self.teardown(None)
        self.sandbox = None
        self.sandbox = open_sandbox(self.device, self.limits)


def grade_task(data: bytes, shown: str, settings: Settings, rubric: str, overrides: tuple = ()) -> str:
    """A Dask task: grade one submission's bytes (read from `shown`, on the client) in this worker's
    sandbox, under the client's rubric text and with the student's overrides; return JSON text:
    {"results": …, "page": …}."""
    worker = get_worker()
    plugin = worker.plugins[PLUGIN]
    here = Path(worker.local_directory) / f"rubric-{hashlib.sha256(rubric.encode()).hexdigest()[:16]}.toml"
    if not here.exists():
        write_atomically(here, rubric)
    try:
        graded_settings = dataclasses.replace(settings, rubric=str(here))
        results, page = grade_bytes(data, Path(shown), graded_settings, plugin.sandbox, overrides)
    except Exception:
        plugin.reopen()
        raise
    return json.dumps({"results": results, "page": page})


def _received(text: object) -> tuple[dict, str | None]:
    """(results, page) from a task's JSON text; anything else is a crash of the grading."""
    document = json.loads(text) if isinstance(text, str) else None
    if not isinstance(document, dict) or not isinstance(document.get("results"), dict):
        raise ValueError("a worker sent back something other than results")
    page = document.get("page")
    return document["results"], page if isinstance(page, str) else None


@dataclasses.dataclass
class DaskTransport:
    """`classroom.Transport` on a Dask client whose workers run `SandboxPlugin`."""

    client: Client
    device: str
    limits: Limits
    seed: int

    def __call__(self, todo: list[Student], settings: Settings, done: dict, progress: Progress) -> None:
        """Grade `todo` as tasks, `IN_FLIGHT` at a time; write each student's files as their task ends."""
        if (settings.device, settings.limits, settings.seed) != (self.device, self.limits, self.seed):
            raise ValueError("this cluster's sandboxes were opened for another device, limits or seed")
        rubric = (Path(settings.rubric) if settings.rubric else DEFAULT_RUBRIC).read_text()
        running, tasks = as_completed(loop=self.client.loop), {}

        def finish(student: Student, results: dict) -> None:
            done[student.name] = results
            progress(student.name, results, False)

        def submit(students: Iterator[Student]) -> None:
            """Read the next submission here and send its bytes; an unreadable one is recorded at once."""
            for student in students:
                try:
                    graded = read_bytes(student.path)
                except SubmissionError as exc:
                    finish(student, record_unreadable(student, settings, str(exc)))
                    continue
                overrides = tuple(settings.overrides.get(student.name, ()))
                future = self.client.submit(
                    grade_task, graded[0], str(graded[1]), settings, rubric, overrides, pure=False, retries=RETRIES
                )
                tasks[future.key] = (student, graded)
                running.add(future)
                return

        queue = iter(todo)
        for _ in range(IN_FLIGHT):
            submit(queue)
        for future in running:
            student, graded = tasks.pop(future.key)
            try:
                results = record(student, settings, graded, *_received(future.result()))
            except Exception as exc:  # noqa: BLE001 - a lost or broken task must not sink the class
                results = _not_gradable(student, settings, f"{type(exc).__name__}: {exc}", crashed=True)
            future.release()
            finish(student, results)
            submit(queue)


@contextmanager
def connect(scheduler: str, settings: Settings, *, jobs: int) -> Iterator[DaskTransport]:
    """A transport on `scheduler`, for `settings`' device, limits and seed: tcp://HOST:PORT (an existing
    cluster) or local[:N] (a LocalCluster of N single-threaded worker processes, `jobs` by default,
    made here and torn down after)."""
    with _cluster(scheduler, settings.limits, jobs) as address:
        try:
            client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ClusterError(one_line(f"cannot reach the Dask scheduler at {address}: {exc}")) from None
        with client:
            try:
                client.register_plugin(SandboxPlugin(settings.device, settings.limits, settings.seed), name=PLUGIN)
            except Exception as exc:  # noqa: BLE001 - whatever a worker raised, one line
                raise ClusterError(
                    one_line(f"a Dask worker could not start its sandbox: {type(exc).__name__}: {exc}")
                ) from None
            try:
                yield DaskTransport(client, settings.device, settings.limits, settings.seed)
            finally:
                client.unregister_worker_plugin(PLUGIN)


@contextmanager
def _cluster(scheduler: str, limits: Limits, jobs: int) -> Iterator[str]:
    """The scheduler's address: `scheduler` itself, or that of a LocalCluster for local[:N]."""
    name, _, count = scheduler.partition(":")
    if name != "local":
        if "://" not in scheduler:
            raise ClusterError(f"--scheduler {scheduler}: use tcp://HOST:PORT or local[:N]")
        yield scheduler
        return
    if count and not (count.isdigit() and int(count) > 0):
        raise ClusterError(f"--scheduler {scheduler}: N must be a positive number of workers")
    with LocalCluster(
        n_workers=int(count or jobs),
        threads_per_worker=1,
        processes=True,
        memory_limit=limits.memory_bytes,  # the worker's own process; the student's has its own cap
        dashboard_address="127.0.0.1:0",  # its HTTP server on a free local port, without the dashboard:
        scheduler_kwargs={"dashboard": False},  # no clash with another cluster's 8787
        silence_logs=logging.ERROR,
    ) as cluster:
        yield cluster.scheduler_address
