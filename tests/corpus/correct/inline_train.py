"""Correct: tensordot/addcmul algebra, log-exp and sine schedules, and a train with its own inline updates."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

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
    w = torch.zeros(n_features, dtype=dtype, device=device)
    w.add_(torch.randn(n_features, generator=generator, dtype=dtype, device=device), alpha=std)
    b = w.new_zeros(())
    return w, b


def predict(X: Tensor, w: Tensor, b: Tensor) -> Tensor:
    return torch.tensordot(X, w, dims=1) + b


def mse(preds: Tensor, targets: Tensor) -> Tensor:
    return torch.dist(preds, targets) ** 2 / preds.shape[0]


def mse_grad(X: Tensor, y: Tensor, w: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    n = y.shape[0]
    r = torch.tensordot(X, w, dims=1) + b - y
    return torch.tensordot(r, X, dims=1) * (2 / n), torch.sum(r) * (2 / n)


def sgd_step(params: Sequence[Tensor], grads: Sequence[Tensor], lr: float) -> list[Tensor]:
    return [torch.addcmul(p, g, torch.ones_like(g), value=-lr) for p, g in zip(params, grads)]


def minibatches(
    n: int,
    batch_size: int,
    *,
    shuffle: bool = True,
    drop_last: bool = False,
    generator: torch.Generator | None = None,
) -> list[Tensor]:
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    cuts = list(range(batch_size, n, batch_size))
    pieces = [piece.clone() for piece in torch.tensor_split(order, cuts)] if n else []
    return [piece for piece in pieces if not (drop_last and len(piece) < batch_size)]


def momentum_step(
    params: Sequence[Tensor],
    grads: Sequence[Tensor],
    velocities: Sequence[Tensor],
    lr: float,
    beta: float,
    *,
    nesterov: bool = False,
) -> tuple[list[Tensor], list[Tensor]]:
    def one(p: Tensor, g: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        v_next = torch.add(g, v, alpha=beta)
        push = torch.add(g, v_next, alpha=beta) if nesterov else v_next
        return torch.add(p, push, alpha=-lr), v_next

    results = [one(p, g, v) for p, g, v in zip(params, grads, velocities)]
    return [p for p, _ in results], [v for _, v in results]


def exponential_decay(lr0: float, gamma: float, t: int) -> float:
    if gamma > 0:
        return lr0 * math.exp(t * math.log(gamma))
    return lr0 * gamma**t


def step_decay(lr0: float, gamma: float, step_size: int, t: int) -> float:
    completed_steps = 0
    while (completed_steps + 1) * step_size <= t:
        completed_steps += 1
    return lr0 * gamma**completed_steps


def linear_decay(lr0: float, lr_end: float, total: int, t: int) -> float:
    if t < total:
        return lr0 + (lr_end - lr0) * (t / total)
    return lr0 + (lr_end - lr0)


def cosine_decay(lr0: float, lr_min: float, total: int, t: int) -> float:
    x = math.pi * min(t, total) / total
    # cos x == sin(pi/2 - x)
    return lr_min + (lr0 - lr_min) * (1 + math.sin(math.pi / 2 - x)) / 2


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
    vw, vb = torch.zeros_like(w), torch.zeros_like(b)
    history: list[float] = []
    for epoch in range(epochs):
        step = lr(epoch) if callable(lr) else lr
        for rows in minibatches(n, batch_size, generator=generator):
            rows = rows.to(X.device)
            Xb, yb = X[rows], y[rows]
            r = Xb @ w + b - yb
            gw = 2.0 / Xb.shape[0] * (Xb.T @ r)
            gb = 2.0 * r.mean()
            vw = beta * vw + gw
            vb = beta * vb + gb
            w = w - step * vw
            b = b - step * vb
        full = X @ w + b - y
        history.append((full * full).mean().item())
    return w, b, history
