"""The answers to a worker's proxies (see `proxy`): a reference process.

The reference functions never enter a worker. Each worker that checks a step gets its own
connection to this process, forked from the trusted side before any worker asks, which never
runs student code: it reads a request, checks it (a function of another step, well-formed),
runs the reference under an address-space limit, and answers `{"op": "answer", "value",
"states", "error_type", "error"}`. Arguments are hostile data: a request such as
`exponential_decay(2, 2, 10**9)` or a broadcast to 10^12 elements costs only this process,
which the client kills (and forks anew) when it is still busy once the worker that asked is gone.
"""

from __future__ import annotations

import collections.abc
import os
import select
import signal
import socket
import time
from collections.abc import Callable, Mapping
from typing import Any

import torch

from grader.sandbox import isolation, wire
from grader.sandbox.protocol import MAX_ITEMS, GenState, exact_float32, replace_tensors, tensors_in

Helpers = Callable[[str], Mapping[str, Callable]]
"""`helpers(step)`: the functions that stand in for a submission's other steps while `step` is checked."""

EXTRA_ADDRESS_SPACE = 4 * 2**30
"""How much more address space than the trusted side had when it forked the reference process may map."""
IDLE_TIMEOUT_S = 0.5
"""When a worker ends, the reference process must answer within this time, or it is killed: a
request of that worker may keep it busy, and the next worker must not wait for it."""
FRAME_TIMEOUT_S = 5.0
"""A request or answer that has begun must be through within this time, or its connection is dropped."""


