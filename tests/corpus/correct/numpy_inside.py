"""Correct: numpy inside every function; tensors go to numpy and back with their dtype and device."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch
from torch import Tensor


def _np(t: Tensor) -> np.ndarray:
    """A numpy copy of a tensor (never a view, so the tensor cannot be modified through it)."""
    return np.array(t.detach().cpu().numpy(), copy=True)


def _back(a: np.ndarray | np.generic, like: Tensor) -> Tensor:
    return torch.as_tensor(np.array(a)).to(dtype=like.dtype, device=like.device)


def init_params(
    n_features: int,
    *,
    std: float = 0.01,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device = "cpu",
) -> tuple[Tensor, Tensor]:
    # The randomness comes from the torch generator; numpy only does the scaling.
    draws = torch.randn(n_features, generator=generator, dtype=dtype, device=device)
    w = np.multiply(_np(draws), std)
    like = torch.empty((), dtype=dtype, device=device)
    return _back(w, like), _back(np.zeros(()), like)


def predict(X: Tensor, w: Tensor, b: Tensor) -> Tensor:
    return _back(np.dot(_np(X), _np(w)) + _np(b), X)


def mse(preds: Tensor, targets: Tensor) -> Tensor:
    diff = _np(preds) - _np(targets)
    return _back(np.mean(np.square(diff)), preds)


def mse_grad(X: Tensor, y: Tensor, w: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    Xn = _np(X)
    residuals = Xn @ _np(w) + _np(b) - _np(y)
    n = Xn.shape[0]
    grad_w = (2.0 / n) * (Xn.T @ residuals)
    grad_b = 2.0 * np.mean(residuals)
    return _back(grad_w, X), _back(grad_b, X)


def sgd_step(params: Sequence[Tensor], grads: Sequence[Tensor], lr: float) -> list[Tensor]:
    return [_back(_np(p) - lr * _np(g), p) for p, g in zip(params, grads)]


def minibatches(
    n: int,
    batch_size: int,
    *,
    shuffle: bool = True,
    drop_last: bool = False,
    generator: torch.Generator | None = None,
) -> Iterator[Tensor]:
    order = torch.randperm(n, generator=generator).numpy() if shuffle else np.arange(n)
    order = order.astype(np.int64)
    n_batches = n // batch_size if drop_last else -(-n // batch_size)
    for k in range(n_batches):
        yield torch.from_numpy(order[k * batch_size : (k + 1) * batch_size].copy())


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
        gn = _np(g)
        vn = beta * _np(v) + gn
        step = gn + beta * vn if nesterov else vn
        new_params.append(_back(_np(p) - lr * step, p))
        new_velocities.append(_back(vn, v))
    return new_params, new_velocities


def exponential_decay(lr0: float, gamma: float, t: int) -> float:
    return float(lr0 * np.power(np.float64(gamma), t))


def step_decay(lr0: float, gamma: float, step_size: int, t: int) -> float:
    return float(lr0 * np.power(np.float64(gamma), np.floor_divide(t, step_size)))


def linear_decay(lr0: float, lr_end: float, total: int, t: int) -> float:
    fraction = np.clip(np.float64(t) / total, 0.0, 1.0)
    return float(lr0 + (lr_end - lr0) * fraction)


def cosine_decay(lr0: float, lr_min: float, total: int, t: int) -> float:
    angle = np.pi * np.minimum(np.float64(t), total) / total
    return float(lr_min + (lr0 - lr_min) * (1.0 + np.cos(angle)) / 2.0)


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
    w_t, b_t = init_params(d, std=init_std, generator=generator, dtype=X.dtype)
    Xn, yn = _np(X), _np(y)
    w, b = _np(w_t), _np(b_t)
    v_w, v_b = np.zeros_like(w), np.zeros_like(b)
    history = []
    for epoch in range(epochs):
        rate = lr(epoch) if callable(lr) else lr
        for rows in minibatches(n, batch_size, generator=generator):
            idx = rows.numpy()
            Xb, yb = Xn[idx], yn[idx]
            r = Xb @ w + b - yb
            g_w = (2.0 / len(idx)) * (Xb.T @ r)
            g_b = np.asarray(2.0 * np.mean(r), dtype=Xn.dtype)
            v_w = beta * v_w + g_w
            v_b = beta * v_b + g_b
            w = w - rate * v_w
            b = b - rate * v_b
        history.append(float(np.mean(np.square(Xn @ w + b - yn))))
    return _back(w, X), _back(b, X), history
