"""Expected: `mse` leaves a double-forked daemon (own session, ignoring SIGTERM/SIGINT/SIGHUP)
and returns the right value; the daemon is dead once the sandbox is closed."""

import os
import signal
import time

import torch


def mse(preds, targets):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                signal.signal(sig, signal.SIG_IGN)
            while True:
                time.sleep(1)
        os._exit(0)
    return ((preds - targets) ** 2).mean()


def predict(X, w, b):
    return X @ w + b
