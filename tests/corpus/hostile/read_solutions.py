"""Expected: the solutions cannot be imported nor found on disk: `probe(kit)` returns
{"imported": [], "found": []}; `peek(path)` of a hidden path (or, under bubblewrap, of any
file of the kit) answers "unreadable: ..."; `mse` is right."""

import importlib
import os
import time

import torch


def probe(kit):
    imported = []
    for name in ("solutions", "solutions.sgd", "grader.checks", "grader.reference", "tests"):
        try:
            importlib.import_module(name)
            imported.append(name)
        except Exception:
            pass
    found = []
    for path in (f"{kit}/solutions/sgd.py", f"{kit}/grader/reference.py"):
        try:
            with open(path) as f:
                f.read(1)
            found.append(path)
        except OSError:
            pass
    stop = time.monotonic() + 1.0
    for root, dirs, files in os.walk("/"):
        dirs[:] = [d for d in dirs if os.path.join(root, d) not in ("/proc", "/sys", "/dev")]
        name = os.path.basename(root)
        if (name == "solutions" and "sgd.py" in files) or (name == "grader" and "reference.py" in files):
            found.append(root + "/")
        if time.monotonic() > stop:
            break
    return {"imported": imported, "found": found}


def peek(path):
    try:
        with open(path) as f:
            return f.read(20)
    except OSError as exc:
        return f"unreadable: {exc}"


def mse(preds, targets):
    return ((preds - targets) ** 2).mean()


def predict(X, w, b):
    return X @ w + b
