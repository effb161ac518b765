"""The trusted side of the sandbox: start the zygote, hand it jobs, judge nothing.

    with Sandbox(Limits(call_timeout_s=2)) as sandbox:
        sub = sandbox.submission(source, reference.helpers)
        results = sub.run([Call("mse", (preds, targets))], judging="mse")

Every byte from a worker is hostile: it is decoded by `wire.decode` under a deadline,
and every `Result` is checked before it is returned. While `judging=step` runs, the
submission's calls to other steps' functions are proxies, answered over the worker's own
connection to the `oracle` (a reference process), never by reference code inside the worker.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import random
import select
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from grader.sandbox import isolation, launcher, rehearsal, wire
from grader.sandbox.oracle import Helpers, Oracle
from grader.sandbox.protocol import Call, Result, changed, tensors_in


@dataclass(frozen=True)
class Limits:
    """Time, memory and output limits of the sandbox."""

    call_timeout_s: float = 10.0
    import_timeout_s: float = 10.0
    step_timeout_s: float = 30.0
    """All calls of one step together (imports of its worker included)."""
    submission_timeout_s: float = 300.0
    memory_bytes: int = 2 * 2**30
    output_bytes: int = 16 * 2**10
    message_bytes: int = wire.MAX_MESSAGE_BYTES
    start_timeout_s: float = 60.0
    retry_timeout_s: float = 1.0
    """The time limit for calls to a function that has already timed out once."""


SEALED_CACHE = 256
"""How many batches' sealed answers a sandbox keeps."""


class SandboxError(RuntimeError):
    """The sandbox itself (not a submission) failed, e.g. the zygote did not start."""


class _Failed(Exception):
    """A call could not be completed; `error_type` says why. `spent`: a step's or the
    submission's time budget ran out (rather than one call's limit)."""

    def __init__(self, error_type: str, error: str, *, spent: bool = False) -> None:
        super().__init__(error)
        self.error_type, self.error, self.spent = error_type, error, spent


