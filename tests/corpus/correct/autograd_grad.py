"""Correct: mse_grad via torch.autograd.grad on detached clones; init via Tensor.normal_(generator=...).

rules: gradient.by_hand
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
    w = torch.empty(n_features, dtype=dtype, device=device).normal_(0.0, std, generator=generator)
    b = torch.zeros(1, dtype=dtype, device=device).squeeze(0)
    return w, b


def predict(X: Tensor, w: Tensor, b: Tensor) -> Tensor:
    return torch.matmul(X, w) + b


def mse(preds: Tensor, targets: Tensor) -> Tensor:
    return (preds - targets).pow(2).sum() / preds.numel()


def mse_grad(X: Tensor, y: Tensor, w: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    w_leaf = w.detach().clone().requires_grad_(True)
    b_leaf = b.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        loss = ((X.detach() @ w_leaf + b_leaf - y.detach()) ** 2).mean()
        grad_w, grad_b = torch.autograd.grad(loss, (w_leaf, b_leaf))
    return grad_w.detach(), grad_b.detach()


def sgd_step(params: Sequence[Tensor], grads: Sequence[Tensor], lr: float) -> list[Tensor]:
    updated = []
    for index, p in enumerate(params):
        updated.append(p.sub(grads[index] * lr))
    return updated


def minibatches(
    n: int,
    batch_size: int,
    *,
    shuffle: bool = True,
    drop_last: bool = False,
    generator: torch.Generator | None = None,
) -> Iterator[Tensor]:
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    chunks = list(order.split(batch_size))
    if drop_last and chunks and chunks[-1].numel() != batch_size:
        chunks = chunks[:-1]
    return iter(chunks)


def momentum_step(
    params: Sequence[Tensor],
    grads: Sequence[Tensor],
    velocities: Sequence[Tensor],
    lr: float,
    beta: float,
    *,
    nesterov: bool = False,
) -> tuple[list[Tensor], list[Tensor]]:
    pairs = []
    for p, g, v in zip(params, grads, velocities):
        v_new = beta * v + g
        look = g + beta * v_new if nesterov else v_new
        pairs.append((p - lr * look, v_new))
    return [p for p, _ in pairs], [v for _, v in pairs]


def exponential_decay(lr0: float, gamma: float, t: int) -> float:
    return lr0 * gamma**t


def step_decay(lr0: float, gamma: float, step_size: int, t: int) -> float:
    return lr0 * gamma ** (t // step_size)


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
