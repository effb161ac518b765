"""What a check body uses to judge: the one closeness policy, the tensor contract, and readable values.

`is_close` is the only test of closeness (relative, with an absolute slack for values near zero;
tensors in float64, numbers one by one); `expect_close` fails with a side-by-side message and observes
what each known `Mistake` would return; `fmt` renders any value briefly and boundedly for a message.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import torch

from grader.checks.diagnosis import observe
from grader.checks.model import Failure, Mistake, NotImplementedYet, Unrecoverable, filled
from grader.sandbox.protocol import Call, Result, Unsupported
from grader.text import MAX_QUOTE_CHARS, TRUNCATED, bounded, quoted

FMT_DEPTH = 3
"""`fmt` shows nested lists and dicts this deep; deeper ones only as their length."""


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


MODIFIED_INPUTS = "… modified its input tensors; return new tensors and leave the inputs alone."
"""What `expect_unchanged` says, `…` being what was called."""


def expect_unchanged(result: Result, what: str, *, diagnosis: str | None = None) -> None:
    """Fail if the call modified any of its input tensors."""
    if result.mutated:
        raise Failure(filled(MODIFIED_INPUTS, what), diagnosis=diagnosis)


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
    """The relative tolerance of a computation in `dtype`: float32 (or narrower), or float64."""
    return 2e-4 if dtype in (torch.float32, torch.float16, torch.bfloat16) else 1e-9


def is_close(
    got: torch.Tensor | float | Sequence[float],
    expected: torch.Tensor | float | Sequence[float],
    *,
    rtol: float,
    scale: float = 1.0,
    atol: float | None = None,
    equal_nan: bool = True,
) -> bool:
    """Close within `rtol` relative and `atol` absolute slack (by default `rtol * scale`, for
    values near zero). Tensors of one shape are compared in float64 as torch.allclose does,
    |got − expected| ≤ atol + rtol·|expected| (NaN equal to NaN with `equal_nan`); numbers, and
    lists of numbers of one length, one by one as math.isclose does, |got − expected| ≤
    max(atol, rtol·max(|got|, |expected|)) (NaN equal to nothing)."""
    atol = rtol * max(scale, 1e-12) if atol is None else atol
    if isinstance(got, torch.Tensor):
        if got.shape != expected.shape:  # before any copy: `got` may be huge
            return False
        got64 = got.detach().to("cpu", torch.float64)
        expected64 = expected.detach().to("cpu", torch.float64)
        return bool(torch.allclose(got64, expected64, rtol=rtol, atol=atol, equal_nan=equal_nan))
    if isinstance(got, (int, float)):
        got, expected = [got], [expected]
    return len(got) == len(expected) and all(
        math.isclose(x, y, rel_tol=rtol, abs_tol=atol) for x, y in zip(got, expected)
    )


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
    """Fail with a side-by-side message unless close. What each of `mistakes` would return on
    `inputs` is observed as evidence (`checks.diagnosis`): the runner names a mistake only when
    every example agrees. `context()` says what was called with what; it is formatted only on failure."""

    observe_mistakes(got, expected, mistakes, inputs, rtol=rtol, scale=scale)
    if is_close(got, expected, rtol=rtol, scale=scale):
        return
    ratio = constant_ratio(got, expected, rtol=max(rtol, 1e-6))
    times = f" (yours is {ratio:.4g}× the right answer)" if ratio is not None else ""
    raise Failure(f"{context()}: got {fmt(got)}, expected {fmt(expected)}{times}.", ratio=ratio)


def observe_mistakes(
    got: torch.Tensor, expected: torch.Tensor, mistakes: Sequence[Mistake], inputs: tuple, *, rtol: float, scale: float
) -> None:
    """Observe, for each of `mistakes`, whether `got` is what it returns on `inputs` and whether that is wrong."""

    def judge():
        for mistake in mistakes:
            wrong = torch.as_tensor(mistake.wrong(*inputs), dtype=torch.float64)
            fits = is_close(got, wrong, rtol=max(rtol, 1e-6), scale=scale)
            yield mistake.id, fits, not is_close(wrong, expected, rtol=rtol, scale=scale)

    if mistakes:
        observe(judge)


def constant_ratio(got: torch.Tensor, expected: torch.Tensor, *, rtol: float) -> float | None:
    """c when `got` = c · `expected` entry by entry (c ≠ 0, 1; `expected` not all zero), else None."""
    if not isinstance(got, torch.Tensor) or got.shape != expected.shape or not got.numel():
        return None
    got64, expected64 = got.detach().to("cpu", torch.float64), expected.detach().to("cpu", torch.float64)
    pivot = int(expected64.abs().argmax())
    if float(expected64.reshape(-1)[pivot]) == 0.0:
        return None
    ratio = float(got64.reshape(-1)[pivot] / expected64.reshape(-1)[pivot])
    if not math.isfinite(ratio) or ratio == 0.0 or is_close(ratio, 1.0, rtol=rtol, atol=0.0):
        return None
    return ratio if is_close(got64, ratio * expected64, rtol=rtol, scale=float(expected64.abs().max())) else None


def apart(got: Sequence[float], expected: Sequence[float], *, rtol: float = 1e-9, limit: int = 8) -> tuple[str, str]:
    """`got` and `expected` written with as many significant digits (6 to 17) as it takes for every
    entry that differs (beyond `rtol`) to read differently, so the student sees where they part."""
    differ = [not math.isclose(x, y, rel_tol=rtol, abs_tol=rtol) for x, y in zip(got, expected)]
    for digits in range(6, 18):
        shown = [[f"{float(v):.{digits}g}" for v in values] for values in (got, expected)]
        if len(got) != len(expected) or all(a != b for a, b, d in zip(*shown, differ) if d):
            break
    return tuple(_listed(values, limit) for values in shown)


def _listed(values: list[str], limit: int) -> str:
    if len(values) > limit:
        values = [*values[: limit // 2], "…", *values[-(limit // 2) :]]
    return "[" + ", ".join(values) + "]"


def f64(t: torch.Tensor) -> torch.Tensor:
    return t.detach().to("cpu", torch.float64)
