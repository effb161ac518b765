"""Running a check against a submission: every example in lockstep, then a shrink of the first failure.

The runner drives every example of a check together, so each round is one batch (one round
trip to a sandboxed worker). Examples come from the example store (hypothesis, recorded once
with a fixed seed); when one fails, hypothesis searches again call by call and shrinks to a
minimal counterexample that still shows the mistake all the examples point to (`checks.diagnosis`).
"""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import Any

from hypothesis import given, seed

from grader import DEFAULT_SEED
from grader.checks import rules
from grader.checks.diagnosis import Record, diagnose, recording, shown
from grader.checks.example_store import hypothesis_settings, recorded_examples, to_device
from grader.checks.expect import value_of
from grader.checks.model import DIAGNOSES, Check, Failure, NotImplementedYet, Outcome, Raw, Unrecoverable
from grader.sandbox.protocol import Call, Submission, exact_float32
from grader.text import quoted


def _advance(gen: Generator, values: Any, record: Record) -> list[Call] | None:
    try:
        with recording(record):
            return gen.send(values)
    except StopIteration:
        return None
    except Failure:
        raise
    except Exception as exc:  # noqa: BLE001 - a returned value of an unexpected kind
        raise Failure(f"the returned value could not be judged ({type(exc).__name__}: {quoted(exc)})") from exc


def _step(gen: Generator, values: Any, record: Record) -> list[Call] | None:
    """Advance one example's body; a `Failure` ends it and is kept in its record."""
    try:
        return _advance(gen, values, record)
    except Failure as failure:
        record.failure = failure
        gen.close()
        return None


def drive(bodies: list[Generator], submission: Submission, judging: str | None) -> list[Record]:
    """Run many examples of one check in lockstep (one `submission.run` per round); one record each."""
    records = [Record() for _ in bodies]
    pending = {i: calls for i, gen in enumerate(bodies) if (calls := _step(gen, None, records[i])) is not None}
    while pending:
        results = submission.run([c for calls in pending.values() for c in calls], judging=judging)
        position, next_pending = 0, {}
        for i, calls in pending.items():
            mine = results[position : position + len(calls)]
            position += len(calls)
            if isinstance(calls, Raw):
                records[i].apis |= {(c.fn, api) for c, r in zip(calls, mine) for api in r.apis}
            try:
                values: Any = mine if isinstance(calls, Raw) else [value_of(c, r) for c, r in zip(calls, mine)]
            except Failure as failure:
                records[i].failure = failure
                bodies[i].close()
                continue
            if (more := _step(bodies[i], values, records[i])) is not None:
                next_pending[i] = more
        pending = next_pending
    return records


def _shrink(
    check_: Check,
    submission: Submission,
    judging: str | None,
    seed_: int,
    device: str,
    budget_s: float,
    keep: str | None,
) -> tuple[list[Record], Record | None]:
    """Search call by call with hypothesis for a minimal failure that still singles out the mistake
    `keep` (any failure when None). Returns every record the search made, and the minimal one."""
    deadline = time.monotonic() + budget_s
    seen: list[Record] = []
    best: list[Record] = []

    @seed(seed_)
    @hypothesis_settings(check_.max_examples)
    @given(check_.examples)
    def probe(example: Any) -> None:
        if time.monotonic() > deadline:
            return
        (record,) = drive([check_.body(to_device(example, device))], submission, judging)
        seen.append(record)
        failure = record.failure
        if failure is None or isinstance(failure, Unrecoverable) or not (keep is None or record.singles_out(keep)):
            return
        best.append(record)
        raise failure

    try:
        probe()
    except Exception:  # noqa: BLE001, S110 - the Failure itself, or hypothesis' Flaky once out of budget
        pass
    return seen, (best[-1] if best else None)


def _judge(check_: Check, submission: Submission, judging: str | None, seed_: int, device: str, budget_s: float):
    """(the failure to show, the diagnosis every example supports, every record) for one check."""
    examples = [to_device(e, device) for e in recorded_examples(check_, seed_)]
    records = drive([check_.body(e) for e in examples], submission, judging)
    first = next((r for r in records if r.failure is not None), None)
    if first is None:
        return None, None, records
    if check_.examples is None or isinstance(first.failure, (Unrecoverable, NotImplementedYet)):
        return first.failure, diagnose(records), records
    likely = diagnose(records)
    probes, smallest = _shrink(check_, submission, judging, seed_, device, budget_s, likely)
    records += probes
    mistake = diagnose(records)
    return shown(records, mistake, smallest or first).failure, mistake, records


def _hint(check_: Check, failure: Failure, mistake: str | None) -> str | None:
    """What the student is told about `mistake`: the failure's own words for it, else the registered ones."""
    if mistake is None:
        return None
    if failure.diagnosis == mistake and failure.hint:
        return failure.hint
    return DIAGNOSES[check_.step][mistake]


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
    if check_.rule is not None:
        source = getattr(submission, "source", None)
        import_error = getattr(submission, "import_error", None) or getattr(submission, "reason", None)
        outcome = rules.judge(check_, source, import_error)
        outcome.seconds = time.perf_counter() - start
        return outcome
    if device.startswith("cuda"):
        exact_float32()  # no TF32 in float32 submissions run in-process
    judging = check_.step if isolate else None
    failure, mistake, records = _judge(check_, submission, judging, seed_, device, shrink_budget_s)
    outcome = Outcome(check=check_, passed=failure is None, apis=sorted({a for r in records for a in r.apis}))
    if failure is not None:
        outcome.message = failure.message + (_ratio_note(records) if mistake is None else "")
        outcome.diagnosis = mistake
        outcome.hint = _hint(check_, failure, mistake)
        outcome.not_implemented = isinstance(failure, NotImplementedYet)
    outcome.seconds = time.perf_counter() - start
    return outcome


def _ratio_note(records: list[Record]) -> str:
    """When the answers were a multiple of the right ones, but not the same multiple everywhere, say so."""
    ratios = {f"{r.failure.ratio:.3g}" for r in records if r.failure is not None and r.failure.ratio is not None}
    return " The ratio is not the same on every input, so it is not a constant factor." if len(ratios) > 1 else ""
