"""Correct: sgd_step and momentum_step run torch.optim.SGD on cloned leaf tensors with .grad set.

rules: mse.no_mse_loss, step.no_torch_optim, momentum.no_torch_optim
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
    return torch.addmv(b.expand(X.shape[0]), X, w)


def mse(preds: Tensor, targets: Tensor) -> Tensor:
    return torch.nn.MSELoss()(preds, targets)


def mse_grad(X: Tensor, y: Tensor, w: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    residuals = X @ w + b - y
    n = X.shape[0]
    return (2.0 / n) * (residuals @ X), (2.0 / n) * residuals.sum()


def _leaves(params: Sequence[Tensor], grads: Sequence[Tensor]) -> list[Tensor]:
    leaves = []
    for p, g in zip(params, grads):
        leaf = p.detach().clone().requires_grad_(True)
        leaf.grad = g.detach().clone().to(dtype=p.dtype)
        leaves.append(leaf)
    return leaves


def sgd_step(params: Sequence[Tensor], grads: Sequence[Tensor], lr: float) -> list[Tensor]:
    leaves = _leaves(params, grads)
    if not leaves:
        return []
    torch.optim.SGD(leaves, lr=lr, momentum=0.0, foreach=False).step()
    return [leaf.detach() for leaf in leaves]


def momentum_step(
    params: Sequence[Tensor],
    grads: Sequence[Tensor],
    velocities: Sequence[Tensor],
    lr: float,
    beta: float,
    *,
    nesterov: bool = False,
) -> tuple[list[Tensor], list[Tensor]]:
    leaves = _leaves(params, grads)
    if not leaves:
        return [], []
    if beta == 0:
        # torch's SGD keeps no velocity without momentum (and refuses nesterov): v_new = g, plain step.
        new_velocities = [g.detach().clone() for g in grads]
        torch.optim.SGD(leaves, lr=lr, foreach=False).step()
        return [leaf.detach() for leaf in leaves], new_velocities
    optimizer = torch.optim.SGD(leaves, lr=lr, momentum=beta, dampening=0.0, nesterov=nesterov, foreach=False)
    for leaf, v in zip(leaves, velocities):
        optimizer.state[leaf]["momentum_buffer"] = v.detach().clone()
    optimizer.step()
    new_velocities = [optimizer.state[leaf]["momentum_buffer"].detach().clone() for leaf in leaves]
    return [leaf.detach() for leaf in leaves], new_velocities


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
    yield from (order[start : start + batch_size] for start in range(0, stop, batch_size))


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
