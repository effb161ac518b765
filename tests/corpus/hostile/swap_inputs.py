"""Expected: no gain. An in-place `sgd_step` (p.sub_ on the tensors it was given, returned as its
"new" tensors) that then puts fresh copies of the old values into the caller's `params` list,
so that the tensors the worker finds in the arguments after the call look unchanged. It
still loses the "leaves its inputs unchanged" point: step scores no more than a plain
in-place sgd_step (5 of 6)."""

import torch


def sgd_step(params, grads, lr):
    before = [p.clone() for p in params]
    for p, g in zip(params, grads):
        p.sub_(lr * g)
    new = list(params)
    if isinstance(params, list):
        params[:] = before
    return new
