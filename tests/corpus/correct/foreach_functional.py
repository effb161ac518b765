"""Correct: torch._foreach ops, functional style, and a train that computes the gradient inline.

rules: mse.no_mse_loss
"""

from __future__ import annotations

import functools
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
    make = functools.partial(torch.randn, generator=generator, dtype=dtype, device=device)
    return make(n_features).mul(std), torch.zeros((), dtype=dtype, device=device)


def predict(X: Tensor, w: Tensor, b: Tensor) -> Tensor:
    return torch.nn.functional.linear(X, w.unsqueeze(0), b.reshape(1)).squeeze(-1)


def mse(preds: Tensor, targets: Tensor) -> Tensor:
    return torch.nn.functional.mse_loss(preds, targets)


def mse_grad(X: Tensor, y: Tensor, w: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    r = torch.addmv(b - y, X, w)
    twice_mean = 2.0 / len(r)
    return torch.mv(X.mT, r) * twice_mean, r.sum() * twice_mean


def sgd_step(params: Sequence[Tensor], grads: Sequence[Tensor], lr: float) -> list[Tensor]:
    return list(torch._foreach_add(list(params), list(grads), alpha=-lr))


def minibatches(
    n: int,
    batch_size: int,
    *,
    shuffle: bool = True,
    drop_last: bool = False,
    generator: torch.Generator | None = None,
) -> Iterator[Tensor]:
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    starts = range(0, n - batch_size + 1 if drop_last else n, batch_size)
    return map(lambda start: order[start : start + batch_size], starts)


def momentum_step(
    params: Sequence[Tensor],
    grads: Sequence[Tensor],
    velocities: Sequence[Tensor],
    lr: float,
    beta: float,
    *,
    nesterov: bool = False,
) -> tuple[list[Tensor], list[Tensor]]:
    params, grads, velocities = list(params), list(grads), list(velocities)
    if not params:
        return [], []
    new_velocities = torch._foreach_add(torch._foreach_mul(velocities, beta), grads)
    directions = torch._foreach_add(grads, new_velocities, alpha=beta) if nesterov else new_velocities
    new_params = torch._foreach_sub(params, directions, alpha=lr)
    return list(new_params), list(new_velocities)


def exponential_decay(lr0: float, gamma: float, t: int) -> float:
    return functools.reduce(lambda rate, _: rate * gamma, range(t), lr0) if t < 64 else lr0 * gamma**t


def step_decay(lr0: float, gamma: float, step_size: int, t: int) -> float:
    return exponential_decay(lr0, gamma, t // step_size)


def linear_decay(lr0: float, lr_end: float, total: int, t: int) -> float:
    fraction = max(0.0, min(1.0, t / total))
    return lr0 + fraction * (lr_end - lr0)


def cosine_decay(lr0: float, lr_min: float, total: int, t: int) -> float:
    # (1 + cos x) / 2 == cos(x / 2) ** 2
    return lr_min + (lr0 - lr_min) * math.cos(math.pi * min(t, total) / (2 * total)) ** 2


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
    params = [t.to(X.device) for t in init_params(d, std=init_std, generator=generator, dtype=X.dtype)]
    velocities = torch._foreach_mul(params, 0.0)
    schedule = lr if callable(lr) else (lambda _epoch: lr)
    history = []
    for epoch in range(epochs):
        rate = schedule(epoch)
        for rows in minibatches(n, batch_size, generator=generator):
            Xb, yb = X[rows.to(X.device)], y[rows.to(X.device)]
            residuals = Xb @ params[0] + params[1] - yb
            grads = [2.0 * (Xb.T @ residuals) / len(rows), 2.0 * residuals.mean()]
            params, velocities = momentum_step(params, grads, velocities, rate, beta)
        history.append(mse(predict(X, *params), y).item())
    return params[0], params[1], history
