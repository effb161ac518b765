"""Correct: prints a lot to stdout and stderr and emits a warning in every function."""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence

import torch
from torch import Tensor


def _chatter(name: str, *details: object) -> None:
    print(f"[{name}] called with", *details)
    print(f"[{name}] " + "debug " * 40)
    print(f"[{name}] working...", file=sys.stderr)
    warnings.warn(f"{name}: this is a noisy submission", UserWarning, stacklevel=3)


def init_params(
    n_features: int,
    *,
    std: float = 0.01,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device = "cpu",
) -> tuple[Tensor, Tensor]:
    _chatter("init_params", n_features, std, dtype, device)
    w = torch.randn(n_features, generator=generator, dtype=dtype, device=device) * std
    b = torch.zeros((), dtype=dtype, device=device)
    print("w =", w, "b =", b)
    return w, b


def predict(X: Tensor, w: Tensor, b: Tensor) -> Tensor:
    _chatter("predict", X, w, b)
    preds = X @ w + b
    print("preds:", preds, file=sys.stderr)
    return preds


def mse(preds: Tensor, targets: Tensor) -> Tensor:
    _chatter("mse", preds, targets)
    loss = ((preds - targets) ** 2).mean()
    print("loss:", loss)
    return loss


def mse_grad(X: Tensor, y: Tensor, w: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    _chatter("mse_grad", X.shape, y.shape)
    residuals = X @ w + b - y
    print("residuals:", residuals)
    n = X.shape[0]
    return 2.0 / n * (X.T @ residuals), 2.0 * residuals.mean()


def sgd_step(params: Sequence[Tensor], grads: Sequence[Tensor], lr: float) -> list[Tensor]:
    _chatter("sgd_step", len(params), lr)
    new = [p - lr * g for p, g in zip(params, grads)]
    for i, p in enumerate(new):
        print(f"param {i} ->", p, file=sys.stderr)
    return new


def minibatches(
    n: int,
    batch_size: int,
    *,
    shuffle: bool = True,
    drop_last: bool = False,
    generator: torch.Generator | None = None,
) -> Iterator[Tensor]:
    _chatter("minibatches", n, batch_size, shuffle, drop_last)
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    print("order:", order.tolist())
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        batch = order[start : start + batch_size]
        print("batch:", batch.tolist(), file=sys.stderr)
        warnings.warn("yielding a batch", RuntimeWarning, stacklevel=2)
        yield batch


def momentum_step(
    params: Sequence[Tensor],
    grads: Sequence[Tensor],
    velocities: Sequence[Tensor],
    lr: float,
    beta: float,
    *,
    nesterov: bool = False,
) -> tuple[list[Tensor], list[Tensor]]:
    _chatter("momentum_step", lr, beta, nesterov)
    new_velocities = [beta * v + g for v, g in zip(velocities, grads)]
    if nesterov:
        directions = [g + beta * v for g, v in zip(grads, new_velocities)]
    else:
        directions = new_velocities
    new_params = [p - lr * d for p, d in zip(params, directions)]
    print("velocities:", new_velocities, file=sys.stderr)
    return new_params, new_velocities


def exponential_decay(lr0: float, gamma: float, t: int) -> float:
    _chatter("exponential_decay", lr0, gamma, t)
    return lr0 * gamma**t


def step_decay(lr0: float, gamma: float, step_size: int, t: int) -> float:
    _chatter("step_decay", lr0, gamma, step_size, t)
    return lr0 * gamma ** (t // step_size)


def linear_decay(lr0: float, lr_end: float, total: int, t: int) -> float:
    _chatter("linear_decay", lr0, lr_end, total, t)
    return lr0 + (lr_end - lr0) * min(t, total) / total


def cosine_decay(lr0: float, lr_min: float, total: int, t: int) -> float:
    _chatter("cosine_decay", lr0, lr_min, total, t)
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
    _chatter("train", X.shape, epochs, batch_size, beta)
    n, d = X.shape
    w, b = init_params(d, std=init_std, generator=generator, dtype=X.dtype)
    params = [w.to(X.device), b.to(X.device)]
    velocities = [torch.zeros_like(p) for p in params]
    history = []
    for epoch in range(epochs):
        rate = lr(epoch) if callable(lr) else lr
        print(f"epoch {epoch}: lr = {rate}")
        for rows in minibatches(n, batch_size, generator=generator):
            rows = rows.to(X.device)
            grads = mse_grad(X[rows], y[rows], *params)
            params, velocities = momentum_step(params, grads, velocities, rate, beta)
        history.append(float(mse(predict(X, *params), y)))
        print(f"epoch {epoch}: loss = {history[-1]}", file=sys.stderr)
        warnings.warn(f"epoch {epoch} done", stacklevel=2)
    return params[0], params[1], history
