"""Expected: `mse` is right and nothing is lost. On its first call `mse` sends helper requests that
are costly to answer: a broadcast to 10**12 elements through `predict`, `minibatches` of 2**40
rows, `init_params` of 2**40 weights, 2**(10**7) from `exponential_decay` (an int too long for
the wire); each fails fast in the reference process (address-space limit, wire caps) and comes
back as an error. The reference process still answers after that, and `mse` is right."""

import torch

_done = []


def _costly():
    big = torch.zeros(10**6, 1)
    yield lambda: globals()["predict"](big, torch.zeros(1), torch.zeros(10**6, 1))
    yield lambda: list(globals()["minibatches"](2**40, 1))
    yield lambda: globals()["init_params"](2**40)
    yield lambda: globals()["exponential_decay"](2, 2, 10**7)


def mse(preds, targets):
    if not _done:
        _done.append(True)
        for request in _costly():
            try:
                request()
            except Exception:
                pass
        globals()["predict"](torch.ones(1, 1), torch.ones(1), torch.zeros(()))
    return ((preds - targets) ** 2).mean()
