"""Expected: `mse` segfaults -> WorkerCrashed mentioning SIGSEGV; `predict` works in the next run."""

import ctypes

import torch


def mse(preds, targets):
    return ctypes.string_at(0)


def predict(X, w, b):
    return X @ w + b
