"""Correct: every step built on the others, gradients by autograd through them.

mse_grad differentiates mse(predict(...)) with loss.backward(); momentum_step calls sgd_step;
train trains with torch.optim.SGD on mse(predict(...)) and asks init_params and minibatches for
its weights and batches. While one step is checked, the others are answered outside the
worker, so this checks that autograd, generators and lazy minibatches cross that boundary.

rules: mse.no_mse_loss, gradient.by_hand
"""

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
    w = torch.randn(n_features, generator=generator, dtype=dtype, device=device) * std
    return w, torch.zeros((), dtype=dtype, device=device)


def predict(X: Tensor, w: Tensor, b: Tensor) -> Tensor:
    return X @ w + b


def mse(preds: Tensor, targets: Tensor) -> Tensor:
    return torch.nn.functional.mse_loss(preds, targets)


def mse_grad(X: Tensor, y: Tensor, w: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    w = w.detach().clone().requires_grad_()
    b = b.detach().clone().requires_grad_()
    with torch.enable_grad():
        mse(predict(X, w, b), y).backward()
    return w.grad, b.grad


def sgd_step(params: Sequence[Tensor], grads: Sequence[Tensor], lr: float) -> list[Tensor]:
    return [p - lr * g for p, g in zip(params, grads)]


def momentum_step(
    params: Sequence[Tensor],
    grads: Sequence[Tensor],
    velocities: Sequence[Tensor],
    lr: float,
    beta: float,
    *,
    nesterov: bool = False,
) -> tuple[list[Tensor], list[Tensor]]:
    new_velocities = [beta * v + g for v, g in zip(velocities, grads)]
    directions = [g + beta * v for g, v in zip(grads, new_velocities)] if nesterov else new_velocities
    return sgd_step(params, directions, lr), new_velocities


def minibatches(
    n: int,
    batch_size: int,
    *,
    shuffle: bool = True,
    drop_last: bool = False,
    generator: torch.Generator | None = None,
) -> Iterator[Tensor]:
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        yield order[start : start + batch_size]


def exponential_decay(lr0: float, gamma: float, t: int) -> float:
    return lr0 * gamma**t


def step_decay(lr0: float, gamma: float, step_size: int, t: int) -> float:
    return exponential_decay(lr0, gamma, t // step_size)


def linear_decay(lr0: float, lr_end: float, total: int, t: int) -> float:
    return lr0 + (lr_end - lr0) * min(t, total) / total


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
    w, b = init_params(X.shape[1], std=init_std, generator=generator, dtype=X.dtype)
    w, b = w.to(X.device).requires_grad_(), b.to(X.device).requires_grad_()
    optimizer = torch.optim.SGD([w, b], lr=lr(0) if callable(lr) else lr, momentum=beta)
    history = []
    for epoch in range(epochs):
        for group in optimizer.param_groups:
            group["lr"] = lr(epoch) if callable(lr) else lr
        for rows in minibatches(X.shape[0], batch_size, generator=generator):
            optimizer.zero_grad()
            rows = rows.to(X.device)
            with torch.enable_grad():
                mse(predict(X[rows], w, b), y[rows]).backward()
            optimizer.step()
        with torch.no_grad():
            history.append(float(mse(predict(X, w, b), y)))
    return w.detach(), b.detach(), history
