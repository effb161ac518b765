"""Expected: `mse` never returns -> Timeout (later calls in the batch NotRun); `predict` still works."""

import torch


def mse(preds, targets):
    while True:
        pass


def predict(X, w, b):
    return X @ w + b
