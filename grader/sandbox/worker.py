"""The untrusted side: a zygote that imports torch once and forks one worker per job.

Run as `python -m grader.sandbox.worker --fd N --plan JSON` (inside bubblewrap when
available). Fd N is a SOCK_SEQPACKET control socket to the trusted side, carrying
wire-encoded dicts:

- trusted -> zygote: `{"op": "spawn", "job", "uid", "limits"}` with the worker's end of a
  fresh socketpair attached (and, to check a step, its end of a connection to the oracle),
  and `{"op": "kill", "job"}`;
- zygote -> trusted: `{"op": "hello", "layers"}` once, and `{"op": "exited", "job",
  "status"}` when a worker is gone together with everything it started.

A worker talks to the trusted side only over its own socket, with length-prefixed
wire messages: it receives `{"op": "job", "source", "proxies", "output_bytes", "message_bytes"}`, answers
`{"op": "ready", "import_error", "out"}`, then for each `{"op": "run", "calls"}` sends
`{"op": "results", "results", "out"}` messages, in order, until every call has its result
(see FLUSH_AFTER_S for when a batch of results is sent). Meanwhile, the proxies of other steps'
functions (`proxies`: name -> is a generator function) send `{"op": "helper", ...}` requests
to the worker's own connection to the oracle (a second fd) and wait for their answers (see
`proxy`). No reference code ever reaches a worker.
"""

from __future__ import annotations

import argparse
import functools
import gc
import io
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
import traceback
import types
from dataclasses import dataclass, replace
from typing import Any

import torch

from grader.sandbox import isolation, proxy, rehearsal, wire
from grader.sandbox.protocol import Result, exact_float32, execute, seed_global_states, tensors_in

WORK_DIR = "/tmp"


def _tmp_dir(job: int) -> str:
    return os.path.join(WORK_DIR, f"sgd-worker-{os.getpid()}-{job}")


class CappedWriter(io.TextIOBase):
    """A text stream that keeps the first `cap` bytes written to it and drops the rest."""

    def __init__(self, cap: int) -> None:
        self.cap, self.size, self.parts, self.truncated = cap, 0, [], False

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        if self.size < self.cap:
            data = s.encode("utf-8", "replace")[: self.cap - self.size]
            self.size += len(data)
            self.parts.append(data.decode("utf-8", "ignore"))
        if self.size >= self.cap and len(s) and not self.truncated:
            self.truncated = True
            self.parts.append("\n[output truncated]\n")
        return len(s)

    def take(self) -> str:
        """The text kept since the last `take`."""
        text, self.parts = "".join(self.parts), []
        return text


@dataclass
class _Job:
    pid: int
    uid: int | None
    tmp: str
    killed: bool = False


