"""Correct: every computation upcast to float64 inside, the results cast back to the input dtype."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence

import torch
from torch import Tensor

WIDE = torch.float64


def init_params(
    n_features: int,
    *,
    std: float = 0.01,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device = "cpu",
) -> tuple[Tensor, Tensor]:
    w = torch.randn(n_features, generator=generator, dtype=WIDE, device=device) * std
    b = torch.zeros((), dtype=WIDE, device=device)
    return w.to(dtype), b.to(dtype)


def predict(X: Tensor, w: Tensor, b: Tensor) -> Tensor:
    out = torch.matmul(X.to(WIDE), w.to(WIDE)) + b.to(WIDE)
    return out.to(X.dtype)


def mse(preds: Tensor, targets: Tensor) -> Tensor:
    diff = preds.to(WIDE) - targets.to(WIDE)
    return (diff * diff).sum().div(diff.numel()).to(preds.dtype)


def mse_grad(X: Tensor, y: Tensor, w: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    X64 = X.to(WIDE)
    r = X64 @ w.to(WIDE) + b.to(WIDE) - y.to(WIDE)
    n = X64.shape[0]
    grad_w = X64.T @ r * (2.0 / n)
    grad_b = r.sum() * (2.0 / n)
    return grad_w.to(X.dtype), grad_b.to(X.dtype)


def sgd_step(params: Sequence[Tensor], grads: Sequence[Tensor], lr: float) -> list[Tensor]:
    return [(p.to(WIDE) - lr * g.to(WIDE)).to(p.dtype) for p, g in zip(params, grads)]


def minibatches(
    n: int,
    batch_size: int,
    *,
    shuffle: bool = True,
    drop_last: bool = False,
    generator: torch.Generator | None = None,
) -> Iterator[Tensor]:
    if shuffle:
        order = torch.randperm(n, generator=generator, dtype=torch.int64)
    else:
        order = torch.arange(n, dtype=torch.int64)
    start = 0
    while start < n:
        batch = order[start : start + batch_size]
        if drop_last and len(batch) < batch_size:
            break
        yield batch
        start += batch_size


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
        g64 = g.to(WIDE)
        v64 = beta * v.to(WIDE) + g64
        d64 = g64 + beta * v64 if nesterov else v64
        new_params.append((p.to(WIDE) - lr * d64).to(p.dtype))
        new_velocities.append(v64.to(v.dtype))
    return new_params, new_velocities


def exponential_decay(lr0: float, gamma: float, t: int) -> float:
    return float(lr0) * float(gamma) ** int(t)


def step_decay(lr0: float, gamma: float, step_size: int, t: int) -> float:
    return float(lr0) * float(gamma) ** (int(t) // int(step_size))


def linear_decay(lr0: float, lr_end: float, total: int, t: int) -> float:
    return float(lr0) + (float(lr_end) - float(lr0)) * min(t, total) / total


def cosine_decay(lr0: float, lr_min: float, total: int, t: int) -> float:
    half_wave = (1.0 + math.cos(math.pi * min(t, total) / total)) / 2.0
    return float(lr_min) + (float(lr0) - float(lr_min)) * half_wave


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
    params = [w.to(X.device), b.to(X.device)]
    velocities = [torch.zeros_like(p) for p in params]
    history = []
    for epoch in range(epochs):
        rate = lr(epoch) if callable(lr) else lr
        for rows in minibatches(n, batch_size, generator=generator):
            rows = rows.to(X.device)
            grads = mse_grad(X[rows], y[rows], *params)
            params, velocities = momentum_step(params, grads, velocities, rate, beta)
        history.append(float(mse(predict(X, *params), y)))
    return params[0], params[1], history
