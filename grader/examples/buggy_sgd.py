# A buggy submission for the demo: mse takes a square root (RMSE), and the gradient forgets its factor 2.
# Only the two functions that differ from solutions/sgd.py: `reference.source_with` puts them after it.

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
    return ((preds - targets) ** 2).mean().sqrt()


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
    grad_w = 1.0 / n * (X.T @ residuals)
    grad_b = residuals.mean()
    return grad_w, grad_b
