"""Real: Coursera ML ex1 (Python port): the parameters theta, bias first, start as zeros.

source: https://github.com/dibgerge/ml-coursera-python-assignments/blob/master/Exercise1/exercise1.ipynb
verdict: bug
step: init
diagnosis: constant_init

Original: `theta = np.zeros(X.shape[1])` where X has a leading column of ones, so theta[0]
is the bias. Adapted: theta is split into (w, b) = (theta[1:], theta[0]).
"""

import numpy as np


def init_params(n_features, *, std=0.01, generator=None, dtype=torch.float32, device="cpu"):
    theta = np.zeros(n_features + 1)
    return (
        torch.as_tensor(theta[1:], dtype=dtype, device=device),
        torch.as_tensor(theta[0], dtype=dtype, device=device),
    )
