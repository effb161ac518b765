"""Expected: `mse` writes forged frames straight onto the worker's socket (a header claiming a
huge tensor, or a Result whose value is not plain data); the trusted side answers WireError
for that call, never crashes or hangs; `predict` works in the next run."""

import json
import os
import stat
import struct
import time

import torch


def _socket_fds():
    return [fd for fd in range(3, 64) if _is_socket(fd)]


def _is_socket(fd):
    try:
        return stat.S_ISSOCK(os.fstat(fd).st_mode)
    except OSError:
        return False


def _frame(header, body=b""):
    head = json.dumps(header).encode()
    message = b"SGW1" + struct.pack(">I", len(head)) + head + body
    return struct.pack(">Q", len(message)) + message


def mse(preds, targets):
    huge = {
        "root": [
            "d",
            [
                ["op", ["s", "results"]],
                ["results", ["l", [["R", ["T", "float32", [2**40], "cpu", 0], None, None, False]]]],
            ],
        ],
        "buffers": [16],
    }
    for fd in _socket_fds():
        os.write(fd, _frame(huge, b"\0" * 16))
    time.sleep(100)


def not_plain(preds, targets):
    forged = {
        "root": [
            "d",
            [["op", ["s", "results"]], ["results", ["l", [["R", ["G", "1", "g", "cpu"], None, None, False]]]]],
        ],
        "buffers": [],
    }
    for fd in _socket_fds():
        os.write(fd, _frame(forged))
    time.sleep(100)


def length_bomb(preds, targets):
    for fd in _socket_fds():
        os.write(fd, struct.pack(">Q", 2**62))
    time.sleep(100)


def predict(X, w, b):
    return X @ w + b
