"""Real: d2l's from-scratch training takes the gradient of the summed squared_loss, (ŷ − y)²/2, with autograd.

source: https://github.com/d2l-ai/d2l-en/blob/013ce9e6442c9edb050fcc24948b768f99f7f05b/chapter_linear-networks/linear-regression-scratch.md
verdict: bug
step: gradient
diagnosis: sum_without_factor_2
rules: gradient.by_hand

Original (MXNet): `l = loss(net(X, w, b), y)` with `squared_loss = (y_hat - y) ** 2 / 2`, then
`l.backward()`, which sums l: the gradient is Σ rᵢxᵢ (d2l divides by batch_size later, in sgd).
Adapted: torch autograd, l.sum().backward() as in the PyTorch tab, on copies of w and b.
"""

# ruff: noqa: E741  (d2l names the loss l)


def mse_grad(X, y, w, b):
    w = w.detach().clone().requires_grad_(True)
    b = b.detach().clone().requires_grad_(True)
    y_hat = torch.matmul(X, w) + b
    l = (y_hat - y.reshape(y_hat.shape)) ** 2 / 2
    l.sum().backward()
    return w.grad, b.grad
