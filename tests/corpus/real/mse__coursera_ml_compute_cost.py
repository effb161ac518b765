"""Real: Coursera ML ex1's computeCost (Python port): J = 1/(2m) · Σ (Xθ − y)².

source: https://github.com/ai-source-code/ML/blob/HEAD/code/coursera/python/week-1/computeCost.py
verdict: bug
step: mse
diagnosis: half_mse

Original: `m = len(y); J = (1.0/(2*m)) * sum((np.dot(X, theta) - y) ** 2)`. Adapted: the
predictions are given (np.dot(X, theta) = preds), numpy inside, a 0-dim tensor out.
"""

import numpy as np


def mse(preds, targets):
    y = targets.detach().cpu().numpy()
    h = preds.detach().cpu().numpy()
    m = len(y)
    J = (1.0 / (2 * m)) * sum((h - y) ** 2)
    return torch.as_tensor(J, dtype=preds.dtype, device=preds.device)
