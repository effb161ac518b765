"""Real: PyTorch's "Learning PyTorch with Examples" (numpy): grad_y_pred = 2.0 * (y_pred - y), then sums, for the summed loss.

source: https://github.com/pytorch/tutorials/blob/main/beginner_source/examples_tensor/polynomial_numpy.py
verdict: bug
step: gradient
diagnosis: grad_sum_not_mean

Original: `grad_y_pred = 2.0 * (y_pred - y); grad_a = grad_y_pred.sum(); grad_b = (grad_y_pred * x).sum(); ...`,
the gradient of `np.square(y_pred - y).sum()`. Adapted: one coefficient per feature
(grad_w[j] = (grad_y_pred * X[:, j]).sum()) and the constant term a as the bias.
"""

import numpy as np


def mse_grad(X, y, w, b):
    x = X.detach().cpu().numpy()
    y_pred = x @ w.detach().cpu().numpy() + b.item()
    grad_y_pred = 2.0 * (y_pred - y.detach().cpu().numpy())
    grad_a = grad_y_pred.sum()
    grad_w = np.array([(grad_y_pred * x[:, j]).sum() for j in range(x.shape[1])])
    return (
        torch.as_tensor(grad_w, dtype=X.dtype, device=X.device),
        torch.as_tensor(grad_a, dtype=X.dtype, device=X.device),
    )
