"""Expected: `mse` returns an object whose __reduce__ would run code; the wire never pickles,
so the result is an Unsupported marker and the marker file never appears on the trusted side."""

import os

import torch

MARKER = "/tmp/sgd-hostile-reduce-marker"


class Payload:
    def __reduce__(self):
        return (os.system, (f"touch {MARKER}",))


def mse(preds, targets):
    return Payload()


def predict(X, w, b):
    return X @ w + b
