"""Expected: `mse` raises SystemExit -> an error Result with error_type "SystemExit" (the worker
lives on); `predict` in the same batch still works."""

import sys

import torch


def mse(preds, targets):
    sys.exit(3)


def predict(X, w, b):
    return X @ w + b
