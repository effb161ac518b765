"""Bug: Each call restarts the generator from its seed, so every epoch repeats the same order.

step: minibatch
diagnosis: reseeds_generator
"""

from collections.abc import Iterator

import torch
from torch import Tensor


def minibatches(
    n: int,
    batch_size: int,
    *,
    shuffle: bool = True,
    drop_last: bool = False,
    generator: torch.Generator | None = None,
) -> Iterator[Tensor]:
    if shuffle and generator is not None:
        generator.manual_seed(generator.initial_seed())
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        yield order[start : start + batch_size]
