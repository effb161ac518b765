"""Correct: plain Python loops over rows, features and elements, results rebuilt as tensors."""

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
    draws = torch.randn(n_features, generator=generator, dtype=dtype, device=device)
    w = torch.empty(n_features, dtype=dtype, device=device)
    for j in range(n_features):
        w[j] = draws[j] * std
    b = torch.tensor(0.0, dtype=dtype, device=device)
    return w, b


def predict(X: Tensor, w: Tensor, b: Tensor) -> Tensor:
    n_rows, n_features = X.shape
    preds = torch.empty(n_rows, dtype=X.dtype, device=X.device)
    for i in range(n_rows):
        score = b.clone()
        for j in range(n_features):
            score = score + X[i, j] * w[j]
        preds[i] = score
    return preds


def mse(preds: Tensor, targets: Tensor) -> Tensor:
    total = torch.zeros((), dtype=preds.dtype, device=preds.device)
    count = 0
    for p, t in zip(preds, targets):
        total = total + (p - t) * (p - t)
        count += 1
    return total / count


def mse_grad(X: Tensor, y: Tensor, w: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    n_rows, n_features = X.shape
    grad_w = torch.zeros(n_features, dtype=X.dtype, device=X.device)
    grad_b = torch.zeros((), dtype=X.dtype, device=X.device)
    for i in range(n_rows):
        residual = b.clone()
        for j in range(n_features):
            residual = residual + X[i, j] * w[j]
        residual = residual - y[i]
        for j in range(n_features):
            grad_w[j] = grad_w[j] + 2.0 * residual * X[i, j] / n_rows
        grad_b = grad_b + 2.0 * residual / n_rows
    return grad_w, grad_b


def _elementwise(p: Tensor, direction: Tensor, lr: float) -> Tensor:
    """p - lr * direction, one element at a time, in a fresh tensor of p's shape."""
    new = p.clone()
    flat_new = new.view(-1)
    flat_dir = direction.reshape(-1)
    for k in range(flat_new.numel()):
        flat_new[k] = flat_new[k] - lr * flat_dir[k]
    return new


def sgd_step(params: Sequence[Tensor], grads: Sequence[Tensor], lr: float) -> list[Tensor]:
    new_params = []
    for i in range(len(params)):
        new_params.append(_elementwise(params[i], grads[i], lr))
    return new_params


def minibatches(
    n: int,
    batch_size: int,
    *,
    shuffle: bool = True,
    drop_last: bool = False,
    generator: torch.Generator | None = None,
) -> Iterator[Tensor]:
    order = torch.randperm(n, generator=generator).tolist() if shuffle else list(range(n))
    batch: list[int] = []
    for index in order:
        batch.append(index)
        if len(batch) == batch_size:
            yield torch.tensor(batch, dtype=torch.int64)
            batch = []
    if batch and not drop_last:
        yield torch.tensor(batch, dtype=torch.int64)


def momentum_step(
    params: Sequence[Tensor],
    grads: Sequence[Tensor],
    velocities: Sequence[Tensor],
    lr: float,
    beta: float,
    *,
    nesterov: bool = False,
) -> tuple[list[Tensor], list[Tensor]]:
    new_params = []
    new_velocities = []
    for i in range(len(params)):
        g = grads[i].reshape(-1)
        v = velocities[i].reshape(-1)
        new_v = velocities[i].clone()
        flat_v = new_v.view(-1)
        for k in range(flat_v.numel()):
            flat_v[k] = beta * v[k] + g[k]
        if nesterov:
            direction = grads[i].clone()
            flat_d = direction.view(-1)
            for k in range(flat_d.numel()):
                flat_d[k] = g[k] + beta * flat_v[k]
        else:
            direction = new_v
        new_params.append(_elementwise(params[i], direction, lr))
        new_velocities.append(new_v)
    return new_params, new_velocities


def exponential_decay(lr0: float, gamma: float, t: int) -> float:
    rate = lr0
    for _ in range(t):
        rate *= gamma
    return rate


def step_decay(lr0: float, gamma: float, step_size: int, t: int) -> float:
    rate = lr0
    for epoch in range(1, t + 1):
        if epoch % step_size == 0:
            rate *= gamma
    return rate


def linear_decay(lr0: float, lr_end: float, total: int, t: int) -> float:
    progress = min(t, total) / total
    return lr0 + (lr_end - lr0) * progress


def cosine_decay(lr0: float, lr_min: float, total: int, t: int) -> float:
    progress = min(t, total) / total
    return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * progress)) / 2


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
    n_rows, n_features = X.shape
    w, b = init_params(n_features, std=init_std, generator=generator, dtype=X.dtype)
    w, b = w.to(X.device), b.to(X.device)
    v_w, v_b = torch.zeros_like(w), torch.zeros_like(b)
    history: list[float] = []
    epoch = 0
    while epoch < epochs:
        rate = lr(epoch) if callable(lr) else lr
        for rows in minibatches(n_rows, batch_size, generator=generator):
            rows = rows.to(X.device)
            g_w, g_b = mse_grad(X[rows], y[rows], w, b)
            (w, b), (v_w, v_b) = momentum_step([w, b], [g_w, g_b], [v_w, v_b], rate, beta)
        history.append(mse(predict(X, w, b), y).item())
        epoch += 1
    return w, b, history
