"""Correct: torch.einsum for every product and sum, torch.split for the minibatches."""

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
    noise = torch.randn(n_features, generator=generator, dtype=dtype, device=device)
    scale = torch.tensor(std, dtype=dtype, device=device)
    w = torch.einsum("d,->d", noise, scale)
    b = torch.einsum("d->", torch.zeros(0, dtype=dtype, device=device))
    return w, b


def predict(X: Tensor, w: Tensor, b: Tensor) -> Tensor:
    return torch.einsum("nd,d->n", X, w) + b


def mse(preds: Tensor, targets: Tensor) -> Tensor:
    r = preds - targets
    return torch.einsum("n,n->", r, r) / r.shape[0]


def mse_grad(X: Tensor, y: Tensor, w: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    r = torch.einsum("nd,d->n", X, w) + b - y
    n = r.shape[0]
    grad_w = torch.einsum("nd,n->d", X, r) * (2.0 / n)
    grad_b = torch.einsum("n->", r) * (2.0 / n)
    return grad_w, grad_b


def sgd_step(params: Sequence[Tensor], grads: Sequence[Tensor], lr: float) -> list[Tensor]:
    return [
        p - torch.einsum("...,->...", g, torch.tensor(lr, dtype=g.dtype, device=g.device))
        for p, g in zip(params, grads)
    ]


def minibatches(
    n: int,
    batch_size: int,
    *,
    shuffle: bool = True,
    drop_last: bool = False,
    generator: torch.Generator | None = None,
) -> Iterator[Tensor]:
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    for batch in torch.split(order, batch_size):
        if drop_last and batch.numel() < batch_size:
            return
        yield batch.clone()


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
        coef = torch.tensor(beta, dtype=v.dtype, device=v.device)
        v_new = torch.einsum("...,->...", v, coef) + g
        direction = g + torch.einsum("...,->...", v_new, coef) if nesterov else v_new
        new_params.append(p - torch.einsum("...,->...", direction, torch.tensor(lr, dtype=p.dtype, device=p.device)))
        new_velocities.append(v_new)
    return new_params, new_velocities


def exponential_decay(lr0: float, gamma: float, t: int) -> float:
    return lr0 * math.pow(gamma, t)


def step_decay(lr0: float, gamma: float, step_size: int, t: int) -> float:
    return lr0 * math.pow(gamma, t // step_size)


def linear_decay(lr0: float, lr_end: float, total: int, t: int) -> float:
    return lr0 + (lr_end - lr0) * (min(t, total) / total)


def cosine_decay(lr0: float, lr_min: float, total: int, t: int) -> float:
    return lr_min + 0.5 * (lr0 - lr_min) * (1.0 + math.cos(math.pi * min(t, total) / total))


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
    w, b = (t.to(X.device) for t in init_params(d, std=init_std, generator=generator, dtype=X.dtype))
    params, velocities = [w, b], [torch.zeros_like(w), torch.zeros_like(b)]
    history = []
    for epoch in range(epochs):
        rate = lr(epoch) if callable(lr) else lr
        for rows in minibatches(n, batch_size, generator=generator):
            rows = rows.to(X.device)
            grads = mse_grad(X[rows], y[rows], params[0], params[1])
            params, velocities = momentum_step(params, list(grads), velocities, rate, beta)
        history.append(mse(predict(X, params[0], params[1]), y).item())
    return params[0], params[1], history
