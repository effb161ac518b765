"""Expected: on its first call `mse` puts 30 000 empty files in each of its /tmp, /dev/shm and
$HOME (or as many as the inodes allow), a sparse 1 TB file and a 1 GiB fallocate (refused past
the size quota), then returns the right value. The host's /tmp, the grader's output folder
and later workers see none of it: `mse` is right (or at most `mse` is lost), nothing else is."""

import os

import torch

_done = []


def _fill(folder):
    for i in range(30_000):
        try:
            open(os.path.join(folder, f"i{i}"), "w").close()
        except OSError:
            break
    try:
        with open(os.path.join(folder, "sparse"), "wb") as f:
            f.truncate(2**40)
    except OSError:
        pass
    try:
        fd = os.open(os.path.join(folder, "all"), os.O_CREAT | os.O_WRONLY)
        os.posix_fallocate(fd, 0, 2**30)
    except OSError:
        pass


def mse(preds, targets):
    if not _done:
        _done.append(True)
        for folder in ("/tmp", "/dev/shm", os.environ.get("HOME", "/tmp")):
            _fill(folder)
    return ((preds - targets) ** 2).mean()
