"""Real: d2l's sgd_momentum: v[:] = momentum * v + p.grad; p[:] -= lr * v, both in place.

source: https://github.com/d2l-ai/d2l-en/blob/master/chapter_optimization/momentum.md
verdict: bug
step: momentum
diagnosis: none

Original (PyTorch tab): `for p, v in zip(params, states): with torch.no_grad():
v[:] = hyperparams['momentum'] * v + p.grad; p[:] -= hyperparams['lr'] * v; p.grad.data.zero_()`.
The formula is the contract's, but the parameters and velocities passed in are overwritten.
Adapted: the gradients are passed in; the same tensors are returned as the new lists. No
momentum diagnosis names an in-place update.
"""


def momentum_step(params, grads, velocities, lr, beta, *, nesterov=False):
    hyperparams = {"momentum": beta, "lr": lr}
    for p, g, v in zip(params, grads, velocities):
        with torch.no_grad():
            v[:] = hyperparams["momentum"] * v + g
            if nesterov:
                p[:] -= hyperparams["lr"] * (g + hyperparams["momentum"] * v)
            else:
                p[:] -= hyperparams["lr"] * v
    return list(params), list(velocities)
