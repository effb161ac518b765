"""Checks of `schedule`: closed forms of torch's ExponentialLR, StepLR, LinearLR, CosineAnnealingLR."""

from __future__ import annotations

import math
import warnings

import torch
from hypothesis import strategies as st

from grader.checks.answers import stored
from grader.checks.expect import apart, fmt, is_close
from grader.checks.model import Call, Failure, check, diagnoses, filled

HORIZON = 12
"""Schedules are checked for t = 0 .. HORIZON."""

rates = st.floats(0.015625, 1.0, width=32)
factors = st.floats(0.125, 1.0, width=32)
totals = st.integers(1, 8)


def torch_lrs(make_scheduler, lr0: float, steps: int) -> list[float]:
    """The learning rates a torch.optim.lr_scheduler gives at t = 0 .. steps − 1."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr0)
    scheduler = make_scheduler(optimizer)
    lrs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(steps):
            lrs.append(scheduler.get_last_lr()[0])
            scheduler.step()
    return lrs


_lr_scheduler = torch.optim.lr_scheduler
SCHEDULES = {
    # name: (strategy of args without t, torch's scheduler for them, closed form used for diagnoses)
    "exponential_decay": (
        st.tuples(rates, factors),
        lambda o, lr0, gamma: _lr_scheduler.ExponentialLR(o, gamma),
        lambda lr0, gamma, t: lr0 * gamma**t,
    ),
    "step_decay": (
        st.tuples(rates, factors, st.integers(1, 5)),
        lambda o, lr0, gamma, size: _lr_scheduler.StepLR(o, size, gamma),
        lambda lr0, gamma, size, t: lr0 * gamma ** (t // size),
    ),
    "linear_decay": (
        st.tuples(rates, factors, totals).map(lambda a: (a[0], a[0] * a[1] * 0.9, a[2])),
        lambda o, lr0, end, total: _lr_scheduler.LinearLR(o, 1.0, end / lr0, total),
        lambda lr0, end, total, t: lr0 + (end - lr0) * t / total,
    ),
    "cosine_decay": (
        st.tuples(rates, factors, totals).map(lambda a: (a[0], a[0] * a[1] * 0.9, a[2])),
        lambda o, lr0, lr_min, total: _lr_scheduler.CosineAnnealingLR(o, total, lr_min),
        lambda lr0, lr_min, total, t: lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * t / total)) / 2,
    ),
}
ENDING = ("linear_decay", "cosine_decay")
"""The schedules that end after `total` epochs (their third argument) and stay at their end value."""


@stored
def torch_schedule(fn: str, args: tuple, steps: int) -> list[float]:
    """What torch's scheduler for `fn(*args, t)` gives at t = 0 .. steps − 1; a schedule that ends
    stays at its end value after `total` (where torch's cosine would climb back)."""
    make = SCHEDULES[fn][1]
    if fn not in ENDING:
        return torch_lrs(lambda o: make(o, *args), args[0], steps)
    lrs = torch_lrs(lambda o: make(o, *args), args[0], min(steps, args[2] + 1))
    return (lrs + [lrs[-1]] * steps)[:steps]


@stored
def _oracle(fn: str, args: tuple) -> list[float]:
    """torch's learning rates as checked: for t = 0 .. total, or 0 .. HORIZON for a schedule that does not end."""
    return torch_schedule(fn, args, args[2] + 1 if fn in ENDING else HORIZON + 1)


def _numbers(got: list, fn: str) -> list[float]:
    values = []
    for value in got:
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Failure(f"{fn} returned a {type(value).__name__}; expected a Python float.")
        values.append(float(value))
    return values


def _close(a: list[float], b: list[float]) -> bool:
    """Close as learning rates: within 1e-6 relative (float32 arithmetic passes), or 1e-9."""
    return is_close(a, b, rtol=1e-6, atol=1e-9)


HINTS = diagnoses(
    "schedule",
    off_by_one="Your … is off by one epoch: lr(0) must be lr0 (it gives lr(t…)).",
    step_decay_every_epoch="Your step_decay decays every epoch; decay once every step_size epochs.",
    linear_overshoots="Use min(t, total): after `total` epochs the schedule is over.",
    cosine_overshoots="Use min(t, total): after `total` epochs the schedule is over.",
    restarts_after_total="Your … starts over after `total` epochs (warm restarts, as t mod total): this one "
    "ends there and stays at its end value for every t ≥ total.",
)


def _diagnose(fn: str, args: tuple, got: list[float], closed_form) -> tuple[str | None, str | None]:
    ts = range(len(got))
    for shift in (1, -1):
        if _close(got, [closed_form(*args, max(t + shift, 0)) for t in ts]):
            return "off_by_one", filled(HINTS["off_by_one"], fn, f"{shift:+d}")
    if fn == "step_decay" and _close(got, [args[0] * args[1] ** t for t in ts]):
        return "step_decay_every_epoch", HINTS["step_decay_every_epoch"]
    return None, None


def _matches_torch(fn: str):
    strategy, _, closed_form = SCHEDULES[fn]

    def body(args):
        expected = _oracle(fn, args)
        got = _numbers((yield [Call(fn, (*args, t)) for t in range(len(expected))]), fn)
        if not _close(got, expected):
            diagnosis, hint = _diagnose(fn, args, got, closed_form)
            shown, torch_gives = apart(got, expected)
            raise Failure(
                f"{fn}{tuple(args)} for t = 0..{len(expected) - 1} gives {shown}; torch gives {torch_gives}.",
                diagnosis=diagnosis,
                hint=hint,
            )

    body.__name__ = f"{fn.removesuffix('_decay')}_matches_torch"
    title = f"{fn} equals torch's scheduler for t = 0 … (T_max)"
    return check("schedule", title, points=2, examples=strategy, max_examples=15)(body)


for _name in SCHEDULES:
    _matches_torch(_name)


@check(
    "schedule",
    "linear_decay and cosine_decay stay at their end value after `total` epochs",
    points=2,
    examples=st.tuples(st.sampled_from(["linear_decay", "cosine_decay"]), rates, factors, totals),
    max_examples=15,
)
def stay_at_end_value(example):
    fn, lr0, factor, total = example
    end = lr0 * factor * 0.9
    got = _numbers((yield [Call(fn, (lr0, end, total, t)) for t in range(total, total + 6)]), fn)
    if not _close(got, [end] * len(got)):
        closed_form, ts = SCHEDULES[fn][2], range(total, total + 6)
        slips = {
            "linear_overshoots" if fn == "linear_decay" else "cosine_overshoots": [
                closed_form(lr0, end, total, t) for t in ts
            ],
            "restarts_after_total": [closed_form(lr0, end, total, t % total) for t in ts],
        }
        slip = next((name for name, values in slips.items() if _close(got, values)), None)
        raise Failure(
            f"{fn}({fmt(lr0)}, {fmt(end)}, total={total}, t) for t = {total}..{total + 5} gives "
            f"{fmt(got)}; it should stay at {fmt(end)}.",
            diagnosis=slip,
            hint=filled(HINTS[slip], fn) if slip == "restarts_after_total" else None,
        )


@check(
    "schedule",
    "every schedule is non-increasing and starts at lr0",
    points=2,
    examples=st.tuples(rates, factors, totals),
    max_examples=10,
)
def decreasing_from_lr0(example):
    lr0, factor, total = example
    args = {
        "exponential_decay": (lr0, factor),
        "step_decay": (lr0, factor, 2),
        "linear_decay": (lr0, lr0 * factor, total),
        "cosine_decay": (lr0, lr0 * factor, total),
    }
    calls = [Call(fn, (*a, t)) for fn, a in args.items() for t in range(HORIZON)]
    got = yield calls
    for i, fn in enumerate(args):
        values = _numbers(got[i * HORIZON : (i + 1) * HORIZON], fn)
        if not is_close(values[0], lr0, rtol=1e-6, atol=0.0):
            raise Failure(
                f"{fn}{args[fn]} starts at {fmt(values[0])} for t = 0; it should start at lr0 = {fmt(lr0)}: "
                "at t = 0 no decay has happened yet."
            )
        if any(b > a * (1 + 1e-9) + 1e-12 for a, b in zip(values, values[1:])):
            raise Failure(f"{fn}{args[fn]} increases somewhere in t = 0..{HORIZON - 1}: {fmt(values, 12)}.")
