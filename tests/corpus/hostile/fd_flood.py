"""Expected: on its first call `mse` opens eventfds, inotify instances (each watching /tmp)
and epoll instances until the kernel refuses (the open-file limit, or the per-user inotify
limit), keeps them all open and returns the right value. The flood costs only this worker:
`mse` is right, and later steps' workers open their files and sockets as usual."""

import ctypes
import os

import torch

LIBC = ctypes.CDLL(None, use_errno=True)
_fds = []


def _flood():
    for make in (lambda: os.eventfd(0), LIBC.inotify_init1, lambda: LIBC.epoll_create1(0)):
        for _ in range(100_000):
            try:
                fd = make(0) if make is LIBC.inotify_init1 else make()
            except OSError:
                break
            if fd < 0:
                break
            _fds.append(fd)
            if make is LIBC.inotify_init1:
                LIBC.inotify_add_watch(fd, b"/tmp", 0xFFF)


def mse(preds, targets):
    if not _fds:
        _flood()
    return ((preds - targets) ** 2).mean()
