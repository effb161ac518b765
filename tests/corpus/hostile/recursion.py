"""Expected: `mse` recurses without end -> an error Result (RecursionError); `predict` still works."""

import torch


def mse(preds, targets):
    return mse(preds, targets)


def predict(X, w, b):
    return X @ w + b
