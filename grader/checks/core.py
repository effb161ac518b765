"""How a check is written, and how it is run against a submission.

A check is a generator function over one example. It yields a list of `Call`s, gets
back the list of returned values, may yield again (for multi-step checks), and judges
by raising `Failure`. The runner drives every example of a check in lockstep, so each
round is one batch (one round trip to a sandboxed worker). Examples come from a
hypothesis strategy, recorded once with a fixed seed; when one fails, hypothesis
searches again call by call and shrinks to a minimal counterexample for the feedback.

    @check("mse", "equals torch.nn.functional.mse_loss", examples=pairs())
    def matches_mse_loss(ex):
        preds, targets = ex
        (got,) = yield [Call("mse", (preds, targets))]
        expect_close(got, F.mse_loss(preds, targets), ...)
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import time
from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from grader import DEFAULT_SEED
from grader.sandbox.protocol import Call, Gen, Result, Submission, Unsupported

CheckBody = Callable[[Any], Generator[list[Call], list[Any], None]]

MAX_MESSAGE_CHARS = 2000
"""The most characters of one check's output (message and hint): longer text is cut."""
MAX_QUOTE_CHARS = 300
"""The most characters of a string from the submission quoted inside a message (its error, …)."""
TRUNCATED = "… (truncated)"
"""Ends text that was cut to its bound."""
FMT_DEPTH = 3
"""`fmt` shows nested lists and dicts this deep; deeper ones only as their length."""


