"""Expected: the worker ignores SIGTERM/SIGINT/SIGHUP and `mse` spins -> Timeout; the worker is
killed anyway (SIGKILL) and `predict` works in the next run."""

import signal

import torch

for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(sig, signal.SIG_IGN)


def mse(preds, targets):
    while True:
        pass


def predict(X, w, b):
    return X @ w + b
