"""Real: CS231n's optim.sgd: w -= config['learning_rate'] * dw on a numpy array, in place.

source: https://github.com/kingtaurus/cs231n/blob/HEAD/assignment2/cs231n/optim.py
verdict: bug
step: step
diagnosis: in_place

Original: `def sgd(w, dw, config=None): ... w -= config['learning_rate'] * dw; return w, config`.
Adapted: each tensor is seen through numpy (tensor.numpy() shares its memory, so `-=` writes
into the caller's tensor, as it writes into the caller's array in the course), and the
results go back as tensors.
"""


def sgd(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    w -= config["learning_rate"] * dw
    return w, config


def sgd_step(params, grads, lr):
    new_params = []
    for p, g in zip(params, grads):
        next_w, _ = sgd(p.detach().cpu().numpy(), g.detach().cpu().numpy(), {"learning_rate": lr})
        new_params.append(torch.from_numpy(next_w).to(p.device))
    return new_params
