"""Bug: The short last batch is always dropped, even when drop_last is False.

step: minibatch
diagnosis: always_drop_last
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
    """Step 6, repeat: the row indices of one epoch, cut into minibatches.

    An epoch visits every one of the `n` rows exactly once. With `shuffle`, the order is
    a uniformly random permutation of 0..n-1 drawn from `generator` (e.g.
    `torch.randperm(n, generator=generator)`); without it, the order is 0, 1, ..., n-1.
    Yield consecutive int64 index tensors of `batch_size`; the last may be shorter,
    unless `drop_last`, in which case a short last batch is dropped. The same generator
    state must give the same batches.

    Why minibatches? The exact gradient needs every row, which is expensive. A small
    random batch gives a cheap, noisy estimate, and many cheap steps beat a few exact
    ones. Sample without replacement, so each row counts once per epoch.

    >>> [b.tolist() for b in minibatches(5, 2, shuffle=False)]
    [[0, 1], [2, 3], [4]]
    """
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    stop = n - n % batch_size
    for start in range(0, stop, batch_size):
        yield order[start : start + batch_size]