class Zygote:
    """Forks workers on request and cleans up after them."""

    def __init__(self, ctl: socket.socket, plan: isolation.Plan) -> None:
        self.ctl, self.plan = ctl, plan
        self.namespaces = 0
        """The namespaces each worker gets of its own (see `isolation.probe_worker_namespaces`)."""
        self.jobs: dict[int, _Job] = {}
        self.killer = (
            subprocess.Popen(
                [sys.executable, "-S", "-m", "grader.sandbox.isolation"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            if plan.root
            else None
        )
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(self.wake_w)

    def send(self, message: dict) -> None:
        self.ctl.send(wire.encode(message))

    def serve(self) -> None:
        """Handle requests until the trusted side closes the control socket; then kill all."""
        while True:
            ready = select.select([self.ctl, self.wake_r], [], [], 1.0)[0]
            if self.wake_r in ready:
                os.read(self.wake_r, 4096)
            self.reap()
            if self.ctl in ready:
                data, fds, _, _ = socket.recv_fds(self.ctl, 1 << 16, 2)
                if not data:
                    break
                self.handle(wire.decode(data), fds)
        for job in list(self.jobs):
            self.kill(job)
        while self.jobs:
            self.reap(block=True)

    def handle(self, message: Any, fds: list[int]) -> None:
        if message.get("op") == "spawn" and len(fds) in (1, 2):
            self.spawn(message["job"], fds, message["uid"], isolation.WorkerLimits(**message["limits"]))
        elif message.get("op") == "kill" and not fds:
            if message["job"] in self.jobs and self.kill(message["job"]):
                self.send({"op": "killed", "job": message["job"]})  # "exited" follows once it is reaped
        else:
            raise SystemExit(f"zygote: unexpected control message {message!r}")

    def spawn(self, job: int, fds: list[int], uid: int | None, limits: isolation.WorkerLimits) -> None:
        """Fork a worker on `fds`: its socket to the trusted side, and maybe one to the oracle."""
        tmp = _tmp_dir(job)
        pid = isolation.fork_worker(self.namespaces)
        if pid == 0:
            code = 70
            try:
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                for f in (self.ctl.fileno(), self.wake_r, self.wake_w) + (
                    (self.killer.stdin.fileno(), self.killer.stdout.fileno()) if self.killer else ()
                ):
                    os.close(f)
                sockets = [socket.socket(fileno=fd) for fd in fds]
                if self.namespaces:
                    isolation.enter_own_namespaces()
                    limits = replace(
                        limits, memory_bytes=limits.memory_bytes - isolation.TMP_BYTES - isolation.SHM_BYTES
                    )
                code = _worker(sockets[0], sockets[1] if len(sockets) > 1 else None, self.plan, uid, limits, tmp)
            except BaseException:  # noqa: BLE001 - a worker must never return into the zygote's loop
                traceback.print_exc()  # to the zygote's stderr until the worker redirects fd 2
            finally:
                os._exit(code)
        for fd in fds:
            os.close(fd)
        self.jobs[job] = _Job(pid, uid, tmp)

    def reap(self, *, block: bool = False) -> None:
        """Collect exited children; a worker's exit ends its job."""
        while True:
            try:
                pid, status = os.waitpid(-1, 0 if block else os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            for job, info in list(self.jobs.items()):
                if info.pid == pid:
                    self.finish(job, status)
            if block:
                return

    def kill(self, job: int) -> bool:
        """Kill a job's worker and everything it started (the job ends once the worker is reaped).
        True when every process of the job got its SIGKILL now (kill(-1) as its uid): none runs again."""
        info = self.jobs[job]
        info.killed = True
        if info.uid is None:
            _kill(info.pid)
            return False
        self.kill_uid(info)
        return self.killer is not None

    def kill_uid(self, info: _Job) -> None:
        if info.uid is not None and self.killer:
            self.killer.stdin.write(f"{info.uid}\n")
            self.killer.stdin.flush()
            self.killer.stdout.readline()
        else:
            _kill(-info.pid)

    def finish(self, job: int, status: int) -> None:
        """After a worker exited: kill what it left behind, remove its files, report it."""
        info = self.jobs.pop(job)
        if not (info.killed and info.uid is not None):
            self.kill_uid(info)
        self.sweep()
        shutil.rmtree(info.tmp, ignore_errors=True)
        self.send({"op": "exited", "job": job, "status": "killed" if info.killed else _describe(status)})

    def sweep(self) -> None:
        """Kill orphans: processes reparented to the zygote (a subreaper) that are not workers."""
        if not isolation.LINUX:
            return
        keep = {info.pid for info in self.jobs.values()} | ({self.killer.pid} if self.killer else set())
        for _ in range(1000):
            orphans = [p for p, parent in _process_parents().items() if parent == os.getpid() and p not in keep]
            if not orphans:
                return
            for p in orphans:
                _kill(p)
            time.sleep(0.001)
            for p in orphans:
                try:
                    os.waitpid(p, os.WNOHANG)
                except ChildProcessError:
                    pass


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = "?"
        return f"killed by signal {sig} ({name})"
    return f"exit code {os.waitstatus_to_exitcode(status)}"


def _process_parents() -> dict[int, int]:
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    return parents


def _worker(
    sock: socket.socket,
    oracle: socket.socket | None,
    plan: isolation.Plan,
    uid: int | None,
    limits: isolation.WorkerLimits,
    tmp: str,
) -> int:
    """Run one job in this freshly forked process; returns the exit code."""
    os.setsid()
    os.mkdir(tmp, 0o700)
    if uid is not None:
        os.chown(tmp, uid, uid)
    try:
        isolation.confine_worker(plan, uid, limits)
    except (isolation.IsolationError, OSError) as exc:
        _send(sock, {"op": "ready", "import_error": f"the sandbox could not be set up: {exc}", "out": ""})
        return 71
    torch.set_num_threads(1)
    exact_float32()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    os.chdir(tmp)
    os.environ.update(HOME=tmp, TMPDIR=tmp)
    sys.path[:] = [p for p in sys.path if p.startswith((sys.base_prefix, sys.prefix))]
    job = wire.decode(wire.recv_frame(sock))
    out = CappedWriter(job["output_bytes"])
    sys.stdout = sys.stderr = out
    sealed = rehearsal.Sealed()
    ask = functools.partial(_ask, oracle, job["message_bytes"], sealed)
    proxies = proxy.make_proxies(job["proxies"], ask) if oracle else {}
    namespace, import_error = _load(job["source"], proxies, tmp)
    _send(sock, {"op": "ready", "import_error": import_error, "out": out.take()})
    while True:
        try:
            request = wire.decode(wire.recv_frame(sock))
        except EOFError:
            return 0
        if import_error is not None:
            continue
        sealed.load(request.get("answers"))
        generators: dict[str, torch.Generator] = {}
        pending: list[Result] = []
        oldest, size = 0.0, 0
        for call in request["calls"]:
            if pending and (time.monotonic() - oldest > FLUSH_AFTER_S or size > FLUSH_BYTES):
                _send_results(sock, pending, out.take(), job["message_bytes"])
                pending, size = [], 0
            if not pending:
                oldest = time.monotonic()
            done = execute(namespace, [call], generators)
            pending += done
            size += _payload_bytes(done)
        _send_results(sock, pending, out.take(), job["message_bytes"])


def _load(source: str, proxies: dict[str, Any], tmp: str) -> tuple[dict[str, Any], str | None]:
    """Import the submission as module `sgd`, then put the proxies in it."""
    path = os.path.join(tmp, "sgd.py")
    module = types.ModuleType("sgd")
    module.__file__ = path
    sys.modules["sgd"] = module
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(source)
        seed_global_states()
        exec(compile(source, path, "exec"), module.__dict__)
    except SyntaxError as exc:
        return {}, f"SyntaxError: {exc.msg} (sgd.py, line {exc.lineno})"
    except BaseException as exc:  # noqa: BLE001 - student code may raise anything at import
        return {}, _describe_exception(exc, path)
    module.__dict__.update(proxies)
    return module.__dict__, None


def _ask(sock: socket.socket, max_bytes: int, sealed: rehearsal.Sealed, request: dict) -> dict:
    """A proxy's answer: from the batch's sealed answers, else a round trip to the oracle."""
    frame = wire.encode(request, max_bytes=max_bytes)
    reply = sealed.open(frame)
    if reply is None:
        wire.send_frame(sock, frame)
        reply = wire.recv_frame(sock, max_bytes=max_bytes)
    answer = wire.decode(reply, max_bytes=max_bytes)
    if not isinstance(answer, dict) or answer.get("op") != "answer":
        raise RuntimeError("the grader sent no answer")
    return answer


def _describe_exception(exc: BaseException, path: str) -> str:
    line = next((f.lineno for f in reversed(traceback.extract_tb(exc.__traceback__)) if f.filename == path), None)
    where = f" (sgd.py, line {line})" if line else ""
    return f"{type(exc).__name__}: {str(exc)[:300]}{where}"


FLUSH_AFTER_S = 0.005
FLUSH_BYTES = 1 << 20
"""Results travel in batches: one is sent before the next call once the oldest waiting
result is FLUSH_AFTER_S old (or the batch holds FLUSH_BYTES), so a hanging call still
leaves its check a timeout within one call's limit, and fast calls share one message."""


def _payload_bytes(results: list[Result]) -> int:
    return sum(t.numel() * t.element_size() for r in results for t in tensors_in(r.value))


def _send_results(sock: socket.socket, results: list[Result], text: str, max_bytes: int) -> None:
    """Send a batch of results with the output `text` printed meanwhile; if the batch will not
    go as one message, send them one by one, so only a result that cannot travel becomes a
    WireError."""
    try:
        payload = wire.encode({"op": "results", "results": results, "out": text}, max_bytes=max_bytes)
    except Exception:  # noqa: BLE001 - a value the wire refuses, or a student-broken torch
        if len(results) > 1:
            for i, result in enumerate(results):
                _send_results(sock, [result], "" if i else text, max_bytes)
            return
        failed = Result(error_type="WireError", error="the result could not be sent")
        try:
            wire.encode(results[0].value, max_bytes=max_bytes)
        except Exception as exc:  # noqa: BLE001
            failed.error = f"the result could not be sent: {str(exc)[:300]}"
        payload = wire.encode({"op": "results", "results": [failed], "out": text})
    wire.send_frame(sock, payload)


def _send(sock: socket.socket, message: dict) -> None:
    wire.send_frame(sock, wire.encode(message))


def main() -> None:
    """Entry point of the zygote."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--plan", required=True)
    parser.add_argument("--preload-optim", action="store_true")
    args = parser.parse_args()
    fields = json.loads(args.plan)
    plan = isolation.Plan(fields["bwrap"], fields["root"], fields["seccomp"], tuple(fields["hidden"]))
    ctl = socket.socket(fileno=args.fd)
    if isolation.LINUX:
        isolation.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL)
    os.chdir(WORK_DIR)
    sys.path[:] = [p for p in sys.path if p and os.path.isabs(p)]
    zygote = Zygote(ctl, plan)
    extra = isolation.confine_zygote(plan)
    if args.preload_optim:
        torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)  # imports torch._dynamo, once for all workers
    seed_global_states()  # numpy.random and torch's seeding imported here, not in each worker (up to 12 ms each)
    zygote.namespaces = isolation.probe_worker_namespaces(plan)
    extra += isolation.WORKER_LAYERS if zygote.namespaces else []
    zygote.send({"op": "hello", "layers": plan.layers + [x for x in extra if x not in plan.layers]})
    gc.freeze()  # fewer copy-on-write page copies in forked workers
    zygote.serve()
    sys.stderr.flush()
    os._exit(0)  # every worker is reaped: skip the interpreter's teardown of torch (0.1 to 0.3 s)


if __name__ == "__main__":
    main()
