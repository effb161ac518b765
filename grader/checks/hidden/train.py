"""train's hidden check: the documented procedure, step by step, against the reference solution."""

from __future__ import annotations

import torch
from hypothesis import strategies as st

from grader.checks.answers import stored
from grader.checks.example_store import TARGET_DEVICE
from grader.checks.expect import apart, is_close
from grader.checks.model import Failure, check
from grader.checks.train import train_call, train_outputs
from grader.reference import reference
from grader.sandbox.protocol import LrTable

EPOCHS, BATCH, LRS, BETA, INIT_STD = 4, 3, (0.05, 0.04, 0.03, 0.02), 0.5, 0.5
"""Seven distinct rows in batches of 3 (a short last batch), a schedule, momentum and a random init."""


def _problem() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(11)
    X = torch.randn(7, 3, generator=g, dtype=torch.float64)
    return X, X @ torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64) + 0.25


@stored
def reference_train(X: torch.Tensor, y: torch.Tensor, settings: dict) -> tuple:
    """The reference's train on (X, y) with lr(epoch) = LRS[epoch] and a generator seeded 0."""
    return reference().train(X, y, lr=lambda e: LRS[e], generator=torch.Generator().manual_seed(0), **settings)


@check(
    "train",
    "follows the documented procedure on distinct rows (init first, one fresh minibatches pass per epoch, "
    "lr(epoch), each batch's own gradient, the full-data loss after each epoch)",
    points=1,
    uses_reference=True,
    examples=st.just(TARGET_DEVICE),
)
def matches_reference(device):
    X, y = _problem()
    lrs = LrTable(LRS)
    settings = {"epochs": EPOCHS, "batch_size": BATCH, "beta": BETA, "init_std": INIT_STD}
    (got,) = yield [train_call(X.to(device), y.to(device), lr=lrs, **settings)]
    w, b, history = train_outputs(got, X.to(device), EPOCHS)
    rw, rb, rhistory = reference_train(X, y, settings)
    got_wb, want_wb = w.double().cpu().tolist() + [float(b)], rw.tolist() + [float(rb)]
    if not (is_close(got_wb, want_wb, rtol=1e-9) and is_close(history, rhistory, rtol=1e-9)):
        (got_wb, want_wb), (got_h, want_h) = apart(got_wb, want_wb), apart(history, rhistory)
        raise Failure(
            f"train on 7 distinct rows ({EPOCHS} epochs, batch_size={BATCH}, lr(epoch) = {list(LRS)}, "
            f"beta={BETA}, init_std={INIT_STD}) gives w, b = {got_wb} and history {got_h}; following the "
            f"procedure in train's docstring gives {want_wb} and {want_h}."
        )
