"""Bug: The weights start at zero, as some linear-regression tutorials do.

step: init
diagnosis: constant_init
"""

import torch
from torch import Tensor


def init_params(
    n_features: int,
    *,
    std: float = 0.01,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device = "cpu",
) -> tuple[Tensor, Tensor]:
    return torch.zeros(n_features, dtype=dtype, device=device), torch.zeros((), dtype=dtype, device=device)
