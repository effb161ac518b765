"""Bug: The bias gradient is always zero, as if the bias did not affect the loss.

step: gradient
diagnosis: zero_bias_grad
"""

import torch
from torch import Tensor


def mse_grad(X: Tensor, y: Tensor, w: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """Step 4, gradient: how the loss changes as each weight changes.

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
    residuals = X @ w + b - y
    n = X.shape[0]
    grad_w = 2.0 / n * (X.T @ residuals)
    grad_b = torch.zeros_like(b)
    return grad_w, grad_b
