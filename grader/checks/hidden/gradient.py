"""mse_grad's hidden check: the reference solution on a single row."""

from __future__ import annotations

import torch

from grader.checks import strategies as st_
from grader.checks.expect import f64
from grader.checks.gradient import expect_gradient
from grader.checks.hidden.reference_answer import answer
from grader.checks.model import Call, check


@check(
    "gradient",
    "matches the reference solution on a single row",
    points=1,
    uses_reference=True,
    examples=st_.linear_problems(max_n=1),
    max_examples=10,
)
def matches_reference(example):
    X, y, w, b = example
    (got,) = yield [Call("mse_grad", (X, y, w, b))]
    expected = torch.cat([f64(g).reshape(-1) for g in answer("mse_grad", f64(X), f64(y), f64(w), f64(b))])
    expect_gradient(got, (X, y, w, b), expected)
