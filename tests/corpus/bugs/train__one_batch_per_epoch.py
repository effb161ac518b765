"""Bug: The inner loop breaks after the first minibatch, so each epoch makes only one update.

step: train
diagnosis: one_batch_per_epoch
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
    """Steps 1 to 7 joined: fit a linear model to (X, y) with minibatch SGD.

    1. init: `w, b = init_params(D, std=init_std, generator=generator, dtype=X.dtype)`,
       moved to X's device; velocities start at zeros.
    2-6. For each epoch = 0, 1, ..., epochs−1: take the learning rate (`lr` itself, or
       `lr(epoch)` if `lr` is a function of the epoch); then for every batch of indices
       from one `minibatches(N, batch_size, generator=generator)` pass, compute
       `mse_grad` on those rows and update with `momentum_step` (beta = 0 is plain SGD).
       After the epoch, append the mse of the model on the full data, as a Python float,
       to `history`.
    7. stop after `epochs` epochs.

    The generator lives on the CPU: draw the initial weights and the shuffles there,
    then move what you need to X's device.

    Returns `(w, b, history)`, with `len(history) == epochs`. Watch `history`: if it
    falls and flattens, training converged; if it bounces or grows, lower `lr`.

    >>> X = torch.tensor([[0.0], [1.0], [2.0], [3.0]])
    >>> w, b, history = train(X, 2 * X[:, 0] + 1, epochs=200, batch_size=2, lr=0.1,
    ...                       generator=torch.Generator().manual_seed(0))
    >>> round(w.item(), 2), round(b.item(), 2), history[-1] < 1e-6
    (2.0, 1.0, True)
    """
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
            break
        history.append(float(mse(predict(X, *params), y)))
    return params[0], params[1], history
