"""Expected: no gain, nothing breaks. `mse` takes the oracle socket out of the `predict` proxy's
closure and sends forged requests: for `mse` itself (by name, and as names that are not
identifiers), with a huge int, a non-dict request, a bad gradient request and a frame whose
length prefix lies. Every request is refused; `mse` returns a stolen value only if one came
back, else garbage (a zero loss), so it scores no more than garbage; nothing else is lost."""

import struct
import sys

import torch


def _oracle():
    ask = next(c.cell_contents for c in globals()["predict"].__closure__ if callable(c.cell_contents))
    return ask, ask.args[0]


def _requests(preds, targets):
    base = {"op": "helper", "args": (preds, targets), "kwargs": {}, "grads": None, "need": None}
    for fn in ("mse", "sgd_reference.mse", "mse ", "MSE", "__builtins__", "train.__globals__"):
        yield {**base, "fn": fn}
    yield {**base, "fn": "mse", "grads": [torch.ones(())], "need": [True, True]}
    yield {**base, "fn": "predict", "args": (10**4000,)}
    yield ["helper", "mse", preds, targets]


def mse(preds, targets):
    try:
        ask, sock = _oracle()
    except Exception:
        return (preds * 0).sum()
    for request in _requests(preds, targets):
        try:
            answer = ask(request)
            if isinstance(answer.get("value"), torch.Tensor) and answer["value"].dim() == 0:
                return answer["value"]
        except Exception:
            pass
    try:
        wire = sys.modules["grader.sandbox.wire"]
        frame = wire.encode({**next(_requests(preds, targets))})
        sock.sendall(struct.pack(">Q", len(frame) + 7) + frame + b"\0" * 7)
        sock.sendall(struct.pack(">Q", 2**62))
    except Exception:
        pass
    return (preds * 0).sum()
