"""Bug: The absolute errors are averaged instead of the squared errors.

step: mse
diagnosis: mean_abs_error
"""

from torch import Tensor


def mse(preds: Tensor, targets: Tensor) -> Tensor:
    """Step 3, loss: the mean squared error, a 0-dim tensor.

        mse = (1/N) · Σᵢ (preds[i] − targets[i])²

    Shapes: `preds` (N,), `targets` (N,) → (). The loss is 0 for perfect predictions and
    grows fast with big mistakes, since errors are squared.

    Careful: no square root. `sqrt(mse)` is the RMSE, a different loss; and a sum
    instead of a mean makes the loss (and its gradient) grow with the batch size.

    >>> mse(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 4.0]))
    tensor(2.)
    """
    return (preds - targets).abs().mean()
