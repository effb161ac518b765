"""Answers prepared in advance, sealed so that only the request they answer opens them.

While `train` is checked, a submission asks the reference process about two thousand small
questions (`mse_grad` on this batch, `momentum_step` from these weights): one round trip of a
few hundred microseconds each. The trusted side can foresee nearly all of them: a correct
submission asks what the reference asks. So before a batch of calls goes to a worker, the
trusted side *rehearses* it: it runs the reference of the checked step on the same calls, with
its calls to other steps going through the same proxies as in a worker (`proxy`), and records
each request's exact wire bytes with the encoded answer (`oracle.respond`).

The worker gets these answers sealed: an answer is XORed with a SHAKE-256 keystream whose key
is a keyed BLAKE2b hash of its request's bytes, and filed under a hash of that key. A proxy
hashes the request it is about to send; when the table has it, it opens the answer and sends
nothing. So a worker can open an answer only by making exactly the request it answers, which
it could ask the reference process anyway: the table tells it nothing more, and holds no
reference source, code or object. Any other request goes to the reference process as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import itertools
import os
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import torch

from grader.sandbox import oracle, proxy, wire
from grader.sandbox.protocol import Call, exact_float32, execute, global_names

SALT_BYTES = 16
ID_BYTES = 16
MAX_ENTRIES = 1 << 16
"""The most answers one batch of calls may carry."""


def rehearse(
    own: Mapping[str, Callable], helpers: Mapping[str, Callable], calls: Sequence[Call], max_bytes: int
) -> dict[bytes, bytes]:
    """The requests (exact wire bytes) that the reference functions `own` make of `helpers`
    while running `calls` as a worker would, each with its encoded answer."""
    recorded: dict[bytes, bytes] = {}
    if not asks_others(own, helpers, calls):
        return recorded

    def ask(request: dict) -> dict:
        frame = wire.encode(request, max_bytes=max_bytes)
        reply = oracle.respond(helpers, frame, max_bytes)
        if len(recorded) < MAX_ENTRIES:
            recorded[frame] = reply
        return wire.decode(reply, max_bytes=max_bytes)

    proxies = proxy.make_proxies({name: inspect.isgeneratorfunction(fn) for name, fn in helpers.items()}, ask)
    namespace = {**proxies, **_rebound(own, proxies)}  # as in a worker: a call to another step goes to its proxy
    as_sent = wire.decode(wire.encode(list(calls), max_bytes=max_bytes), max_bytes=max_bytes)  # as a worker gets them
    with _as_in_a_worker():
        execute(namespace, as_sent, {})
    return recorded


Rehearsed = Callable[[str], Mapping[bytes, bytes] | None]
"""A lookup of rehearsals recorded beforehand, by `batch_key`."""


def batch_key(step: str, calls: bytes) -> str:
    """The key of one batch's rehearsal: its step and its calls' exact wire bytes."""
    return hashlib.sha256(step.encode() + b"\0" + calls).hexdigest()


def pack(answers: Mapping[bytes, bytes]) -> dict:
    """A rehearsal as wire data (to be stored with the examples)."""
    return {
        "requests": _tensor(b"".join(answers)),
        "request_sizes": torch.tensor([len(r) for r in answers], dtype=torch.int64),
        "answers": _tensor(b"".join(answers.values())),
        "answer_sizes": torch.tensor([len(a) for a in answers.values()], dtype=torch.int64),
    }


def unpack(packed: dict) -> dict[bytes, bytes]:
    """The rehearsal that `pack` made."""
    requests = _split(packed["requests"].numpy().tobytes(), packed["request_sizes"].tolist())
    return dict(zip(requests, _split(packed["answers"].numpy().tobytes(), packed["answer_sizes"].tolist())))


def _split(blob: bytes, sizes: list[int]) -> list[bytes]:
    ends = list(itertools.accumulate(sizes))
    return [blob[end - size : end] for end, size in zip(ends, sizes)]


def asks_others(own: Mapping[str, Callable], helpers: Mapping[str, Callable], calls: Sequence[Call] = ()) -> bool:
    """Whether the functions `own`, or `calls` themselves, name any of `helpers` (else a rehearsal
    records nothing)."""
    names = {call.fn for call in calls}.union(*(global_names(fn.__code__) for fn in own.values()))
    return bool(set(helpers) & names)


def _rebound(own: Mapping[str, Callable], proxies: Mapping[str, Callable]) -> dict[str, Any]:
    """`own`'s functions with their global names of other steps bound to `proxies`."""
    namespace: dict[str, Any] = {}
    for name, fn in own.items():
        scope = {**fn.__globals__, **proxies}
        copy = types.FunctionType(fn.__code__, scope, fn.__name__, fn.__defaults__, fn.__closure__)
        copy.__kwdefaults__ = fn.__kwdefaults__
        namespace[name] = copy
    for fn in namespace.values():
        fn.__globals__.update(namespace)
    return namespace


