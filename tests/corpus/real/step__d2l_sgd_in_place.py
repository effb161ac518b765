"""Real: d2l's SGD.step: for param in params: param -= lr * param.grad, in place.

source: https://github.com/d2l-ai/d2l-en/blob/master/chapter_linear-regression/linear-regression-scratch.md
verdict: bug
step: step
diagnosis: in_place

Original (PyTorch tab): `def step(self): for param in self.params: param -= self.lr * param.grad`
(under torch.no_grad in fit_epoch). Adapted: the gradients are passed in rather than read from
.grad; the same tensors, updated in place, are returned as the list of new parameters.
"""


def sgd_step(params, grads, lr):
    with torch.no_grad():
        for param, grad in zip(params, grads):
            param -= lr * grad
    return list(params)