def bounded(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """`text`, cut to at most `limit` characters and then marked as truncated."""
    if len(text) <= limit:
        return text
    return text[: max(limit - len(TRUNCATED), 0)] + TRUNCATED


def quoted(text: object, limit: int = MAX_QUOTE_CHARS) -> str:
    """Untrusted text (an error message, a type name) short enough to quote in a message."""
    return bounded(text if isinstance(text, str) else str(text), limit)


class Failure(AssertionError):
    """A check's verdict on one example: what went wrong, and, when recognised, why."""

    def __init__(self, message: str, *, diagnosis: str | None = None, hint: str | None = None):
        message = bounded(message)
        super().__init__(message)
        self.message = message
        self.diagnosis = diagnosis
        self.hint = hint


class NotImplementedYet(Failure):
    """The function still raises NotImplementedError: the step is not started."""


class Unrecoverable(Failure):
    """The worker timed out or crashed: no point searching for a smaller example."""


@dataclass(frozen=True)
class Mistake:
    """A common wrong answer: `wrong(*inputs)` computes what the mistake would return."""

    id: str
    message: str
    wrong: Callable[..., Any]


@dataclass(frozen=True)
class Check:
    step: str
    name: str
    title: str
    body: CheckBody
    examples: st.SearchStrategy | None
    max_examples: int
    uses_reference: bool = False
    doc: str = ""

    @property
    def id(self) -> str:
        return f"{self.step}.{self.name}"


@dataclass
class Outcome:
    check: Check
    passed: bool
    message: str = ""
    diagnosis: str | None = None
    hint: str | None = None
    not_implemented: bool = False
    seconds: float = 0.0
    examples: int = 0

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("message", "hint") and isinstance(value, str):
            value = bounded(value)  # every way an outcome gets its text: no check can forget the bound
        super().__setattr__(name, value)

    @property
    def feedback(self) -> str:
        """The message and the hint, at most `MAX_MESSAGE_CHARS` together (the hint is kept whole)."""
        if not self.hint:
            return self.message
        if not self.message:
            return self.hint
        return bounded(self.message, max(MAX_MESSAGE_CHARS - len(self.hint) - 1, 0)) + "\n" + self.hint


REGISTRY: list[Check] = []


def check(
    step: str,
    title: str,
    *,
    examples: st.SearchStrategy | None = None,
    max_examples: int = 25,
    uses_reference: bool = False,
) -> Callable[[CheckBody], CheckBody]:
    """Register a check of `step`. With `examples=None` the body runs once with `None`."""

    def register(body: CheckBody) -> CheckBody:
        REGISTRY.append(
            Check(
                step=step,
                name=body.__name__,
                title=title,
                body=body,
                examples=examples,
                max_examples=max_examples,
                uses_reference=uses_reference,
                doc=(body.__doc__ or "").strip(),
            )
        )
        return body

    return register


# --- running -------------------------------------------------------------------------


def value_of(call: Call, result: Result) -> Any:
    """The returned value of `call`, or the `Failure` that its error means."""
    error_type, error = quoted(result.error_type, 100), quoted(result.error)
    if result.error_type == "NotImplementedError":
        raise NotImplementedYet(f"{call.fn} is not implemented yet.")
    if result.error_type == "ImportError":
        raise Unrecoverable(f"the submission could not be loaded: {error}")
    if result.error_type in ("Timeout", "WorkerCrashed", "NotRun", "MemoryError", "RecursionError"):
        raise Unrecoverable(f"{call.fn}: {error_type}: {error}")
    if not result.ok:
        raise Failure(f"{call.fn}({describe_args(call)}) raised {error_type}: {error}")
    if isinstance(result.value, Unsupported):
        raise Failure(f"{call.fn} returned a {quoted(result.value.type_name, 100)}; expected torch tensors or numbers.")
    return result.value


class Raw(list):
    """Yield `Raw([...calls])` to get back the `Result`s themselves (e.g. to see `mutated`); its
    calls are watched (`Call.watch`), so `mutated` is judged by the trusted side."""

    def __init__(self, calls: Iterable[Call] = ()) -> None:
        super().__init__(dataclasses.replace(call, watch=True) for call in calls)


def expect_unchanged(result: Result, what: str, *, diagnosis: str | None = None) -> None:
    """Fail if the call modified any of its input tensors."""
    if result.mutated:
        raise Failure(
            f"{what} modified its input tensors; return new tensors and leave the inputs alone.", diagnosis=diagnosis
        )


def _advance(gen: Generator, values: Any) -> list[Call] | None:
    try:
        return gen.send(values)
    except StopIteration:
        return None
    except Failure:
        raise
    except Exception as exc:  # noqa: BLE001 - a returned value of an unexpected kind
        raise Failure(f"the returned value could not be judged ({type(exc).__name__}: {quoted(exc)})") from exc


def _drive(bodies: list[Generator], submission: Submission, isolate: str | None) -> list[Failure | None]:
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
        results = submission.run(flat, isolate=isolate)
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


def _hypothesis_settings(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        database=None,
        deadline=None,
        derandomize=False,
        print_blob=False,
        report_multiple_bugs=False,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
    )


@functools.cache
def recorded_examples(check_: Check, seed_: int) -> tuple[Any, ...]:
    """The examples hypothesis generates for this check under this seed, in order (recorded in a
    fresh interpreter and kept on disk: see `example_store`)."""
    if check_.examples is None:
        return (None,)
    stored = _stored_examples(seed_)
    return stored[check_.id] if check_.id in stored else record_examples(check_, seed_)


@functools.cache
def _stored_examples(seed_: int) -> dict[str, tuple[Any, ...]]:
    """Every check's examples for `seed_`: from the disk store, or recorded now and stored."""
    from grader.checks import example_store

    stored = example_store.load(seed_)
    if stored is None:
        stored = example_store.record(seed_)
        example_store.save(seed_, stored)
    return stored


def record_examples(check_: Check, seed_: int) -> tuple[Any, ...]:
    """Run hypothesis now (not via the store) and return the examples it generates, in order."""
    collected: list[Any] = []

    @seed(seed_)
    @_hypothesis_settings(check_.max_examples)
    @given(check_.examples)
    def collect(example: Any) -> None:
        collected.append(example)

    collect()
    return tuple(collected)


def _shrink(
    check_: Check, submission: Submission, isolate: str | None, seed_: int, device: str, budget_s: float
) -> Failure | None:
    """Search call by call with hypothesis and return the minimal failure it finds."""
    deadline = time.monotonic() + budget_s
    best: list[Failure] = []

    @seed(seed_)
    @_hypothesis_settings(check_.max_examples)
    @given(check_.examples)
    def probe(example: Any) -> None:
        if time.monotonic() > deadline:
            return
        (verdict,) = _drive([check_.body(to_device(example, device))], submission, isolate)
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
    outcome = Outcome(check=check_, passed=first is None, examples=len(examples))
    if first is not None:
        outcome.message = first.message
        outcome.diagnosis = first.diagnosis
        outcome.hint = first.hint
        outcome.not_implemented = isinstance(first, NotImplementedYet)
    outcome.seconds = time.perf_counter() - start
    return outcome


TARGET_DEVICE = "<target device>"
"""Stands in an example for the device being graded: `to_device` fills it in."""


def to_device(value: Any, device: str) -> Any:
    """Move every tensor inside an example to `device`, and fill in `TARGET_DEVICE`."""
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, str) and value == TARGET_DEVICE:
        return device
    if isinstance(value, Gen) and value.device == TARGET_DEVICE:
        return Gen(value.seed, value.key, device)
    if isinstance(value, (list, tuple)):
        return type(value)(to_device(v, device) for v in value)
    if isinstance(value, dict):
        return {k: to_device(v, device) for k, v in value.items()}
    return value


