"""Expected: on its first call `mse` starts threads (each blocked for good) until the process
limit refuses more, then returns the right value; every later call too. The flood stays in
the worker: at most `mse` is lost, and no thread or process survives grading."""

import threading
import time

import torch

_threads = []


def mse(preds, targets):
    while not _threads or _threads[-1] is not None:
        try:
            thread = threading.Thread(target=time.sleep, args=(10**6,), daemon=True)
            thread.start()
            _threads.append(thread)
        except RuntimeError:
            _threads.append(None)
    return ((preds - targets) ** 2).mean()
