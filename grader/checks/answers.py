"""Expected answers, computed once: every oracle's answer on the recorded examples, stored with them.

An oracle (torch.optim's update, an lr_scheduler, autograd, lstsq, F.mse_loss, the reference) is a
pure function of its arguments. `@stored` names one; its answer is filed under a digest of that
name and the arguments' wire bytes (dtype, shape, device and every bit of each tensor). The example
store records the answers when it records the examples, by running the reference through every
check (`record`), and keeps them in the same file; a later call with the same arguments reads its
answer back (a fresh copy) instead of running the oracle. Any other arguments (a shrinking probe's,
values a submission returned) run the oracle itself, so an answer is looked up, never guessed.
"""

from __future__ import annotations

import collections
import functools
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch

from grader.sandbox import wire

ORACLES: dict[str, Callable] = {}
"""Every stored oracle, by name (`module.qualname`)."""
_table: dict[str, Any] = {}
"""digest → answer, as `install` was given them."""
_recorded: list[list] | None = None
computed: collections.Counter[str] = collections.Counter()
"""How many times each oracle ran (its answer not stored) in this process."""
_rehearsals: dict[str, dict] = {}
"""batch key → a rehearsal of the reference on that batch, packed (`sandbox.rehearsal.pack`)."""


def digest(name: str, args: tuple, kwargs: dict) -> str | None:
    """The key of one oracle call, or None when its arguments do not cross the wire."""
    try:
        data = wire.encode([name, list(args), kwargs])
    except wire.WireError:
        return None
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def stored(fn: Callable) -> Callable:
    """Answer from the store when it holds these arguments; else run `fn` (and record it while recording)."""
    name = f"{fn.__module__}.{fn.__qualname__}"
    ORACLES[name] = fn

    @functools.wraps(fn)
    def answer(*args: Any, **kwargs: Any) -> Any:
        key = digest(name, args, kwargs) if (_table or _recorded is not None) else None
        if key is not None and key in _table:
            return fresh(_table[key])
        computed[name] += 1
        value = fn(*args, **kwargs)
        if key is not None and _recorded is not None:
            _recorded.append([key, name, list(args), kwargs, fresh(value)])
        return value

    return answer


def fresh(value: Any) -> Any:
    """A copy whose tensors a caller may change without changing the stored answer."""
    if isinstance(value, torch.Tensor):
        return value.clone()
    if isinstance(value, (list, tuple)):
        return type(value)(fresh(v) for v in value)
    if isinstance(value, dict):
        return {k: fresh(v) for k, v in value.items()}
    return value


def install(entries: list[list], rehearsals: dict[str, dict]) -> None:
    """Answer from these stored entries ([digest, name, args, kwargs, answer] each) and rehearsals from now on."""
    _table.clear()
    _table.update({entry[0]: entry[4] for entry in entries})
    _rehearsals.clear()
    _rehearsals.update(rehearsals)


def rehearsed(key: str) -> dict[bytes, bytes] | None:
    """The stored rehearsal of the batch `key` (`rehearsal.batch_key`), for `Sandbox.submission`."""
    from grader.sandbox import rehearsal  # here: the student release has no sandbox but the wire

    packed = _rehearsals.get(key)
    return rehearsal.unpack(packed) if packed is not None else None


@contextmanager
def recording() -> Iterator[list[list]]:
    """Collect every oracle call made inside, as entries for `install`."""
    global _recorded
    _recorded, found = [], []
    try:
        yield found
    finally:
        found.extend({entry[0]: entry for entry in _recorded}.values())  # once each
        _recorded = None


class _Rehearsing:
    """The reference, in this process, that also rehearses each batch as a sandbox would."""

    def __init__(self, submission: Any, rehearsals: dict[str, dict]) -> None:
        self.submission, self.source, self.rehearsals = submission, submission.source, rehearsals

    def run(self, calls: list, *, judging: str | None = None) -> list:
        from grader import reference
        from grader.sandbox import rehearsal

        if judging is not None:
            own, helpers = reference.own(judging), reference.helpers(judging)
            if rehearsal.asks_others(own, helpers, calls):
                key = rehearsal.batch_key(judging, wire.encode(calls))
                found = rehearsal.rehearse(own, helpers, calls, wire.MAX_MESSAGE_BYTES)
                self.rehearsals[key] = rehearsal.pack(found)
        return self.submission.run(calls, judging=judging)


def record(examples: dict[str, tuple[Any, ...]]) -> tuple[list[list], dict[str, dict]]:
    """Every oracle answer and rehearsal the checks need when the reference answers their
    `examples` (check id → examples), and the significance tests' critical values; only those
    when the reference is not here (the student release)."""
    from grader import reference
    from grader.checks import significance

    rehearsals: dict[str, dict] = {}
    with recording() as found:
        for test in significance.TESTS:
            test.critical_value()
        if reference.available():
            _run_reference(examples, rehearsals)
    return found, rehearsals


def _run_reference(examples: dict[str, tuple[Any, ...]], rehearsals: dict[str, dict]) -> None:
    from grader import reference
    from grader.checks.example_store import to_device
    from grader.checks.model import checks_for
    from grader.checks.runner import drive
    from grader.reporters import plots
    from grader.submission import InProcessSubmission

    submission = _Rehearsing(InProcessSubmission(reference.reference(), reference.SOLUTION.read_text()), rehearsals)
    for check_ in checks_for():
        if check_.rule is None:
            bodies = [check_.body(to_device(e, "cpu")) for e in examples.get(check_.id, (None,))]
            drive(bodies, submission, check_.step)
    plots.collect(submission)