class Oracle:
    """A reference process, forked on first use, serving one connection per worker."""

    def __init__(self, helpers: Helpers, max_bytes: int = wire.MAX_MESSAGE_BYTES) -> None:
        self.helpers, self.max_bytes = helpers, max_bytes
        self.pid: int | None = None
        self.ctl: socket.socket | None = None

    def connect(self, step: str) -> socket.socket:
        """A new connection answering with `helpers(step)`: the worker's end of it."""
        if self.pid is not None and os.waitpid(self.pid, os.WNOHANG)[0]:
            self.pid = None  # it died (a request crashed it): fork a new one
            self.close()
        if self.ctl is None:
            self._fork()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            socket.send_fds(self.ctl, [step.encode()], [ours.fileno()])
        except OSError:
            theirs.close()
            self.close()
            raise
        finally:
            ours.close()
        return theirs

    def idle(self, timeout_s: float = IDLE_TIMEOUT_S) -> bool:
        """Whether the reference process answers at once (it is not busy with a request)."""
        if self.ctl is None:
            return True
        try:
            self.ctl.send(b"?")
            if select.select([self.ctl], [], [], timeout_s)[0] and self.ctl.recv(16) == b"!":
                return True
        except OSError:
            pass
        return False

    def close(self) -> None:
        """Kill the reference process (a later `connect` forks a new one)."""
        if self.ctl is not None:
            self.ctl.close()
            self.ctl = None
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            self.pid = None

    def _fork(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                ours.close()
                _serve(theirs, self.helpers, self.max_bytes, parent)
                code = 0
            finally:
                os._exit(code)
        theirs.close()
        self.pid, self.ctl = pid, ours


def _serve(ctl: socket.socket, helpers: Helpers, max_bytes: int, parent: int) -> None:
    if isolation.LINUX:
        isolation.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the trusted side died before the line above
        return
    _limit_address_space()
    os.closerange(3, ctl.fileno())
    os.closerange(ctl.fileno() + 1, 1 << 16)
    torch.set_num_threads(1)
    exact_float32()  # as in a worker
    connections: dict[socket.socket, str] = {}
    while True:
        for sock in select.select([ctl, *connections], [], [])[0]:
            if sock is ctl:
                data, fds, _, _ = socket.recv_fds(ctl, 256, 1)
                if not data:
                    return
                if data == b"?":
                    ctl.send(b"!")
                    continue
                connections.update({socket.socket(fileno=fd): data.decode() for fd in fds})
            elif not _serve_one(sock, helpers(connections[sock]), max_bytes):
                del connections[sock]
                sock.close()


def _serve_one(sock: socket.socket, functions: Mapping[str, Callable], max_bytes: int) -> bool:
    """Answer one request on `sock`; False when the connection is done for."""
    try:
        frame = wire.recv_frame(sock, deadline=time.monotonic() + FRAME_TIMEOUT_S, max_bytes=max_bytes)
        if _closed(sock):  # its worker is gone: nobody waits for this answer
            return False
        wire.send_frame(sock, respond(functions, frame, max_bytes), deadline=time.monotonic() + FRAME_TIMEOUT_S)
    except (EOFError, OSError, TimeoutError, wire.WireError):
        return False
    return True


def _closed(sock: socket.socket) -> bool:
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False


def respond(functions: Mapping[str, Callable], frame: bytes, max_bytes: int = wire.MAX_MESSAGE_BYTES) -> bytes:
    """The encoded answer to one encoded request."""
    try:
        request = wire.decode(frame, max_bytes=max_bytes)
    except wire.WireError as exc:
        return wire.encode(_error(exc))
    problem = _problem(request, functions)
    reply = _error(RuntimeError(problem)) if problem else answer(functions, request)
    try:
        return wire.encode(reply, max_bytes=max_bytes)
    except Exception as exc:  # noqa: BLE001 - a value the wire refuses
        return wire.encode(_error(exc if isinstance(exc, wire.WireError) else wire.WireError(str(exc))))


def _problem(request: Any, functions: Mapping[str, Callable]) -> str | None:
    """Why a request is refused, or None."""
    if not isinstance(request, dict) or request.get("op") != "helper":
        return "malformed helper request"
    fn, grads, need = request.get("fn"), request.get("grads"), request.get("need")
    if not isinstance(fn, str) or fn not in functions:
        return f"there is no helper function {str(fn)[:40]!r} while this step is checked"
    if not (isinstance(request.get("args"), tuple) and isinstance(request.get("kwargs"), dict)):
        return "malformed helper request"
    if grads is None and need is None:
        return None
    if not (isinstance(grads, list) and isinstance(need, list) and all(isinstance(n, bool) for n in need)):
        return "malformed gradient request"
    return None


def _limit_address_space() -> None:
    try:
        import resource

        with open("/proc/self/status") as f:
            size = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
        resource.setrlimit(resource.RLIMIT_AS, (size + EXTRA_ADDRESS_SPACE, size + EXTRA_ADDRESS_SPACE))
    except (ImportError, OSError, StopIteration, ValueError):
        pass


def answer(functions: Mapping[str, Callable], request: dict) -> dict:
    """Run one request (already checked by the client) with `functions`; never raises."""
    try:
        fn = functions[request["fn"]]
        if request.get("grads") is not None:
            return {"op": "answer", "value": _vjp(fn, request), "states": [], "error_type": None, "error": None}
        generators: list[torch.Generator] = []
        args = _inbound(request["args"], generators)
        kwargs = _inbound(request["kwargs"], generators)
        value = _materialise(fn(*args, **kwargs))
        states = [g.get_state() for g in generators]
        return {"op": "answer", "value": value, "states": states, "error_type": None, "error": None}
    except Exception as exc:  # noqa: BLE001 - the student's arguments may make the reference raise anything
        return _error(exc)


def _error(exc: BaseException) -> dict:
    lines = str(exc).strip().splitlines()
    message = lines[0][:300] if lines else ""
    return {"op": "answer", "value": None, "states": [], "error_type": type(exc).__name__, "error": message}


def _inbound(value: Any, generators: list[torch.Generator]) -> Any:
    if isinstance(value, GenState):
        generator = torch.Generator(device=value.device)
        generator.set_state(value.state)
        generators.append(generator)
        return generator
    if isinstance(value, (list, tuple)):
        items = [_inbound(v, generators) for v in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, dict):
        return {k: _inbound(v, generators) for k, v in value.items()}
    return value


def _materialise(value: Any) -> Any:
    """Iterators become lists (at most MAX_ITEMS items), so the answer is plain data."""
    if isinstance(value, (list, tuple)):
        items = [_materialise(v) for v in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, collections.abc.Iterator):
        items = []
        for item in value:
            if len(items) >= MAX_ITEMS:
                break
            items.append(_materialise(item))
        return items
    return value


def _vjp(fn: Callable, request: dict) -> list:
    """The gradients of the inputs that `need` one, given the gradients of the outputs."""
    args, kwargs = _inbound((request["args"], request["kwargs"]), [])
    leaves, need = tensors_in((args, kwargs)), request["need"]
    if not isinstance(need, list) or len(leaves) != len(need):
        raise ValueError("gradient request does not match the call's tensors")
    inputs = [t.detach().requires_grad_(bool(n) and t.is_floating_point()) for t, n in zip(leaves, need)]
    args, kwargs = replace_tensors((args, kwargs), iter(inputs))
    with torch.enable_grad():
        outputs = tensors_in(_materialise(fn(*args, **kwargs)))
        pairs = [(o, g) for o, g in zip(outputs, request["grads"]) if o.requires_grad and isinstance(g, torch.Tensor)]
        wanted = [t for t in inputs if t.requires_grad]
        grads = []
        if pairs and wanted:
            grads = torch.autograd.grad([o for o, _ in pairs], wanted, [g for _, g in pairs], allow_unused=True)
    by_input = dict(zip(map(id, wanted), grads))
    return [by_input.get(id(t)) for t in inputs]
