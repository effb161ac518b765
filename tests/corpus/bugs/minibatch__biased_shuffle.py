"""Bug: The naive shuffle swaps each row with any row, so some orders are likelier than others.

step: minibatch
diagnosis: biased_shuffle
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
    order = torch.arange(n)
    if shuffle:
        for i in range(n):
            j = int(torch.randint(0, n, (), generator=generator))
            order[i], order[j] = order[j].clone(), order[i].clone()
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        yield order[start : start + batch_size]
