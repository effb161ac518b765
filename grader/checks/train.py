"""Checks of `train`: the training loop that joins every step."""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from hypothesis import strategies as st

from grader.checks.answers import stored
from grader.checks.example_store import TARGET_DEVICE
from grader.checks.expect import apart, expect_tensor, expect_unchanged, fmt, is_close, value_of
from grader.checks.model import Call, Failure, Raw, check, diagnoses
from grader.checks.step import torch_sgd
from grader.sandbox.protocol import Gen, LrTable


def train_call(
    X, y, *, epochs: int, batch_size: int, lr, beta: float = 0.0, seed: int = 0, key: str = "g", init_std: float = 0.01
) -> Call:
    return Call(
        "train",
        (X, y),
        {
            "epochs": epochs,
            "batch_size": batch_size,
            "lr": lr,
            "beta": beta,
            "generator": Gen(seed, key),
            "init_std": init_std,
        },
    )


def train_outputs(got, X: torch.Tensor, epochs: int):
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        raise Failure(f"train returned a {type(got).__name__}; expected (w, b, history).")
    w = expect_tensor(got[0], what="train's w", shape=(X.shape[1],), like=X)
    b = expect_tensor(got[1], what="train's b", shape=(), like=X)
    history = got[2]
    if isinstance(history, (list, tuple)) and len(history) > most_history(X, epochs):
        raise Failure(f"train ran {epochs} epochs but history has {len(history)} entries; expected one per epoch.")
    if not isinstance(history, (list, tuple)) or not all(
        isinstance(h, (int, float)) and not isinstance(h, bool) for h in history
    ):
        raise Failure(f"train's history is {fmt(history)}; expected a list of Python floats (use float(loss)).")
    return w, b, [float(h) for h in history]


def most_history(X: torch.Tensor, epochs: int) -> int:
    """The most history entries judged: one per epoch, or (a known slip) one per batch of one row."""
    return epochs * (X.shape[0] + 1)


def _full_mse(X, y, w, b) -> float:
    return float(F.mse_loss(X.double().cpu() @ w.double().cpu() + b.double().cpu(), y.double().cpu()))


