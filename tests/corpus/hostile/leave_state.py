"""Expected: nothing a worker leaves reaches a later worker, or outlives it. `plant()` leaves a
System V shared-memory segment and message queue, a POSIX shared-memory file, a /tmp file and a
/dev/shm file as big as the quotas let it; `look()` (in a later worker) finds none of them:
{"shm": False, "msg": False, "tmp": False, "dev_shm": False}. `mse` is right."""

import ctypes
import os

KEY = 0x5DD5
IPC_CREAT = 0o1000
LIBC = ctypes.CDLL(None, use_errno=True)


def _fill(path, size):
    try:
        with open(path, "wb") as f:
            for _ in range(size // 2**20):
                f.write(b"\1" * 2**20)
    except OSError:
        pass


def plant():
    made = {
        "shm": LIBC.shmget(KEY, 2**20, IPC_CREAT | 0o666) >= 0,
        "msg": LIBC.msgget(KEY, IPC_CREAT | 0o666) >= 0,
    }
    for size in (2**30, 2**26, 2**22):  # as big a segment as the quota allows, never freed
        if LIBC.shmget(KEY + size, ctypes.c_size_t(size), IPC_CREAT | 0o666) >= 0:
            break
    _fill("/tmp/sgd-planted", 2**30)
    _fill("/dev/shm/sgd-planted", 2**30)
    made["tmp"] = os.path.exists("/tmp/sgd-planted")
    made["dev_shm"] = os.path.exists("/dev/shm/sgd-planted")
    return made


def look():
    return {
        "shm": LIBC.shmget(KEY, 0, 0) >= 0,
        "msg": LIBC.msgget(KEY, 0) >= 0,
        "tmp": os.path.exists("/tmp/sgd-planted"),
        "dev_shm": os.path.exists("/dev/shm/sgd-planted"),
    }


def mse(preds, targets):
    return ((preds - targets) ** 2).mean()
