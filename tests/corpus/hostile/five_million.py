"""Expected: no gain, bounded time. `mse` returns a 5M-element tensor (20 MB) instead of a 0-dim
one: each check fails on the shape, judged and summarised in bounded time (no 5M-element
text in any message); `mse` scores no more than garbage; nothing else is lost."""

import torch


def mse(preds, targets):
    return torch.full((5 * 10**6,), 1.0, dtype=preds.dtype)
