"""Expected: importing hangs -> every call is an ImportError saying the import timed out."""

import time

import torch

time.sleep(1000)


def mse(preds, targets):
    return ((preds - targets) ** 2).mean()


def predict(X, w, b):
    return X @ w + b
