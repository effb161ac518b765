"""Expected: nothing survives. At import, every worker leaves a daemon (double fork, own
session, SIGTERM/SIGINT/SIGHUP ignored) that forks a child and exits, again and again, so
that it keeps no pid for long (a kill by pid list misses it), until the process limit stops
it (the exited ones stay zombies of the worker). `mse` is right; once grading ends
no process runs as a worker's uid."""

import os
import signal

import torch


def _hop():
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    while True:
        try:
            if os.fork():
                os._exit(0)
        except OSError:
            pass


def _leave():
    try:
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                _hop()
            os._exit(0)
    except OSError:
        pass


_leave()


def mse(preds, targets):
    return ((preds - targets) ** 2).mean()
