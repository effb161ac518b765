"""Bug: The gradient sums rᵢ·xᵢ with neither the factor 2 nor the division by N (N/2 times the true one).

step: gradient
diagnosis: sum_without_factor_2
"""

from torch import Tensor


def mse_grad(X: Tensor, y: Tensor, w: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    residuals = X @ w + b - y
    return X.T @ residuals, residuals.sum()
