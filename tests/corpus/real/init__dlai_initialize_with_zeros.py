"""Real: deeplearning.ai's initialize_with_zeros: every weight and the bias start at 0.

source: https://github.com/Kulbear/deep-learning-coursera/blob/master/Neural%20Networks%20and%20Deep%20Learning/Logistic%20Regression%20with%20a%20Neural%20Network%20mindset.ipynb
verdict: bug
step: init
diagnosis: constant_init

Original (numpy): `w = np.zeros((dim, 1)); b = 0`. Adapted: w has shape (dim,), both are
tensors of the requested dtype and device; std and generator are accepted and unused, as
in the original, which has neither.
"""

import numpy as np


def init_params(n_features, *, std=0.01, generator=None, dtype=torch.float32, device="cpu"):
    w = np.zeros((n_features, 1))
    b = 0
    return (
        torch.as_tensor(w[:, 0], dtype=dtype, device=device),
        torch.tensor(b, dtype=dtype, device=device),
    )
