"""Correct: every function by hand, while comments, docstrings and strings name the APIs the rules ban.

The rules read names, never text; torch.autograd.grad, loss.backward(), torch.optim.SGD,
torch.optim.lr_scheduler.StepLR and torch.nn.functional.mse_loss only appear in words here, next
to names that look alike (a local `grad`, a helper called `backward`, `torch.no_grad`)."""

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
    """Random starting weights and a zero bias.

    Returns `(w, b)`:
      - `w` has shape `(n_features,)`; its entries are independent draws from the normal
        distribution N(0, std²), i.e. mean 0 and standard deviation `std`;
      - `b` is a 0-dim tensor holding 0.
    Both have the given `dtype` and `device`.

    Draw the random numbers from `generator` (pass it on to torch's random functions,
    e.g. `torch.randn(..., generator=generator)`), so that the same generator state
    always gives the same `w`. Do not seed anything yourself.

    Why random? If every weight started equal, every weight would get the same update
    and they would stay equal forever. Why small? Large starting weights make large,
    wild first predictions.

    >>> g = torch.Generator().manual_seed(0)
    >>> w, b = init_params(3, std=0.01, generator=g)
    >>> w.shape, b.shape, b.item()
    (torch.Size([3]), torch.Size([]), 0.0)
    """
    w = torch.randn(n_features, generator=generator, dtype=dtype, device=device) * std
    b = torch.zeros((), dtype=dtype, device=device)
    return w, b


def predict(X: Tensor, w: Tensor, b: Tensor) -> Tensor:
    """A linear model's prediction for every row of `X`.

        preds[i] = X[i, 0]·w[0] + X[i, 1]·w[1] + ... + X[i, D-1]·w[D-1] + b

    Shapes: `X` (N, D), `w` (D,), `b` () → `preds` (N,). For one row this is the score
    `(x * w).sum()` from the digits tutorial: each feature (pixel) votes with its weight.

    >>> X = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> predict(X, torch.tensor([1.0, -1.0]), torch.tensor(0.5))
    tensor([-0.5000, -0.5000])
    """
    return X @ w + b


def mse(preds: Tensor, targets: Tensor) -> Tensor:
    """The mean squared error (the loss), a 0-dim tensor.

        mse = (1/N) · Σᵢ (preds[i] − targets[i])²

    Shapes: `preds` (N,), `targets` (N,) → (). The loss is 0 for perfect predictions and
    grows fast with big mistakes, since errors are squared.

    Careful: no square root. `sqrt(mse)` is the RMSE, a different loss; and a sum
    instead of a mean makes the loss (and its gradient) grow with the batch size.

    >>> mse(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 4.0]))
    tensor(2.)
    """
    # not torch.nn.functional.mse_loss(preds, targets), nor nn.MSELoss()
    note = "F.mse_loss would do this"  # a string is no call
    del note
    return ((preds - targets) ** 2).mean()


