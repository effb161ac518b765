"""Expected: `mse` calls os._exit(0) -> WorkerCrashed (exit code 0), the rest of the batch NotRun;
`predict` works in the next run."""

import os

import torch


def mse(preds, targets):
    os._exit(0)


def predict(X, w, b):
    return X @ w + b
