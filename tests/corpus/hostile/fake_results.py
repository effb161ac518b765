"""Expected: writing results.json in the cwd, /tmp, next to the submission and into the kit
cannot touch anything outside the worker's private tmp; `mse` still returns the right value."""

import os

import torch

FAKE = '{"score": 100, "passed": true}'
KIT = "/work/main"


def _forge():
    here = os.path.dirname(os.path.abspath(__file__))
    for folder in (".", "/tmp", here, os.path.dirname(here), KIT, os.path.join(KIT, "grader")):
        try:
            with open(os.path.join(folder, "results.json"), "w") as f:
                f.write(FAKE)
        except OSError:
            pass


_forge()


def mse(preds, targets):
    _forge()
    return ((preds - targets) ** 2).mean()


def predict(X, w, b):
    return X @ w + b
