"""Bug: The first epoch's shuffle is drawn before init, so the generator's draws come in another order.

step: train
diagnosis: none
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
    first = list(minibatches(n, batch_size, generator=generator))
    w, b = init_params(d, std=init_std, generator=generator, dtype=X.dtype)
    params = [w.to(X.device), b.to(X.device)]
    velocities = [torch.zeros_like(p) for p in params]
    history = []
    for epoch in range(epochs):
        rate = lr(epoch) if callable(lr) else lr
        batches = first if epoch == 0 else minibatches(n, batch_size, generator=generator)
        for rows in batches:
            rows = rows.to(X.device)
            grads = mse_grad(X[rows], y[rows], *params)
            params, velocities = momentum_step(params, grads, velocities, rate, beta)
        history.append(float(mse(predict(X, *params), y)))
    return params[0], params[1], history