def _mse(inputs: torch.Tensor, targets: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(inputs @ w + b, targets)


def sgd_update(
    params: list, velocities: list | None, inputs, targets, lr: float, beta: float, grad_scale: float = 1.0
) -> tuple[list, list]:
    """One torch.optim.SGD update of [w, b] on the mse over (inputs, targets), the gradient by
    autograd (times `grad_scale`, to follow a known slip)."""
    leaves = [p.clone().requires_grad_() for p in params]
    grads = torch.autograd.grad(_mse(inputs, targets, *leaves), leaves)
    return torch_sgd(params, [g * grad_scale for g in grads], lr, momentum=beta, velocities=velocities)


class Run(NamedTuple):
    """An oracle run: the final [w…, b], and per epoch the full-data loss after it and before it,
    and the mean of its minibatch losses (each taken before its update), plain and weighted by size."""

    params: list[float]
    history: list[float]
    before: list[float]
    batch_mean: list[float]
    weighted_batch_mean: list[float]


def oracle_run(
    row: torch.Tensor,
    target: float,
    n: int,
    batch_size: int,
    lrs: list[float],
    beta: float,
    updates_per_epoch: int | None = None,
    nominal: bool = False,
) -> Run:
    """torch.optim.SGD from zero weights on n copies of one row: every minibatch has the same
    gradient, so the trajectory does not depend on the shuffle. With `nominal`, each batch's
    gradient is divided by batch_size instead of its own size (a known slip)."""
    return Run(*_run(row, target, n, batch_size, lrs, beta, updates_per_epoch, nominal))


@stored
def _run(row, target, n, batch_size, lrs, beta, updates_per_epoch, nominal) -> tuple[list[float], ...]:
    x, t = row.double(), torch.tensor(target, dtype=torch.float64)
    params = [torch.zeros(row.numel(), dtype=torch.float64), torch.zeros((), dtype=torch.float64)]
    velocities = None
    sizes = ([batch_size] * (n // batch_size) + [n % batch_size] * (n % batch_size > 0))[:updates_per_epoch]
    run = Run([], [], [], [], [])
    for lr in lrs:
        run.before.append(_mse(x, t, *params).item())
        losses = []
        for size in sizes:
            losses.append(_mse(x, t, *params).item())
            scale = size / batch_size if nominal else 1.0
            params, velocities = sgd_update(params, velocities, x, t, lr, beta, grad_scale=scale)
        run.history.append(_mse(x, t, *params).item())
        run.batch_mean.append(sum(losses) / len(losses))
        run.weighted_batch_mean.append(sum(loss * size for loss, size in zip(losses, sizes)) / sum(sizes))
    run.params.extend([*params[0].tolist(), params[1].item()])
    return tuple(run)


ROW, TARGET, ROWS, BATCH = torch.tensor([0.5, -1.0, 2.0]), 1.5, 10, 3
LRS = [0.05, 0.04, 0.03, 0.02, 0.01]
"""Chosen so no step lands exactly on the optimum (2·lr·(‖x‖² + 1) ≠ 1 for the row above)."""


HINTS = diagnoses(
    "train",
    history_per_batch="Append to history once per epoch (after all its minibatches), not per batch.",
    history_before_update="Record the loss after the epoch's updates, not before them.",
    minibatch_loss_history="Your history is the mean of the epoch's minibatch losses, each taken before its "
    "update: record instead the full-data loss mse(predict(X, w, b), y) once the epoch's updates are done.",
    nominal_batch_size="Your short last batch is divided by batch_size instead of its own size: let mse_grad "
    "average over the rows the batch really has.",
    lr_schedule_ignored="Call lr(epoch) at the start of every epoch when lr is a function.",
    no_momentum="Pass beta on to momentum_step and carry the velocities from step to step.",
    one_batch_per_epoch="Loop over every minibatch of the epoch, not only the first.",
    init_ignored="with init_std=1.0 and lr=0, train returns all-zero weights: start from init_params(D, std=init_std, "
    "generator=generator).",
    fixed_seed="two runs of train with differently seeded generators (init_std=0) end at exactly the same weights: "
    "the minibatches must be shuffled with `generator`.",
)


def _diagnose(got_params, history, beta, scheduled, dtype_tol):
    """Which well-known slip in the loop would produce this run?"""
    lrs = LRS if scheduled else [LRS[0]] * len(LRS)
    if len(history) == len(lrs) * math.ceil(ROWS / BATCH):
        return "history_per_batch"
    run = oracle_run(ROW, TARGET, ROWS, BATCH, lrs, beta)
    if is_close(got_params, run.params, rtol=dtype_tol):
        for name, expected in (
            ("history_before_update", run.before),
            ("minibatch_loss_history", run.batch_mean),
            ("minibatch_loss_history", run.weighted_batch_mean),
        ):
            if is_close(history, expected, rtol=dtype_tol):
                return name
    variants = {
        "lr_schedule_ignored": scheduled and oracle_run(ROW, TARGET, ROWS, BATCH, [LRS[0]] * len(LRS), beta),
        "no_momentum": beta > 0 and oracle_run(ROW, TARGET, ROWS, BATCH, lrs, 0.0),
        "one_batch_per_epoch": oracle_run(ROW, TARGET, ROWS, BATCH, lrs, beta, updates_per_epoch=1),
        "nominal_batch_size": oracle_run(ROW, TARGET, ROWS, BATCH, lrs, beta, nominal=True),
    }
    fitting = (name for name, run in variants.items() if run and is_close(got_params, run.params, rtol=dtype_tol))
    return next(fitting, None)


@check(
    "train",
    "follows torch.optim.SGD exactly when every row is the same (lr schedule, momentum, history)",
    points=3,
    examples=st.tuples(
        st.sampled_from([0.0, 0.9]),
        st.booleans(),
        st.sampled_from([torch.float64, torch.float32]),
        st.just(TARGET_DEVICE),
    ),
    max_examples=8,
)
def matches_torch_sgd_on_repeated_rows(example):
    beta, scheduled, dtype, device = example
    X = ROW.to(dtype).repeat(ROWS, 1).to(device)
    y = torch.full((ROWS,), TARGET, dtype=dtype, device=device)
    lr = LrTable(tuple(LRS)) if scheduled else LRS[0]
    lrs = LRS if scheduled else [LRS[0]] * len(LRS)
    (got,) = yield [train_call(X, y, epochs=len(LRS), batch_size=BATCH, lr=lr, beta=beta, init_std=0.0)]
    w, b, history = train_outputs(got, X, len(LRS))
    run = oracle_run(ROW, TARGET, ROWS, BATCH, lrs, beta)
    got_params = [*w.double().cpu().tolist(), float(b)]
    tol = 1e-9 if dtype == torch.float64 else 1e-4
    if is_close(got_params, run.params, rtol=tol) and is_close(history, run.history, rtol=tol):
        return
    (got_wb, want_wb) = apart(got_params, run.params, rtol=tol)
    (got_history, want_history) = apart(history, run.history, rtol=tol)
    raise Failure(
        f"train on {ROWS} copies of the row {fmt(ROW)} with target {TARGET}, batch_size={BATCH}, "
        f"lr={'lr(epoch) = ' + fmt(LRS) if scheduled else fmt(LRS[0])}, beta={beta}, init_std=0 ({dtype}): got "
        f"w, b = {got_wb} and history {got_history}; torch.optim.SGD gives {want_wb} and {want_history}.",
        diagnosis=_diagnose(got_params, history, beta, scheduled, tol),
    )


@stored
def least_squares(X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """[w…, b] of the least-squares fit (torch.linalg.lstsq), in float64."""
    design = torch.cat([X.double(), torch.ones(len(X), 1, dtype=torch.float64)], dim=1)
    return torch.linalg.lstsq(design, y.double()[:, None]).solution[:, 0]


def regression_data(dtype: torch.dtype, n: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed, well-conditioned linear-regression problem with a little noise."""
    g = torch.Generator().manual_seed(2024)
    X = torch.randn(n, 3, generator=g, dtype=torch.float64)
    y = (
        X @ torch.tensor([2.0, -1.0, 0.5], dtype=torch.float64)
        + 0.3
        + 0.01 * torch.randn(n, generator=g, dtype=torch.float64)
    )
    return X.to(dtype), y.to(dtype)


CONVERGENCE_EPOCHS = 30
CONVERGENCE_LRS = tuple(0.1 * 0.9**e for e in range(CONVERGENCE_EPOCHS))
CONVERGENCE_TOLERANCE = 0.02


@check(
    "train",
    "converges to the least-squares fit (torch.linalg.lstsq), with history = the full-data mse",
    points=3,
    examples=st.tuples(st.sampled_from([torch.float64, torch.float32]), st.just(TARGET_DEVICE)),
    max_examples=4,
)
def converges_to_least_squares(example):
    dtype, device = example
    X, y = regression_data(dtype)
    (got,) = yield [
        train_call(
            X.to(device),
            y.to(device),
            epochs=CONVERGENCE_EPOCHS,
            batch_size=8,
            lr=LrTable(CONVERGENCE_LRS),
            beta=0.5,
            seed=3,
        )
    ]
    w, b, history = train_outputs(got, X.to(device), CONVERGENCE_EPOCHS)
    if len(history) != CONVERGENCE_EPOCHS:
        raise Failure(
            f"train ran {CONVERGENCE_EPOCHS} epochs but history has {len(history)} entries; expected one per epoch.",
            diagnosis="history_per_batch" if len(history) > CONVERGENCE_EPOCHS else None,
        )
    solution = least_squares(X, y)
    got_params = torch.cat([w.double().cpu(), b.double().cpu()[None]])
    if (got_params - solution).abs().max() > CONVERGENCE_TOLERANCE:
        raise Failure(
            f"after {CONVERGENCE_EPOCHS} epochs train reached w, b = {fmt(got_params)}; the least-squares "
            f"fit is {fmt(solution)} (history ends {fmt(history[-3:])})."
        )
    final = _full_mse(X, y, w, b)
    if not is_close(history[-1], final, rtol=1e-4, atol=1e-7):
        raise Failure(
            f"history[-1] = {history[-1]:.6g}, but the mse of the returned model on the full data is "
            f"{final:.6g}: record the full-data mse after each epoch."
        )


@check(
    "train", "starts from init_params(D, std=init_std, generator=generator)", points=2, examples=st.just(TARGET_DEVICE)
)
def starts_from_init(device):
    X = torch.ones(4, 400, device=device)
    y = torch.zeros(4, device=device)
    got = yield [
        train_call(X, y, epochs=1, batch_size=2, lr=0.0, seed=s, key=k, init_std=1.0)
        for s, k in ((5, "a"), (5, "b"), (6, "c"))
    ]
    (w1, b1, _), (w2, _, _), (w3, _, _) = (train_outputs(g, X, 1) for g in got)
    if not w1.abs().gt(0).any():
        raise Failure(
            HINTS["init_ignored"],
            diagnosis="init_ignored",
        )
    sample_std = float(w1.double().std())
    if not 0.7 < sample_std < 1.3 or float(b1) != 0.0:
        raise Failure(
            f"with init_std=1.0 and lr=0, train's 400 starting weights have standard deviation "
            f"{sample_std:.3g} and b = {float(b1):.3g}; expected about 1 and exactly 0.",
            diagnosis="init_ignored",
        )
    if not torch.equal(w1, w2) or torch.equal(w1, w3):
        raise Failure(
            "train's starting weights do not follow the generator: the same seed must give the same "
            "start and another seed another start."
        )


@check(
    "train",
    "draws its shuffles from the generator: same seed, same run; another seed, another run",
    points=2,
    examples=st.just(TARGET_DEVICE),
)
def reproducible_shuffles(device):
    X, y = (t.to(device) for t in regression_data(torch.float64, n=24))
    got = yield [
        train_call(X, y, epochs=2, batch_size=4, lr=0.05, seed=s, key=k, init_std=0.0)
        for s, k in ((1, "a"), (1, "b"), (2, "c"))
    ]
    (w1, _, h1), (w2, _, h2), (w3, _, h3) = (train_outputs(g, X, 2) for g in got)
    if not torch.equal(w1, w2) or h1 != h2:
        raise Failure(
            "two runs of train with generators seeded alike differ: draw every random number "
            "(init and shuffles) from `generator`."
        )
    if torch.equal(w1, w3):
        raise Failure(
            HINTS["fixed_seed"],
            diagnosis="fixed_seed",
        )


@check(
    "train",
    "returns w (D,), b (), history (list of floats) in X's dtype, and leaves X and y unchanged",
    points=1,
    examples=st.tuples(st.sampled_from([torch.float32, torch.float64]), st.just(TARGET_DEVICE)),
    max_examples=4,
)
def keeps_contract(example):
    dtype, device = example
    X, y = (t.to(device) for t in regression_data(dtype, n=12))
    call = train_call(X, y, epochs=3, batch_size=5, lr=0.05, beta=0.9)
    (result,) = yield Raw([call])
    _, _, history = train_outputs(value_of(call, result), X, 3)
    if len(history) != 3:
        raise Failure(
            f"train ran 3 epochs but history has {len(history)} entries; expected one per epoch.",
            diagnosis="history_per_batch" if len(history) > 3 else None,
        )
    expect_unchanged(result, "train")
