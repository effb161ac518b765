"""train's hidden check: the reference solution on repeated rows with momentum and a schedule."""

from __future__ import annotations

import torch
from hypothesis import strategies as st

from grader.checks.example_store import TARGET_DEVICE
from grader.checks.expect import fmt, is_close
from grader.checks.model import Failure, check
from grader.checks.train import ROW, TARGET, train_call, train_outputs
from grader.reference import reference
from grader.sandbox.protocol import LrTable


@check(
    "train",
    "matches the reference solution on repeated rows with momentum and a schedule",
    points=1,
    uses_reference=True,
    examples=st.just(TARGET_DEVICE),
)
def matches_reference(device):
    X = ROW.double().repeat(7, 1)
    y = torch.full((7,), -TARGET, dtype=torch.float64)
    lrs = LrTable((0.05, 0.04, 0.03))
    (got,) = yield [train_call(X.to(device), y.to(device), epochs=3, batch_size=2, lr=lrs, beta=0.5, init_std=0.0)]
    w, b, history = train_outputs(got, X.to(device), 3)
    rw, rb, rhistory = reference().train(
        X,
        y,
        epochs=3,
        batch_size=2,
        lr=lambda e: lrs.values[e],
        beta=0.5,
        generator=torch.Generator().manual_seed(0),
        init_std=0.0,
    )
    if not (
        is_close(w.double().cpu().tolist() + [float(b)], rw.tolist() + [float(rb)], rtol=1e-9)
        and is_close(history, rhistory, rtol=1e-9)
    ):
        raise Failure(
            f"train on 7 copies of {fmt(ROW)} gives w, b = {fmt(w)}, {fmt(b)} and history {fmt(history)}; "
            f"the reference gives {fmt(rw)}, {fmt(rb)} and {fmt(rhistory)}."
        )
