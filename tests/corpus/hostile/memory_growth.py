"""Expected: `mse` grows memory past the cap -> an error Result (MemoryError, or WorkerCrashed); `predict` still works."""

import torch


def mse(preds, targets):
    hoard = []
    while True:
        hoard.append(bytearray(64 * 2**20))


def predict(X, w, b):
    return X @ w + b
