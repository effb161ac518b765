"""Bug: The weights come from torch.rand, uniform on [0, 1), instead of the normal distribution.

step: init
diagnosis: uniform_init
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
    """Step 1, init: random starting weights and a zero bias.

    Returns `(w, b)`:
      - `w` has shape `(n_features,)`; its entries are independent draws from the normal
        distribution N(0, std²), i.e. mean 0 and standard deviation `std`;
      - `b` is a 0-dim tensor holding 0.
    Both have the given `dtype` and `device`.

    Draw the random numbers from `generator` (pass it on to torch's random functions,
    e.g. `torch.randn(..., generator=generator)`), so that the same generator state
    always gives the same `w`. Do not seed anything yourself.

    Why random? If every weight started equal, every weight would get the same update
    and they would stay equal forever. Why small? Large starting weights make large,
    wild first predictions.

    >>> g = torch.Generator().manual_seed(0)
    >>> w, b = init_params(3, std=0.01, generator=g)
    >>> w.shape, b.shape, b.item()
    (torch.Size([3]), torch.Size([]), 0.0)
    """
    w = torch.rand(n_features, generator=generator, dtype=dtype, device=device) * std
    b = torch.zeros((), dtype=dtype, device=device)
    return w, b
