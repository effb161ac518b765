"""minibatches' hidden check: the reference on edge cases (batch_size ≥ n, n = 1)."""

from __future__ import annotations

import torch
from hypothesis import strategies as st

from grader.checks.expect import fmt
from grader.checks.hidden.reference_answer import answer
from grader.checks.minibatch import epoch_batches, epoch_call
from grader.checks.model import Failure, check


@check(
    "minibatch",
    "matches the reference on edge cases (batch_size ≥ n, n = 1)",
    points=1,
    uses_reference=True,
    examples=st.tuples(st.integers(1, 6), st.integers(0, 3), st.booleans()),
    max_examples=15,
)
def matches_reference_edges(example):
    n, extra, drop_last = example
    batch_size = n + extra
    (got,) = yield [epoch_call(n, batch_size, shuffle=False, drop_last=drop_last, generator=None)]
    batches = epoch_batches(got, what=f"minibatches({n}, {batch_size}, drop_last={drop_last})", n=n)
    expected = answer("minibatches", n, batch_size, shuffle=False, drop_last=drop_last)
    if len(batches) != len(expected) or not all(torch.equal(b, e.cpu()) for b, e in zip(batches, expected)):
        raise Failure(
            f"minibatches({n}, {batch_size}, shuffle=False, drop_last={drop_last}) gives {fmt(batches, 12)}; "
            f"expected {fmt(expected, 12)}."
        )
