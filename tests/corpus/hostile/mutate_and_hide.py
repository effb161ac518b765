"""Expected: an in-place `sgd_step` that also rewrites the worker's own copies of the inputs it
was sent (found through the garbage collector), so that the worker sees no change, still loses
the "leaves its inputs unchanged" point: the trusted side compares the inputs as the call left
them with its own copies."""

import gc

import torch


def sgd_step(params, grads, lr):
    before = [p.clone() for p in params]
    for p, g in zip(params, grads):
        p.sub_(lr * g)
    for obj in gc.get_objects():
        if not isinstance(obj, torch.Tensor) or any(obj is p for p in params):
            continue
        for old, new in zip(before, params):
            if obj.shape == old.shape and obj.dtype == old.dtype and torch.equal(obj, old):
                obj.copy_(new)
    return list(params)
