"""Expected: `mse` forks without end -> Timeout; no process of the worker survives; `predict` still works."""

import os

import torch


def mse(preds, targets):
    while True:
        try:
            os.fork()
        except OSError:
            pass


def predict(X, w, b):
    return X @ w + b
