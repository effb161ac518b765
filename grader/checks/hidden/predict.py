"""predict's hidden check: the reference solution on one-row and one-feature inputs."""

from __future__ import annotations

from grader.checks import strategies as st_
from grader.checks.expect import f64
from grader.checks.hidden.reference_answer import answer
from grader.checks.model import Call, check
from grader.checks.predict import expect_predictions


@check(
    "predict",
    "matches the reference solution on one-row and one-feature inputs",
    points=1,
    uses_reference=True,
    examples=st_.linear_problems(max_n=1, max_d=1),
    max_examples=10,
)
def matches_reference(example):
    X, _, w, b = example
    (got,) = yield [Call("predict", (X, w, b))]
    expect_predictions(got, X, w, b, answer("predict", f64(X), f64(w), f64(b)))
