"""Real: PyTorch's "Learning PyTorch with Examples" (numpy warm-up): loss = np.square(y_pred - y).sum().

source: https://github.com/pytorch/tutorials/blob/main/beginner_source/examples_tensor/polynomial_numpy.py
verdict: bug
step: mse
diagnosis: sum_not_mean

Original: `loss = np.square(y_pred - y).sum()`. Adapted: preds = y_pred, targets = y, a 0-dim
tensor out.
"""

import numpy as np


def mse(preds, targets):
    y_pred, y = preds.detach().cpu().numpy(), targets.detach().cpu().numpy()
    loss = np.square(y_pred - y).sum()
    return torch.as_tensor(loss, dtype=preds.dtype, device=preds.device)
