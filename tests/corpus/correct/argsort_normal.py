"""Correct: init via torch.normal, shuffle as argsort of torch.rand, cosine via a sine identity, if-clamps."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence

import torch
from torch import Tensor


def init_params(
    n_features: int,
    *,
    std: float = 0.01,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device = "cpu",
) -> tuple[Tensor, Tensor]:
    w = torch.normal(0.0, std, size=(n_features,), generator=generator, dtype=dtype, device=device)
    b = torch.tensor(0, dtype=dtype, device=device)
    return w, b


def predict(X: Tensor, w: Tensor, b: Tensor) -> Tensor:
    return (X * w).sum(dim=-1) + b


def mse(preds: Tensor, targets: Tensor) -> Tensor:
    return torch.mean(torch.square(preds - targets))


def mse_grad(X: Tensor, y: Tensor, w: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    residuals = (X * w).sum(dim=-1) + b - y
    weighted = X * residuals.unsqueeze(-1)
    grad_w = 2.0 * weighted.mean(dim=0)
    grad_b = 2.0 * residuals.mean()
    return grad_w, grad_b


def sgd_step(params: Sequence[Tensor], grads: Sequence[Tensor], lr: float) -> list[Tensor]:
    out = []
    for p, g in zip(params, grads):
        out.append(p + (-lr) * g)
    return out


def minibatches(
    n: int,
    batch_size: int,
    *,
    shuffle: bool = True,
    drop_last: bool = False,
    generator: torch.Generator | None = None,
) -> Iterator[Tensor]:
    if shuffle:
        # i.i.d. uniform keys, sorted: a uniformly random permutation (ties have probability ~0)
        keys = torch.rand(n, generator=generator, dtype=torch.float64)
        order = torch.argsort(keys)
    else:
        order = torch.arange(n)
    full, rest = divmod(n, batch_size)
    for k in range(full):
        yield order[k * batch_size : (k + 1) * batch_size]
    if rest and not drop_last:
        yield order[full * batch_size :]


def momentum_step(
    params: Sequence[Tensor],
    grads: Sequence[Tensor],
    velocities: Sequence[Tensor],
    lr: float,
    beta: float,
    *,
    nesterov: bool = False,
) -> tuple[list[Tensor], list[Tensor]]:
    new_params, new_velocities = [], []
    for p, g, v in zip(params, grads, velocities):
        v_next = v * beta + g
        if nesterov:
            p_next = p - lr * g - lr * beta * v_next
        else:
            p_next = p - lr * v_next
        new_params.append(p_next)
        new_velocities.append(v_next)
    return new_params, new_velocities


def exponential_decay(lr0: float, gamma: float, t: int) -> float:
    return lr0 * gamma**t


def step_decay(lr0: float, gamma: float, step_size: int, t: int) -> float:
    return lr0 * gamma ** math.floor(t / step_size)


def linear_decay(lr0: float, lr_end: float, total: int, t: int) -> float:
    if t >= total:
        return lr_end
    return lr0 + (lr_end - lr0) * t / total


def cosine_decay(lr0: float, lr_min: float, total: int, t: int) -> float:
    if t >= total:
        return lr_min
    # (1 + cos x) / 2 == 1 - sin(x / 2) ** 2
    return lr_min + (lr0 - lr_min) * (1.0 - math.sin(math.pi * t / (2 * total)) ** 2)


def train(
    X: Tensor,
    y: Tensor,
    *,
    epochs: int,
    batch_size: int,
    lr: float | Callable[[int], float],
    beta: float = 0.0,
    generator: torch.Generator | None = None,
    init_std: float = 0.01,
) -> tuple[Tensor, Tensor, list[float]]:
    n, d = X.shape
    w, b = init_params(d, std=init_std, generator=generator, dtype=X.dtype)
    w, b = w.to(X.device), b.to(X.device)
    vel = [torch.zeros_like(w), torch.zeros_like(b)]
    history = []
    for epoch in range(epochs):
        rate = lr(epoch) if callable(lr) else lr
        batches = list(minibatches(n, batch_size, generator=generator))
        for rows in batches:
            rows = rows.to(X.device)
            grads = mse_grad(X[rows], y[rows], w, b)
            (w, b), vel = momentum_step([w, b], grads, vel, rate, beta)
        history.append(mse(predict(X, w, b), y).item())
    return w, b, history
