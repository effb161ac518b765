"""Real: torch.optim.SGD's _single_tensor_sgd without momentum: param.add_(grad, alpha=-lr), applied to copies.

source: https://github.com/pytorch/pytorch/blob/main/torch/optim/sgd.py
verdict: correct
step: none
diagnosis: none

Original: `for i, param in enumerate(params): grad = grads[i] ... param.add_(grad, alpha=-lr)`.
Adapted: the parameters are cloned first, so the update is in place on new tensors only (the
contract's inputs stay unchanged), as torch.optim users do when they keep the old weights.
"""


def sgd_step(params, grads, lr):
    new_params = [p.detach().clone() for p in params]
    for i, param in enumerate(new_params):
        grad = grads[i]
        param.add_(grad, alpha=-lr)
    return new_params
