"""Bug: The history is the mean of the epoch's minibatch losses, each taken before its update.

step: train
diagnosis: minibatch_loss_history
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
        losses = []
        for rows in minibatches(n, batch_size, generator=generator):
            rows = rows.to(X.device)
            losses.append(float(mse(predict(X[rows], *params), y[rows])))
            grads = mse_grad(X[rows], y[rows], *params)
            params, velocities = momentum_step(params, grads, velocities, rate, beta)
        history.append(sum(losses) / len(losses))
    return params[0], params[1], history
