"""Bug: The train computes its own gradient and divides every batch by batch_size, the short last one too.

step: train
diagnosis: nominal_batch_size
"""

from collections.abc import Callable

import torch
from torch import Tensor


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
            residuals = predict(X[rows], *params) - y[rows]
            grads = [2 * X[rows].T @ residuals / batch_size, 2 * residuals.sum() / batch_size]
            params, velocities = momentum_step(params, grads, velocities, rate, beta)
        history.append(float(mse(predict(X, *params), y)))
    return params[0], params[1], history
