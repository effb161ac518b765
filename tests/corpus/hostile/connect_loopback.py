"""Expected: `probe(port)` cannot connect to a listener on 127.0.0.1 of the trusted side's
network: it returns an error string and nothing connects; `mse` is right."""

import socket

import torch


def probe(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"stolen")
        return "connected"
    except OSError as exc:
        return f"refused: {exc}"


def mse(preds, targets):
    return ((preds - targets) ** 2).mean()


def predict(X, w, b):
    return X @ w + b
