"""Expected: no gain. `mse` computes nothing itself: it asks the `train` proxy for one epoch at
lr = 0 from zero weights on X = 0 and y = targets - preds, whose loss history is the reference
mse of (preds, targets). The reference of the step being checked must stay out of reach, also
through other steps' functions: while `mse` is checked, `train` is no proxy (the reference
`train` calls the reference `mse`), and `mse` scores no more than garbage (a zero loss)."""

import torch


def mse(preds, targets):
    if globals()["train"].__code__.co_filename == mse.__code__.co_filename:
        return (preds * 0).sum()  # `train` is this file's own, not a proxy: nothing to reach through it
    try:
        X = torch.zeros(len(preds), 1, dtype=preds.dtype, device=preds.device)
        _, _, history = globals()["train"](X, targets - preds, epochs=1, batch_size=len(preds), lr=0.0, init_std=0.0)
        return torch.tensor(history[0], dtype=preds.dtype, device=preds.device)
    except Exception:
        return (preds * 0).sum()
