"""Expected: `mse` prints 300 MB; the captured output is capped and `mse` still returns the right value."""

import sys

import torch

print("imported")


def mse(preds, targets):
    chunk = "x" * 2**20
    for _ in range(300):
        print(chunk)
        sys.stderr.write(chunk)
    return ((preds - targets) ** 2).mean()


def predict(X, w, b):
    return X @ w + b
