"""Bug: The products are summed over the rows (dim 0) instead of over the features.

step: predict
diagnosis: none
"""

from torch import Tensor


def predict(X: Tensor, w: Tensor, b: Tensor) -> Tensor:
    """Step 2, predict: a linear model's prediction for every row of `X`.

        preds[i] = X[i, 0]·w[0] + X[i, 1]·w[1] + ... + X[i, D-1]·w[D-1] + b

    Shapes: `X` (N, D), `w` (D,), `b` () → `preds` (N,). For one row this is the score
    `(x * w).sum()` from the digits tutorial: each feature (pixel) votes with its weight.

    >>> X = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> predict(X, torch.tensor([1.0, -1.0]), torch.tensor(0.5))
    tensor([-0.5000, -0.5000])
    """
    return (X * w).sum(dim=0) + b
