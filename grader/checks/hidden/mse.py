"""mse's hidden check: the reference solution on single values and large errors."""

from __future__ import annotations

from grader.checks import strategies as st_
from grader.checks.expect import f64
from grader.checks.hidden.reference_answer import answer
from grader.checks.model import Call, check
from grader.checks.mse import expect_mse


@check(
    "mse",
    "matches the reference solution on single values and large errors",
    points=1,
    uses_reference=True,
    examples=st_.pairs(max_n=2).map(lambda pt: (pt[0] * 1000, pt[1])),
    max_examples=10,
)
def matches_reference(example):
    preds, targets = example
    (got,) = yield [Call("mse", (preds, targets))]
    expect_mse(got, preds, targets, answer("mse", f64(preds), f64(targets)))
