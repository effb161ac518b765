"""Expected: torch.randn and torch.manual_seed are patched at import; inside the worker `draw`
gets zeros, but the trusted side's torch is untouched."""

import torch

torch.randn = lambda *size, **kwargs: torch.zeros(*size)
torch.manual_seed = lambda seed: None


def draw(n, generator):
    return torch.randn(n, generator=generator)


def mse(preds, targets):
    return ((preds - targets) ** 2).mean()


def predict(X, w, b):
    return X @ w + b
