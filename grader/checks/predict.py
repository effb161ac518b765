"""Checks of `predict`: a linear model's predictions."""

from __future__ import annotations

import torch.nn.functional as F

from grader.checks import strategies as st_
from grader.checks.answers import stored
from grader.checks.expect import expect_close, expect_tensor, expect_unchanged, f64, fmt, is_close, tolerance, value_of
from grader.checks.model import Call, Failure, Mistake, Raw, check, mistakes

MISTAKES = mistakes(
    "predict",
    Mistake("missing_bias", "Your predictions leave out the bias: add b to every prediction.", lambda X, w, b: X @ w),
    Mistake("subtracts_bias", "Your predictions subtract the bias; add it.", lambda X, w, b: X @ w - b),
    Mistake(
        "missing_feature",
        "Your predictions leave out the last feature: sum xᵢⱼ·wⱼ over every j = 0 … D−1 (X @ w uses all D columns).",
        lambda X, w, b: X[:, :-1] @ w[:-1] + b,
    ),
)


@stored
def _oracle(X, w, b):
    return F.linear(f64(X), f64(w)[None, :], f64(b)[None])[:, 0]


def _scale(X, w, b) -> float:
    return float(f64(X).abs().sum(dim=1).max() * f64(w).abs().max() + f64(b).abs()) + 1.0


def expect_predictions(got, X, w, b, expected) -> None:
    got = expect_tensor(got, what="predict", shape=(X.shape[0],), like=X)
    expect_close(
        got,
        expected,
        rtol=tolerance(X.dtype),
        scale=_scale(X, w, b),
        context=lambda: f"predict fails for X={fmt(X)}, w={fmt(w)}, b={fmt(b)}",
        mistakes=MISTAKES,
        inputs=(f64(X), f64(w), f64(b)),
    )


@check("predict", "equals X @ w + b (torch.nn.functional.linear)", points=3, examples=st_.linear_problems())
def matches_linear(example):
    X, _, w, b = example
    (got,) = yield [Call("predict", (X, w, b))]
    expect_predictions(got, X, w, b, _oracle(X, w, b))


@check(
    "predict",
    "is linear in w: predict(X, w1 + w2, b) = predict(X, w1, b) + predict(X, w2, b) − b",
    points=2,
    examples=st_.linear_problems(),
)
def linear_in_weights(example):
    X, _, w, b = example
    w2 = w.flip(0) - 1
    first, second, both = yield [
        Call("predict", (X, w, b)),
        Call("predict", (X, w2, b)),
        Call("predict", (X, w + w2, b)),
    ]
    for value in (first, second, both):
        expect_tensor(value, what="predict", shape=(X.shape[0],), like=X)
    expected = f64(first) + f64(second) - f64(b)
    slack = tolerance(X.dtype) * (_scale(X, w, b) + _scale(X, w2, b))
    if not is_close(both, expected, rtol=0.0, atol=slack, equal_nan=False):
        raise Failure(
            f"predict is not linear in w for X={fmt(X)}, w1={fmt(w)}, w2={fmt(w2)}, b={fmt(b)}: "
            f"predict(w1 + w2) = {fmt(both)}, but predict(w1) + predict(w2) − b = {fmt(expected)}."
        )


@check(
    "predict",
    "returns shape (N,) in the input dtype and leaves its inputs unchanged",
    points=1,
    examples=st_.linear_problems(),
    max_examples=10,
)
def keeps_contract(example):
    X, _, w, b = example
    call = Call("predict", (X, w, b))
    (result,) = yield Raw([call])
    expect_tensor(value_of(call, result), what="predict", shape=(X.shape[0],), like=X)
    expect_unchanged(result, "predict")
