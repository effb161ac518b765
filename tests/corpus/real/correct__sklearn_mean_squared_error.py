"""Real: scikit-learn's mean_squared_error: np.average((y_true - y_pred) ** 2, axis=0), then averaged over outputs.

source: https://github.com/scikit-learn/scikit-learn/blob/main/sklearn/metrics/_regression.py
verdict: correct
step: none
diagnosis: none

Original: `output_errors = np.average((y_true - y_pred) ** 2, axis=0, weights=sample_weight)`, then
with multioutput='uniform_average' `np.average(output_errors, weights=None)`. Adapted: one
output, no sample weights, a 0-dim tensor out.
"""

import numpy as np


def mse(preds, targets):
    y_true, y_pred = targets.detach().cpu().numpy(), preds.detach().cpu().numpy()
    output_errors = np.average((y_true - y_pred) ** 2, axis=0, weights=None)
    return torch.as_tensor(np.average(output_errors, weights=None), dtype=preds.dtype, device=preds.device)
