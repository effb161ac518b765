"""Correct: hand-written Fisher-Yates shuffle with torch.randint, minibatches as a list, mv/addmv algebra.

rules: mse.no_mse_loss
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor


def init_params(
    n_features: int,
    *,
    std: float = 0.01,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device = "cpu",
) -> tuple[Tensor, Tensor]:
    w = torch.randn((n_features,), generator=generator, dtype=dtype, device=device).mul(std)
    b = torch.zeros([], dtype=dtype, device=device)
    return w, b


def predict(X: Tensor, w: Tensor, b: Tensor) -> Tensor:
    return torch.mv(X, w).add(b)


def mse(preds: Tensor, targets: Tensor) -> Tensor:
    return F.mse_loss(preds, targets, reduction="mean")


def mse_grad(X: Tensor, y: Tensor, w: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    residuals = torch.addmv(b - y, X, w)
    scale = 2.0 / X.shape[0]
    return torch.mv(X.t(), residuals).mul(scale), residuals.sum().mul(scale)


def sgd_step(params: Sequence[Tensor], grads: Sequence[Tensor], lr: float) -> list[Tensor]:
    return [torch.sub(p, g, alpha=lr) for p, g in zip(params, grads)]


def _fisher_yates(n: int, generator: torch.Generator | None) -> list[int]:
    """A uniformly random permutation of range(n): swap each position from the end with a
    uniformly chosen position at or before it."""
    order = list(range(n))
    for i in range(n - 1, 0, -1):
        j = int(torch.randint(0, i + 1, (1,), generator=generator).item())
        order[i], order[j] = order[j], order[i]
    return order


def minibatches(
    n: int,
    batch_size: int,
    *,
    shuffle: bool = True,
    drop_last: bool = False,
    generator: torch.Generator | None = None,
) -> list[Tensor]:
    order = _fisher_yates(n, generator) if shuffle else list(range(n))
    batches = [torch.tensor(order[start : start + batch_size], dtype=torch.int64) for start in range(0, n, batch_size)]
    if drop_last and batches and len(batches[-1]) < batch_size:
        batches.pop()
    return batches


def momentum_step(
    params: Sequence[Tensor],
    grads: Sequence[Tensor],
    velocities: Sequence[Tensor],
    lr: float,
    beta: float,
    *,
    nesterov: bool = False,
) -> tuple[list[Tensor], list[Tensor]]:
    new_velocities = [torch.add(g, v, alpha=beta) for v, g in zip(velocities, grads)]
    if nesterov:
        new_params = [
            torch.sub(p, torch.add(g, v, alpha=beta), alpha=lr) for p, g, v in zip(params, grads, new_velocities)
        ]
    else:
        new_params = [torch.sub(p, v, alpha=lr) for p, v in zip(params, new_velocities)]
    return new_params, new_velocities


def exponential_decay(lr0: float, gamma: float, t: int) -> float:
    return lr0 * pow(gamma, t)


def step_decay(lr0: float, gamma: float, step_size: int, t: int) -> float:
    drops, _ = divmod(t, step_size)
    return lr0 * pow(gamma, drops)


def linear_decay(lr0: float, lr_end: float, total: int, t: int) -> float:
    done = min(t, total) / total
    return (1 - done) * lr0 + done * lr_end if done < 1 else lr0 + (lr_end - lr0)


def cosine_decay(lr0: float, lr_min: float, total: int, t: int) -> float:
    return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * min(t, total) / total)) / 2


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
    schedule = lr if callable(lr) else (lambda _epoch: lr)
    for epoch in range(epochs):
        rate = schedule(epoch)
        for rows in minibatches(n, batch_size, generator=generator):
            grads = mse_grad(X[rows.to(X.device)], y[rows.to(X.device)], *params)
            params, velocities = momentum_step(params, grads, velocities, rate, beta)
        history.append(float(mse(predict(X, *params), y)))
    return params[0], params[1], history
