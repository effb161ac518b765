"""Expected: `mse` returns a multi-GB tensor -> an error Result (memory cap, or the message size
cap); the trusted side does not crash; `predict` still works."""

import torch


def mse(preds, targets):
    return torch.ones(3 * 2**30 // 4)


def medium(n_bytes):
    return torch.ones(n_bytes // 4)


def predict(X, w, b):
    return X @ w + b