@contextlib.contextmanager
def _as_in_a_worker() -> Iterator[None]:
    """Torch's settings as in a worker and the reference process, so answers match bit for bit."""
    threads, precision = torch.get_num_threads(), torch.get_float32_matmul_precision()
    torch.set_num_threads(1)
    exact_float32()
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        torch.set_float32_matmul_precision(precision)


def new_salt() -> bytes:
    return os.urandom(SALT_BYTES)


def seal(answers: Mapping[bytes, bytes], salt: bytes) -> dict:
    """The answers as wire data that only their requests open."""
    ids, sealed = [], []
    for request, answer in answers.items():
        key = _key(salt, request)
        ids.append(_id(key))
        sealed.append(_xor(answer, key))
    return {
        "salt": _tensor(salt),
        "ids": _tensor(b"".join(ids)),
        "sizes": torch.tensor([len(s) for s in sealed], dtype=torch.int64),
        "blob": _tensor(b"".join(sealed)),
    }


class Sealed:
    """Inside a worker: the sealed answers of the current batch of calls."""

    def __init__(self) -> None:
        self._salt, self._index, self._blob = b"", {}, b""

    def load(self, table: Any) -> None:
        """Take a batch's table (from `seal`); anything malformed leaves it empty."""
        self._salt, self._index, self._blob = b"", {}, b""
        try:
            salt, ids, blob = (bytes(table[k].numpy().tobytes()) for k in ("salt", "ids", "blob"))
            sizes = table["sizes"].tolist()
        except (TypeError, KeyError, AttributeError, RuntimeError):
            return
        if len(ids) != ID_BYTES * len(sizes) or sum(sizes) != len(blob) or len(sizes) > MAX_ENTRIES:
            return
        offset = 0
        for i, size in enumerate(sizes):
            self._index[ids[i * ID_BYTES : (i + 1) * ID_BYTES]] = (offset, size)
            offset += size
        self._salt, self._blob = salt, blob

    def open(self, request: bytes) -> bytes | None:
        """The answer to `request` (its exact wire bytes), if the batch brought it."""
        if not self._index:
            return None
        key = _key(self._salt, request)
        found = self._index.get(_id(key))
        if found is None:
            return None
        offset, size = found
        return _xor(self._blob[offset : offset + size], key)


def _key(salt: bytes, request: bytes) -> bytes:
    return hashlib.blake2b(request, key=salt, digest_size=32).digest()


def _id(key: bytes) -> bytes:
    return hashlib.blake2b(key, digest_size=ID_BYTES, person=b"sgd-answer-id").digest()


def _xor(data: bytes, key: bytes) -> bytes:
    stream = hashlib.shake_256(key).digest(len(data))
    return (int.from_bytes(data, "little") ^ int.from_bytes(stream, "little")).to_bytes(len(data), "little")


def _tensor(data: bytes) -> torch.Tensor:
    return torch.frombuffer(bytearray(data), dtype=torch.uint8) if data else torch.empty(0, dtype=torch.uint8)
