"""Bug: The loss is ½·MSE, the convention that cancels the 2 in the gradient.

step: mse
diagnosis: half_mse
"""

from torch import Tensor


def mse(preds: Tensor, targets: Tensor) -> Tensor:
    return ((preds - targets) ** 2).mean() / 2