class Sandbox:
    """One zygote (and its workers) serving any number of submissions; a context manager."""

    UID_SPAN = 100_000

    def __init__(
        self,
        limits: Limits = Limits(),
        device: str = "cpu",
        hidden_paths: Sequence[str] = (),
        *,
        bubblewrap: bool = True,
        launched: launcher.Launch | None = None,
    ) -> None:
        self.limits, self.device = limits, device
        if launched is None:
            launched = launcher.launch(hidden_paths, device, bubblewrap=bubblewrap)
        elif launched.device != device or launched.adopted:
            launched.close()
            raise SandboxError(f"a zygote launched for {launched.device} cannot serve a new sandbox on {device}")
        launched.adopted = True
        self.plan = launched.plan
        base = 1_000_000 + random.SystemRandom().randrange(20_000) * self.UID_SPAN
        self.uids = range(base, base + self.UID_SPAN) if self.plan.root else range(0)
        """The uids workers run as (empty when not root)."""
        self._jobs = itertools.count(1)
        self._exited: dict[int, str] = {}
        self._killed: set[int] = set()
        """Jobs the zygote has killed (SIGKILL sent to their processes) and not yet reported gone."""
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._submissions: list[SandboxedSubmission] = []
        self._closed = False
        self._oracle: Oracle | None = None
        self._salt = rehearsal.new_salt()
        self._sealed: dict[tuple, dict] = {}
        """Sealed answers by (helpers, own, step, the calls' bytes): the same for every submission."""
        self._ctl, self._proc, self._stderr = launched.ctl, launched.proc, launched.stderr
        started = launched.started
        try:
            hello = self._recv_control(started + limits.start_timeout_s)
        except (TimeoutError, EOFError, wire.WireError) as exc:
            why = self._zygote_stderr()
            self.close()
            raise SandboxError(f"the sandbox did not start ({exc}): {why}") from None
        self.layers: list[str] = list(hello["layers"])
        """The isolation layers in force."""
        self.start_seconds = time.monotonic() - started
        self._reader = threading.Thread(target=self._read_control, name="sandbox-control", daemon=True)
        self._reader.start()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def submission(
        self,
        source: str,
        helpers: Helpers | None = None,
        own: Helpers | None = None,
        rehearsed: rehearsal.Rehearsed | None = None,
    ) -> SandboxedSubmission:
        """A submission whose code is `source`; `helpers(step)` gives the functions that answer
        its calls to other steps' functions during `run(..., judging=step)`, and `own(step)` the
        reference functions of `step`, whose rehearsal seals the answers in advance (`rehearsal`);
        `rehearsed` looks up rehearsals recorded beforehand with these `helpers` and `own`."""
        if self._closed:
            raise SandboxError("the sandbox is closed")
        sub = SandboxedSubmission(self, source, helpers, own, rehearsed)
        with self._lock:
            self._submissions = [s for s in self._submissions if not s.closed] + [sub]
        return sub

    def close(self) -> None:
        """Kill everything: workers, whatever they started, and the zygote."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            submissions, self._submissions = self._submissions, []
        for sub in submissions:
            sub.close()
        if self._oracle is not None:
            self._oracle.close()
        try:
            self._ctl.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        if hasattr(self, "_reader"):
            self._reader.join(timeout=10)
        self._ctl.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._stderr.close()

    def oracle(self, helpers: Helpers) -> Oracle:
        """The reference process that answers with `helpers` (one at a time)."""
        with self._lock:
            if self._oracle is None or self._oracle.helpers is not helpers:
                if self._oracle is not None:
                    self._oracle.close()
                self._oracle = Oracle(helpers, self.limits.message_bytes)
            return self._oracle

    def sealed_answers(
        self, step: str, calls: list[Call], helpers: Helpers, own: Helpers, rehearsed: rehearsal.Rehearsed | None = None
    ) -> dict | None:
        """The sealed answers to what the reference of `step` asks other steps while running `calls`
        (rehearsed now, unless `rehearsed` holds them)."""
        if not rehearsal.asks_others(own(step), helpers(step), calls):
            return None
        max_bytes = self.limits.message_bytes
        try:
            key = (helpers, own, step, rehearsal.batch_key(step, wire.encode(calls, max_bytes=max_bytes)))
        except wire.WireError:
            return None
        with self._lock:
            if key in self._sealed:
                return self._sealed[key]
        answers = (rehearsed and rehearsed(key[-1])) or rehearsal.rehearse(own(step), helpers(step), calls, max_bytes)
        fits = 0 < sum(map(len, answers.values())) < max_bytes // 4
        sealed = rehearsal.seal(answers, self._salt) if fits else None
        with self._lock:
            if len(self._sealed) >= SEALED_CACHE:
                del self._sealed[next(iter(self._sealed))]
            self._sealed[key] = sealed
        return sealed

    def _zygote_stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read()[-2000:].decode("utf-8", "replace")

    def _recv_control(self, deadline: float) -> dict:
        if not select.select([self._ctl], [], [], max(deadline - time.monotonic(), 0))[0]:
            raise TimeoutError("no answer from the zygote")
        data = self._ctl.recv(1 << 16)
        if not data:
            raise EOFError("the zygote exited")
        message = wire.decode(data)
        if not isinstance(message, dict) or not isinstance(message.get("op"), str):
            raise wire.WireError("malformed control message")
        return message

    def _read_control(self) -> None:
        while True:
            try:
                message = self._recv_control(time.monotonic() + 3600)
            except TimeoutError:
                continue
            except (OSError, ValueError, EOFError):
                break
            if message["op"] in ("exited", "killed"):
                with self._changed:
                    if message["op"] == "exited":
                        self._exited[int(message["job"])] = str(message["status"])
                    else:
                        self._killed.add(int(message["job"]))
                    self._changed.notify_all()
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def _spawn(self, sock: socket.socket, oracle: socket.socket | None = None) -> int:
        job = next(self._jobs)
        limits = isolation.WorkerLimits(
            memory_bytes=self.limits.memory_bytes,
            cpu_seconds=int(self.limits.submission_timeout_s + self.limits.import_timeout_s) + 5,
        )
        message = {
            "op": "spawn",
            "job": job,
            "uid": self.uids[job % self.UID_SPAN] if self.uids else None,
            "limits": asdict(limits),
        }
        with self._lock:
            if self._closed:
                raise SandboxError("the sandbox is closed")
            socket.send_fds(self._ctl, [wire.encode(message)], [sock.fileno()] + ([oracle.fileno()] if oracle else []))
        return job

    def _kill(self, jobs: list[int], *, wait_s: float = 5.0, gone: bool = True) -> None:
        """Kill these jobs' workers and everything they started; wait until the zygote says they are
        gone (reaped, orphans swept, files removed), or with `gone=False` only killed: SIGKILL sent
        to every process of theirs, so that none runs again while the kernel tears them down."""
        with self._changed:
            for job in jobs:
                if job not in self._exited and not self._closed:
                    self._ctl.send(wire.encode({"op": "kill", "job": job}))

            def done(job: int) -> bool:
                return job in self._exited or (not gone and job in self._killed)

            self._changed.wait_for(lambda: self._closed or all(done(job) for job in jobs), timeout=wait_s)
            for job in jobs:
                self._killed.discard(job)
                if gone:
                    self._exited.pop(job, None)

    def _status(self, job: int) -> str | None:
        with self._lock:
            return self._exited.get(job, "the sandbox was closed" if self._closed else None)


class _Worker:
    def __init__(self, job: int, sock: socket.socket, oracle: Oracle | None = None) -> None:
        self.job, self.sock, self.oracle = job, sock, oracle


class SandboxedSubmission:
    """A submission whose functions run in sandboxed workers; implements `protocol.Submission`."""

    def __init__(
        self,
        sandbox: Sandbox,
        source: str,
        helpers: Helpers | None,
        own: Helpers | None,
        rehearsed: rehearsal.Rehearsed | None = None,
    ) -> None:
        self._sandbox, self._source, self._helpers, self._own = sandbox, source, helpers, own
        self._rehearsed = rehearsed
        self._workers: dict[str | None, _Worker] = {}
        self._stopping: list[int] = []
        """Jobs killed but maybe not yet gone: `close` waits for them."""
        self._spent = 0.0
        self._spent_by_step: dict[str | None, float] = {}
        """Time used per step (judging value): a slow step cannot starve the others."""
        self._judging: str | None = None
        self._hung: set[str] = set()
        """Functions that already ran past their time limit: they get `Limits.retry_timeout_s` from then on."""
        self.source = source
        """The submission's code, read (never run) on the trusted side by the rules."""
        self._lock = threading.Lock()
        self.import_error: str | None = None
        """Why the submission could not be imported, once a run found out."""
        self.output = ""
        """What the submission printed (capped at `Limits.output_bytes`)."""
        self.closed = False

    def run(self, calls: Sequence[Call], *, judging: str | None = None) -> list[Result]:
        """Run `calls` in the worker for `judging`; one `Result` per call, in order."""
        calls = list(calls)
        if not all(isinstance(c, Call) for c in calls):
            raise TypeError("run() takes a sequence of Call")
        with self._lock:
            if self.closed:
                raise SandboxError("the submission is closed")
            return self._run(calls, judging)

    def close(self) -> None:
        """Kill this submission's workers; return once they, and the earlier steps' ones, are gone."""
        with self._lock:
            self.closed = True
            self._drop(*self._workers)
            self._sandbox._kill(self._stopping)
            self._stopping = []

    def _call_timeout(self, fn: str) -> float:
        limits = self._sandbox.limits
        return min(limits.call_timeout_s, limits.retry_timeout_s) if fn in self._hung else limits.call_timeout_s

    def _run(self, calls: list[Call], judging: str | None) -> list[Result]:
        self._judging = judging
        limits = self._sandbox.limits
        results: list[Result] = []
        try:
            worker = self._workers.get(judging) or self._start(judging)
            if calls:
                message = {"op": "run", "calls": calls}
                if worker.oracle is not None and self._own is not None:
                    sealed = self._sandbox.sealed_answers(judging, calls, self._helpers, self._own, self._rehearsed)
                    message.update({"answers": sealed} if sealed else {})
                self._timed(worker, lambda deadline: self._send(worker, message, deadline), limits.call_timeout_s)
            while len(results) < len(calls):
                results += self._timed(
                    worker,
                    functools.partial(self._receive_results, worker, at_most=len(calls) - len(results)),
                    self._call_timeout(calls[len(results)].fn),
                )
        except _Failed as failure:
            if failure.error_type == "Timeout" and len(results) < len(calls):
                self._hung.add(calls[len(results)].fn)
            self._drop(judging)
            if failure.error_type == "ImportError":
                return [Result(error_type="ImportError", error=failure.error) for _ in calls]
            results.append(Result(error_type=failure.error_type, error=failure.error))
            why = f"not run: an earlier call in this batch failed ({failure.error_type})"
            results += [Result(error_type="NotRun", error=why) for _ in calls[len(results) :]]
        return [_judge_inputs(call, result) for call, result in zip(calls, results)]

    def _timed(self, worker: _Worker | None, step: Callable[[float], object], timeout_s: float) -> object:
        """Run `step(deadline)` within `timeout_s`, the step's remaining time and the submission's."""
        if self.import_error is not None:
            raise _Failed("ImportError", self.import_error)
        limits = self._sandbox.limits
        spent_on_step = self._spent_by_step.get(self._judging, 0.0)
        budgets = {
            "the call": timeout_s,
            "this step": limits.step_timeout_s - spent_on_step,
            "the submission": limits.submission_timeout_s - self._spent,
        }
        what, left = min(budgets.items(), key=lambda item: item[1])
        if left <= 0:
            total = limits.step_timeout_s if what == "this step" else limits.submission_timeout_s
            raise _Failed("Timeout", f"{what} used up its {total:g} s", spent=True)
        started = time.monotonic()
        try:
            return step(started + left)
        except TimeoutError:
            raise _Failed("Timeout", f"{what} took longer than {left:g} s", spent=what != "the call") from None
        finally:
            elapsed = time.monotonic() - started
            self._spent += elapsed
            self._spent_by_step[self._judging] = spent_on_step + elapsed

    def _start(self, judging: str | None) -> _Worker:
        self._drop(*self._workers, gone=False)  # checks come step by step: the other steps' workers are done
        limits = self._sandbox.limits
        helpers = self._helpers_for(judging)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        oracle = self._sandbox.oracle(self._helpers).connect(judging) if helpers else None
        try:
            job = self._sandbox._spawn(theirs, oracle)
        finally:
            theirs.close()
            if oracle is not None:
                oracle.close()
        worker = _Worker(job, ours, self._sandbox.oracle(self._helpers) if helpers else None)
        self._workers[judging] = worker
        message = {
            "op": "job",
            "source": self._source,
            "proxies": {name: inspect.isgeneratorfunction(fn) for name, fn in helpers.items()},
            "output_bytes": limits.output_bytes,
            "message_bytes": limits.message_bytes,
        }
        try:
            ready = self._timed(
                worker, lambda deadline: self._handshake(worker, message, deadline), limits.import_timeout_s
            )
        except _Failed as failure:
            if failure.spent:  # the step (or submission) ran out of time: not a broken import
                raise
            if failure.error_type == "Timeout":
                self.import_error = f"importing the submission timed out: {failure.error}"
            elif failure.error_type == "WorkerCrashed":
                self.import_error = f"the submission crashed while being imported: {failure.error}"
            else:
                self.import_error = failure.error
            raise _Failed("ImportError", self.import_error) from None
        if ready is not None:
            self.import_error = ready
            raise _Failed("ImportError", ready)
        return worker

    def _helpers_for(self, judging: str | None) -> dict[str, Callable]:
        return dict(self._helpers(judging)) if judging is not None and self._helpers is not None else {}

    def _handshake(self, worker: _Worker, message: dict, deadline: float) -> str | None:
        self._send(worker, message, deadline)
        ready = self._receive(worker, deadline)
        error = ready.get("import_error")
        if ready.get("op") != "ready" or not (error is None or isinstance(error, str)):
            raise _Failed("WireError", "the worker sent a malformed message")
        return error

    def _send(self, worker: _Worker, message: dict, deadline: float) -> None:
        try:
            wire.send_frame(
                worker.sock, wire.encode(message, max_bytes=self._sandbox.limits.message_bytes), deadline=deadline
            )
        except TimeoutError:
            raise
        except OSError:
            raise _Failed("WorkerCrashed", self._crash_status(worker)) from None

    def _receive_results(self, worker: _Worker, deadline: float, at_most: int) -> list[Result]:
        """The next batch of results: between 1 and `at_most` of them, each plain data."""
        message = self._receive(worker, deadline)
        results = message.get("results")
        if (
            message.get("op") != "results"
            or not isinstance(results, list)
            or not 1 <= len(results) <= at_most
            or not all(isinstance(r, Result) and wire.is_plain(r.value) for r in results)
        ):
            raise _Failed("WireError", "the worker sent a malformed result")
        return results

    def _receive(self, worker: _Worker, deadline: float) -> dict:
        """One message from the worker, by `deadline`; notices a worker that died."""
        while not select.select([worker.sock], [], [], min(max(deadline - time.monotonic(), 0), 0.05))[0]:
            if self._sandbox._status(worker.job) is not None and not select.select([worker.sock], [], [], 0)[0]:
                raise _Failed("WorkerCrashed", self._crash_status(worker))
            if time.monotonic() >= deadline:
                raise TimeoutError
        max_bytes = self._sandbox.limits.message_bytes
        try:
            message = wire.decode(
                wire.recv_frame(worker.sock, deadline=deadline, max_bytes=max_bytes), max_bytes=max_bytes
            )
        except TimeoutError:
            raise
        except (EOFError, OSError):
            raise _Failed("WorkerCrashed", self._crash_status(worker)) from None
        except wire.WireError as exc:
            raise _Failed("WireError", f"the worker sent a malformed message: {exc}") from None
        if not isinstance(message, dict):
            raise _Failed("WireError", "the worker sent a malformed message")
        out = message.get("out")
        if isinstance(out, str):
            self._add_output(out)
        return message

    def _add_output(self, text: str) -> None:
        room = self._sandbox.limits.output_bytes - len(self.output.encode())
        if room > 0:
            self.output += text.encode()[:room].decode("utf-8", "ignore")

    def _crash_status(self, worker: _Worker) -> str:
        with self._sandbox._changed:
            self._sandbox._changed.wait_for(lambda: self._sandbox._status(worker.job) is not None, timeout=2.0)
        status = self._sandbox._status(worker.job) or "the connection was closed"
        return f"the worker process died ({status})"

    def _drop(self, *steps: str | None, gone: bool = True) -> None:
        """Kill these steps' workers; with `gone=False`, go on once they are killed, and leave waiting
        for the kernel to tear them down (and the zygote to sweep after them) to `close`."""
        workers = [self._workers.pop(key) for key in steps if key in self._workers]
        for worker in workers:
            worker.sock.close()
        self._sandbox._kill([worker.job for worker in workers], gone=gone)
        if not gone:
            self._stopping += [worker.job for worker in workers]
        for oracle in {id(w.oracle): w.oracle for w in workers if w.oracle is not None}.values():
            if not oracle.idle():  # still busy with what a dead worker asked: the next one must not wait
                oracle.close()


def _judge_inputs(call: Call, result: Result) -> Result:
    """For a watched call, whether it changed its inputs, judged against the trusted side's own
    copies (the worker's word `mutated` is not taken: its copies are in its reach)."""
    if not call.watch or call.repeat != 1 or not result.ok:
        return Result(result.value, result.error_type, result.error, result.mutated)
    originals = tensors_in((call.args, call.kwargs))
    after = result.inputs if result.inputs is not None else []
    return Result(result.value, mutated=bool(originals) and changed(originals, after), apis=result.apis)
