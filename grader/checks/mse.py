"""Checks of `mse`: the mean squared error."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from grader.checks import strategies as st_
from grader.checks.answers import stored
from grader.checks.expect import expect_close, expect_tensor, expect_unchanged, f64, fmt, is_close, tolerance, value_of
from grader.checks.model import Call, Failure, Mistake, Raw, check, mistakes

MISTAKES = mistakes(
    "mse",
    Mistake(
        "rmse",
        "Your mse returns the root of the mean squared error (RMSE): drop the square root.",
        lambda p, t: F.mse_loss(p, t).sqrt(),
    ),
    Mistake(
        "sum_not_mean",
        "Your mse sums the squared errors; divide by their number (take the mean).",
        lambda p, t: ((p - t) ** 2).sum(),
    ),
    Mistake(
        "mean_abs_error", "Your mse averages absolute errors; square them instead.", lambda p, t: (p - t).abs().mean()
    ),
    Mistake(
        "half_mse",
        "Your mse is half the mean squared error (the ½·MSE some texts use to cancel the 2 in the gradient): "
        "here the loss is the plain mean, without the ½.",
        lambda p, t: F.mse_loss(p, t) / 2,
    ),
)


def _scale(preds: torch.Tensor, targets: torch.Tensor) -> float:
    return float((f64(preds) - f64(targets)).abs().max()) ** 2 + 1.0


@stored
def torch_mse(preds: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """torch.nn.functional.mse_loss in float64."""
    return F.mse_loss(f64(preds), f64(targets))


def expect_mse(got, preds: torch.Tensor, targets: torch.Tensor, expected: torch.Tensor) -> None:
    got = expect_tensor(got, what="mse", shape=(), like=preds)
    expect_close(
        got,
        expected,
        rtol=tolerance(preds.dtype),
        scale=_scale(preds, targets),
        context=lambda: f"mse fails for preds={fmt(preds)}, targets={fmt(targets)}",
        mistakes=MISTAKES,
        inputs=(f64(preds), f64(targets)),
    )


@check("mse", "equals torch.nn.functional.mse_loss", points=3, examples=st_.pairs())
def matches_mse_loss(example):
    preds, targets = example
    (got,) = yield [Call("mse", (preds, targets))]
    expect_mse(got, preds, targets, torch_mse(preds, targets))


@check("mse", "is ≥ 0, is 0 for perfect predictions, and is symmetric", points=2, examples=st_.pairs())
def loss_properties(example):
    preds, targets = example
    same, forward, backward = yield [
        Call("mse", (preds, preds.clone())),
        Call("mse", (preds, targets)),
        Call("mse", (targets, preds)),
    ]
    for value in (same, forward, backward):
        expect_tensor(value, what="mse", shape=(), like=preds)
    if float(same) != 0.0:
        raise Failure(f"mse(preds, preds) should be 0 for preds={fmt(preds)}; got {fmt(same)}.")
    if float(forward) < 0:
        raise Failure(f"mse is negative for preds={fmt(preds)}, targets={fmt(targets)}: {fmt(forward)}.")
    if not is_close(forward, backward, rtol=tolerance(preds.dtype), atol=1e-8, equal_nan=False):
        raise Failure(
            f"mse(p, t) = {fmt(forward)} but mse(t, p) = {fmt(backward)} for p={fmt(preds)}, t={fmt(targets)}."
        )


@check(
    "mse",
    "returns a 0-dim tensor of the input dtype and leaves its inputs unchanged",
    points=1,
    examples=st_.pairs(),
    max_examples=10,
)
def keeps_contract(example):
    preds, targets = example
    call = Call("mse", (preds, targets))
    (result,) = yield Raw([call])
    expect_tensor(value_of(call, result), what="mse", shape=(), like=preds)
    expect_unchanged(result, "mse")
