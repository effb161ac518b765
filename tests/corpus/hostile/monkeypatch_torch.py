"""Expected: the patches of torch.allclose, torch.equal and Tensor.__eq__ stay in the worker;
`mse` returns a wrong value (0.0) and the trusted side sees exactly that."""

import torch

torch.allclose = lambda *args, **kwargs: True
torch.equal = lambda *args, **kwargs: True
torch.Tensor.__eq__ = lambda self, other: True


def mse(preds, targets):
    return torch.zeros(())


def predict(X, w, b):
    return X @ w + b
