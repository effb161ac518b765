"""Expected: every worker imports this file; at import each one looks for what earlier workers
(earlier steps, other students) planted, then plants its own: a file in every writable folder
(/tmp, /dev/shm, $HOME), a System V semaphore set and shared-memory segment, an abstract
unix socket name (a socketpair, bound and kept open) and a POSIX message queue. No worker
ever finds anything, so `mse`, which returns a wrong value once anything was found, is right
and nothing is lost."""

import ctypes
import os
import socket

import torch

KEY = 0x5DD7
LIBC = ctypes.CDLL(None, use_errno=True)
_KEEP = []
FOLDERS = ("/tmp", "/dev/shm", os.environ.get("HOME", "/tmp"), "/var/tmp")


def _look():
    found = [f for f in FOLDERS if os.path.exists(os.path.join(f, "sgd-planted-by-a-worker"))]
    found += ["sem"] * (LIBC.semget(KEY, 0, 0) >= 0) + ["shm"] * (LIBC.shmget(KEY, 0, 0) >= 0)
    try:
        with open("/proc/net/unix") as f:
            found += ["abstract"] * ("@sgd-planted" in f.read())
        found += ["mqueue"] * (_librt().mq_open(b"/sgd-planted", os.O_RDONLY) >= 0)
    except OSError:
        pass
    return found


def _librt():
    return ctypes.CDLL("librt.so.1", use_errno=True)


def _plant():
    for folder in FOLDERS:
        try:
            with open(os.path.join(folder, "sgd-planted-by-a-worker"), "w") as f:
                f.write("x")
        except OSError:
            pass
    LIBC.semget(KEY, 1, 0o1000 | 0o666)
    LIBC.shmget(KEY, 4096, 0o1000 | 0o666)
    try:
        _KEEP.extend(socket.socketpair())
        _KEEP[0].bind("\0sgd-planted")
        _librt().mq_open(b"/sgd-planted", os.O_CREAT | os.O_RDWR, 0o666, None)
    except OSError:
        pass


FOUND = _look()
_plant()


def mse(preds, targets):
    if FOUND:
        return torch.full((), -1.0, dtype=preds.dtype)
    return ((preds - targets) ** 2).mean()
