"""Real: a notes page on "Root Mean-Squared Error - L2 Loss": np.sqrt(((predictions - labels) ** 2).mean()), called the L2 loss.

source: https://notesbylex.com/root-mean-squared-error
verdict: bug
step: mse
diagnosis: rmse

Original: `difference = predictions - labels; difference_squared = difference ** 2;
rmse = np.sqrt(difference_squared.mean())`, presented as "sometimes called L2 Loss". Adapted:
predictions = preds, labels = targets, numpy inside, a 0-dim tensor out.
"""

import numpy as np


def mse(preds, targets):
    predictions, labels = preds.detach().cpu().numpy(), targets.detach().cpu().numpy()
    difference = predictions - labels
    difference_squared = difference**2
    rmse = np.sqrt(difference_squared.mean())
    return torch.as_tensor(rmse, dtype=preds.dtype, device=preds.device)
