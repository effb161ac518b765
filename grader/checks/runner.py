"""Running a check against a submission: every example in lockstep, then a shrink of the first failure.

The runner drives every example of a check together, so each round is one batch (one round
trip to a sandboxed worker). Examples come from the example store (hypothesis, recorded once
with a fixed seed); when one fails, hypothesis searches again call by call and shrinks to a
minimal counterexample for the feedback.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import Any

from hypothesis import given, seed

from grader import DEFAULT_SEED
from grader.checks.example_store import hypothesis_settings, recorded_examples, to_device
from grader.checks.expect import value_of
from grader.checks.model import Check, Failure, NotImplementedYet, Outcome, Raw, Unrecoverable
from grader.sandbox.protocol import Call, Submission, exact_float32
from grader.text import quoted


def _advance(gen: Generator, values: Any) -> list[Call] | None:
    try:
        return gen.send(values)
    except StopIteration:
        return None
    except Failure:
        raise
    except Exception as exc:  # noqa: BLE001 - a returned value of an unexpected kind
        raise Failure(f"the returned value could not be judged ({type(exc).__name__}: {quoted(exc)})") from exc


def _drive(bodies: list[Generator], submission: Submission, judging: str | None) -> list[Failure | None]:
    """Run many examples of one check in lockstep: one `submission.run` per round."""
    verdicts: list[Failure | None] = [None] * len(bodies)
    pending = {}
    for i, gen in enumerate(bodies):
        try:
            calls = _advance(gen, None)
        except Failure as failure:
            verdicts[i] = failure
            continue
        if calls is not None:
            pending[i] = calls
    while pending:
        flat = [c for calls in pending.values() for c in calls]
        results = submission.run(flat, judging=judging)
        position = 0
        next_pending = {}
        for i, calls in pending.items():
            mine = results[position : position + len(calls)]
            position += len(calls)
            try:
                if isinstance(calls, Raw):
                    values: Any = mine
                else:
                    values = [value_of(c, r) for c, r in zip(calls, mine)]
                more = _advance(bodies[i], values)
            except Failure as failure:
                verdicts[i] = failure
                bodies[i].close()
                continue
            if more is not None:
                next_pending[i] = more
        pending = next_pending
    return verdicts


def _shrink(
    check_: Check, submission: Submission, judging: str | None, seed_: int, device: str, budget_s: float
) -> Failure | None:
    """Search call by call with hypothesis and return the minimal failure it finds."""
    deadline = time.monotonic() + budget_s
    best: list[Failure] = []

    @seed(seed_)
    @hypothesis_settings(check_.max_examples)
    @given(check_.examples)
    def probe(example: Any) -> None:
        if time.monotonic() > deadline:
            return
        (verdict,) = _drive([check_.body(to_device(example, device))], submission, judging)
        if verdict is not None and not isinstance(verdict, Unrecoverable):
            best.append(verdict)
            raise verdict

    try:
        probe()
    except Exception:  # noqa: BLE001, S110 - the Failure itself, or hypothesis' Flaky once out of budget
        pass
    return best[-1] if best else None


def run_check(
    check_: Check,
    submission: Submission,
    *,
    isolate: bool = True,
    seed_: int = DEFAULT_SEED,
    device: str = "cpu",
    shrink_budget_s: float = 3.0,
) -> Outcome:
    """Judge one check. With `isolate`, the other steps' functions are the reference ones."""
    start = time.perf_counter()
    if device.startswith("cuda"):
        exact_float32()  # no TF32 in float32 submissions run in-process
    step = check_.step if isolate else None
    examples = [to_device(e, device) for e in recorded_examples(check_, seed_)]
    verdicts = _drive([check_.body(e) for e in examples], submission, step)
    first = next((v for v in verdicts if v is not None), None)
    if first is not None and check_.examples is not None and not isinstance(first, (Unrecoverable, NotImplementedYet)):
        smaller = _shrink(check_, submission, step, seed_, device, shrink_budget_s)
        if smaller is not None:
            if smaller.diagnosis is None:  # a tiny example can hide which mistake it is
                smaller.diagnosis, smaller.hint = first.diagnosis, first.hint
            first = smaller
    outcome = Outcome(check=check_, passed=first is None)
    if first is not None:
        outcome.message = first.message
        outcome.diagnosis = first.diagnosis
        outcome.hint = first.hint
        outcome.not_implemented = isinstance(first, NotImplementedYet)
    outcome.seconds = time.perf_counter() - start
    return outcome