def checks_for(steps: Iterable[str] | None = None, *, include_reference: bool = True) -> list[Check]:
    """Registered checks, in step order, optionally only some steps or only public-safe ones."""
    from grader import checks as _  # noqa: F401 - importing registers every step's checks
    from grader.contract import STEPS

    wanted = set(steps) if steps is not None else set(STEPS)
    chosen = [c for c in REGISTRY if c.step in wanted and (include_reference or not c.uses_reference)]
    return sorted(chosen, key=lambda c: STEPS.index(c.step))


# --- judging helpers -----------------------------------------------------------------


def fmt(value: Any, limit: int = 6) -> str:
    """A short, readable rendering of a value for feedback messages. Long tensors and lists show
    their first and last elements and their size, as torch's print options do (threshold and
    edgeitems); the work and the text are bounded whatever the value's size."""
    return bounded(_fmt(value, max(limit, 2), 0))


def _fmt(value: Any, limit: int, depth: int) -> str:
    if isinstance(value, torch.Tensor):
        return _fmt_tensor(value.detach(), limit)
    if isinstance(value, (bool, int, float)):
        return _num(value)
    if isinstance(value, str):
        return repr(value) if len(value) <= MAX_QUOTE_CHARS else repr(value[:MAX_QUOTE_CHARS]) + TRUNCATED
    if isinstance(value, (list, tuple, dict)) and depth >= FMT_DEPTH:
        return f"[… (length {len(value)})]" if not isinstance(value, dict) else f"{{… ({len(value)} keys)}}"
    if isinstance(value, (list, tuple)):
        head, tail = _edges(len(value), limit)
        shown = [_fmt(value[i], limit, depth + 1) for i in [*head, *tail]]
        return _joined(shown, len(head), len(value))
    if isinstance(value, dict):
        items = [f"{quoted(k, 60)!r}: {_fmt(v, limit, depth + 1)}" for k, v in itertools.islice(value.items(), limit)]
        return "{" + ", ".join(items) + (", …" if len(value) > limit else "") + "}"
    return quoted(repr(value))