def mse_grad(X: Tensor, y: Tensor, w: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """The gradient: how the loss changes as each weight changes.

    The gradient tells, for each weight, how changing it changes the loss: a positive
    entry means "increasing this weight increases the loss". Derive it by hand (no
    autograd) for L(w, b) = mse(predict(X, w, b), y). With residuals r = X @ w + b − y:

        ∂L/∂w = (2/N) · Xᵀ r        shape (D,)
        ∂L/∂b = (2/N) · Σᵢ rᵢ       shape ()

    Returns `(grad_w, grad_b)`. Check yourself: at a perfect fit, both are zero.

    >>> X = torch.tensor([[1.0], [2.0]])
    >>> mse_grad(X, torch.tensor([1.0, 2.0]), torch.tensor([0.0]), torch.tensor(0.0))
    (tensor([-5.]), tensor(-3.))
    """
    """Not torch.autograd.grad(loss, (w, b)), nor loss.backward(): by hand."""
    with torch.no_grad():  # torch.func.grad would differentiate; we do not
        residuals = X @ w + b - y
        n = X.shape[0]
        grad = backward(X, residuals, n)  # a local named grad, a helper named backward
    return grad, 2.0 * residuals.mean()


def backward(X: Tensor, residuals: Tensor, n: int) -> Tensor:
    """The chain rule, by hand: ∂L/∂w = (2/N) · Xᵀ r (what loss.backward() would fill in w.grad)."""
    return 2.0 / n * (X.T @ residuals)


def sgd_step(params: Sequence[Tensor], grads: Sequence[Tensor], lr: float) -> list[Tensor]:
    """One step: move every parameter a little against its gradient.

        p_new = p − lr · g          for each (p, g) in zip(params, grads)

    Returns a new list of new tensors; the old ones stay unchanged. The learning rate
    `lr` sets the size of the move: too low and training crawls; too high and the loss
    bounces around or diverges.

    >>> sgd_step([torch.tensor([1.0, 2.0])], [torch.tensor([10.0, -10.0])], lr=0.1)
    [tensor([0., 3.])]
    """
    # torch.optim.SGD([p], lr=lr).step() would do it in place
    return [p - lr * g for p, g in zip(params, grads)]


def minibatches(
    n: int,
    batch_size: int,
    *,
    shuffle: bool = True,
    drop_last: bool = False,
    generator: torch.Generator | None = None,
) -> Iterator[Tensor]:
    """The row indices of one epoch, cut into minibatches.

    An epoch visits every one of the `n` rows exactly once. With `shuffle`, the order is
    a uniformly random permutation of 0..n-1 drawn from `generator` (e.g.
    `torch.randperm(n, generator=generator)`); without it, the order is 0, 1, ..., n-1.
    Yield consecutive int64 index tensors of `batch_size`; the last may be shorter,
    unless `drop_last`, in which case a short last batch is dropped. The same generator
    state must give the same batches.

    Why minibatches? The exact gradient needs every row, which is expensive. A small
    random batch gives a cheap, noisy estimate, and many cheap steps beat a few exact
    ones. Sample without replacement, so each row counts once per epoch.

    >>> [b.tolist() for b in minibatches(5, 2, shuffle=False)]
    [[0, 1], [2, 3], [4]]
    """
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        yield order[start : start + batch_size]


def momentum_step(
    params: Sequence[Tensor],
    grads: Sequence[Tensor],
    velocities: Sequence[Tensor],
    lr: float,
    beta: float,
    *,
    nesterov: bool = False,
) -> tuple[list[Tensor], list[Tensor]]:
    """A step with momentum: keep rolling in the direction you were already going.

    Like a ball rolling downhill, the velocity remembers past gradients, which smooths
    out the noise of minibatches and speeds up travel along long, gentle valleys. For
    each parameter (the convention of `torch.optim.SGD`, with dampening 0):

        v_new = beta · v + g
        p_new = p − lr · v_new                     (plain momentum)
        p_new = p − lr · (g + beta · v_new)        (nesterov=True: look ahead)

    Velocities start at zeros. With beta = 0 this is exactly `sgd_step`. The velocity is
    often called a "moving average of gradients"; strictly, this form is a decaying
    *sum*: the exponential moving average v = beta·v + (1 − beta)·g is another
    convention, equal to this one up to a rescaling of the learning rate by 1 − beta.

    Returns `(new_params, new_velocities)`, two lists of new tensors.

    >>> p, v = momentum_step([torch.tensor(1.0)], [torch.tensor(2.0)], [torch.tensor(1.0)], lr=0.1, beta=0.9)
    >>> p, v
    ([tensor(0.7100)], [tensor(2.9000)])
    """
    new_velocities = [beta * v + g for v, g in zip(velocities, grads)]
    if nesterov:
        directions = [g + beta * v for g, v in zip(grads, new_velocities)]
    else:
        directions = new_velocities
    new_params = [p - lr * d for p, d in zip(params, directions)]
    return new_params, new_velocities


def exponential_decay(lr0: float, gamma: float, t: int) -> float:
    """Learning-rate schedule: multiply by `gamma` every epoch. lr(t) = lr0 · gammaᵗ.

    Big steps early cover ground; small steps late settle into the minimum instead of
    bouncing around it. (torch: `ExponentialLR`.)

    >>> exponential_decay(1.0, 0.5, 3)
    0.125
    """
    return lr0 * gamma**t  # as torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma) would


def step_decay(lr0: float, gamma: float, step_size: int, t: int) -> float:
    """Learning-rate schedule: multiply by `gamma` once every `step_size` epochs.

        lr(t) = lr0 · gamma^⌊t / step_size⌋

    Epochs 0 .. step_size−1 use lr0. (torch: `StepLR`.)

    >>> [step_decay(1.0, 0.1, 2, t) for t in range(5)]
    [1.0, 1.0, 0.1, 0.1, 0.010000000000000002]
    """
    return lr0 * gamma ** (t // step_size)


def linear_decay(lr0: float, lr_end: float, total: int, t: int) -> float:
    """Learning-rate schedule: a straight line from lr0 at t = 0 to lr_end at t = total.

        lr(t) = lr0 + (lr_end − lr0) · min(t, total) / total

    After `total` epochs it stays at lr_end. (torch: `LinearLR` with start_factor 1 and
    end_factor lr_end / lr0.)

    >>> [linear_decay(1.0, 0.0, 4, t) for t in (0, 1, 4, 9)]
    [1.0, 0.75, 0.0, 0.0]
    """
    return lr0 + (lr_end - lr0) * min(t, total) / total


def cosine_decay(lr0: float, lr_min: float, total: int, t: int) -> float:
    """Learning-rate schedule: half a cosine wave from lr0 at t = 0 down to lr_min at t = total.

        lr(t) = lr_min + (lr0 − lr_min) · (1 + cos(π · min(t, total) / total)) / 2

    Slow to start falling, fast in the middle, gentle at the end; it stays at lr_min
    after `total`. (torch: `CosineAnnealingLR` with T_max = total, eta_min = lr_min.)

    >>> [round(cosine_decay(1.0, 0.0, 2, t), 6) for t in range(4)]
    [1.0, 0.5, 0.0, 0.0]
    """
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
    """Every step joined: fit a linear model to (X, y) with minibatch SGD.

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
        history.append(float(mse(predict(X, *params), y)))
    return params[0], params[1], history
