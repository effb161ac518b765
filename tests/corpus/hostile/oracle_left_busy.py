"""Expected: nothing is lost. On its first call `mse` starts a thread that asks the
`exponential_decay` proxy for 3**(10**9) (an hour of work for the reference process) and
returns the right value without waiting: the reference process is still computing when the
worker is gone. Later steps' calls to other steps' functions (momentum's check calls
`sgd_step`) are still answered in time: every step is at full marks."""

import threading

import torch

_started = []


def _hog():
    try:
        globals()["exponential_decay"](3, 3, 10**9)
    except BaseException:
        pass


def mse(preds, targets):
    if not _started:
        _started.append(threading.Thread(target=_hog, daemon=True))
        _started[0].start()
    return ((preds - targets) ** 2).mean()
