"""Bug: The loop over features stops one short, so the last feature is dropped.

step: predict
diagnosis: missing_feature
"""

import torch
from torch import Tensor


def predict(X: Tensor, w: Tensor, b: Tensor) -> Tensor:
    out = torch.zeros(X.shape[0], dtype=X.dtype, device=X.device)
    for j in range(X.shape[1] - 1):
        out = out + X[:, j] * w[j]
    return out + b