def _edges(n: int, limit: int) -> tuple[range, range]:
    """The positions shown of n items: all of them, or the first and last few."""
    if n <= limit:
        return range(n), range(0)
    return range((limit + 1) // 2), range(n - limit // 2, n)


def _joined(shown: list[str], n_head: int, n: int) -> str:
    if len(shown) == n:
        return f"[{', '.join(shown)}]"
    return f"[{', '.join([*shown[:n_head], '…', *shown[n_head:]])}] ({n} items)"


def _fmt_tensor(t: torch.Tensor, limit: int) -> str:
    """A tensor as nested brackets; only the elements shown are copied out of it."""
    if t.dim() == 0:
        return _num(t.item())
    shape = f" (shape {tuple(t.shape)})"
    if t.dim() == 1:
        return f"[{_row(t, limit)}]" + (shape if t.numel() > limit else "")
    if t.dim() == 2:
        rows = ", ".join(f"[{_row(t[i], limit)}]" for i in range(min(len(t), 3)))
        return f"[{rows}{', …' if len(t) > 3 else ''}]{shape}"
    return f"[{_row(t.flatten(), limit)}]{shape}"


def _row(t: torch.Tensor, limit: int) -> str:
    """The elements of a 1-D tensor, or its first and last few: sliced before `.tolist()`."""
    head, tail = _edges(t.numel(), limit)
    values = t[: len(head)].cpu().tolist()
    text = ", ".join(_num(v) for v in values)
    if tail:
        text += ", …, " + ", ".join(_num(v) for v in t[tail.start :].cpu().tolist())
    return text


def _num(x: Any) -> str:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return quoted(repr(x), 100)
    if isinstance(x, int):
        return str(x) if x.bit_length() <= 128 else f"<an int of {x.bit_length()} bits>"
    if math.isnan(x) or math.isinf(x):
        return str(x)
    return f"{x:.6g}"


def describe_args(call: Call) -> str:
    parts = [fmt(a) for a in call.args] + [f"{k}={fmt(v)}" for k, v in call.kwargs.items()]
    return ", ".join(parts)


def expect_tensor(got: Any, *, what: str, shape: Sequence[int] | None, like: torch.Tensor) -> torch.Tensor:
    """Fail unless `got` is a tensor with this shape and the dtype and device of `like`."""
    if not isinstance(got, torch.Tensor):
        kind = "a Python number" if isinstance(got, (int, float)) else f"a {type(got).__name__}"
        raise Failure(f"{what} returned {kind}; expected a torch tensor.")
    if shape is not None and tuple(got.shape) != tuple(shape):
        want = "a 0-dim tensor (shape ())" if len(shape) == 0 else f"shape {tuple(shape)}"
        raise Failure(f"{what} returned shape {tuple(got.shape)}; expected {want}.")
    if got.dtype != like.dtype:
        raise Failure(f"{what} returned {got.dtype} for {like.dtype} inputs; keep the input dtype.")
    if got.device.type != like.device.type:
        raise Failure(f"{what} returned a tensor on {got.device}; inputs were on {like.device}.")
    return got


def tolerance(dtype: torch.dtype) -> float:
    return 2e-4 if dtype in (torch.float32, torch.float16, torch.bfloat16) else 1e-9


def is_close(got: torch.Tensor, expected: torch.Tensor, *, rtol: float, scale: float = 1.0) -> bool:
    """Close in float64, with absolute slack `rtol * scale` for values near zero."""
    if got.shape != expected.shape:  # before any copy: `got` may be huge
        return False
    got64 = got.detach().to("cpu", torch.float64)
    expected64 = expected.detach().to("cpu", torch.float64)
    return bool(torch.allclose(got64, expected64, rtol=rtol, atol=rtol * max(scale, 1e-12), equal_nan=True))


def expect_close(
    got: torch.Tensor,
    expected: torch.Tensor,
    *,
    rtol: float,
    scale: float = 1.0,
    context: Callable[[], str],
    mistakes: Sequence[Mistake] = (),
    inputs: tuple = (),
) -> None:
    """Fail with a side-by-side message unless close; name a recognised mistake if any.
    `context()` says what was called with what; it is formatted only on failure."""
    if is_close(got, expected, rtol=rtol, scale=scale):
        return
    matching = {
        mistake.id: mistake
        for mistake in mistakes
        if is_close(
            got,
            wrong := torch.as_tensor(mistake.wrong(*inputs), dtype=torch.float64),
            rtol=max(rtol, 1e-6),
            scale=scale,
        )
        and not is_close(wrong, expected, rtol=rtol, scale=scale)
    }
    named = next(iter(matching.values())) if len(matching) == 1 else None  # several fit: the example can't tell
    raise Failure(
        f"{context()}: got {fmt(got)}, expected {fmt(expected)}.",
        diagnosis=named.id if named else None,
        hint=named.message if named else None,
    )


def f64(t: torch.Tensor) -> torch.Tensor:
    return t.detach().to("cpu", torch.float64)
