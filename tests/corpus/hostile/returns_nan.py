"""Expected: `mse` returns a NaN tensor and `mse_float` a NaN float; both arrive as NaN."""

import torch


def mse(preds, targets):
    return torch.tensor(float("nan"))


def mse_float(preds, targets):
    return float("nan")


def predict(X, w, b):
    return X @ w + b
