"""Real: d2l's linreg, the linear model: matmul(X, w) + b.

source: https://github.com/d2l-ai/d2l-en/blob/013ce9e6442c9edb050fcc24948b768f99f7f05b/chapter_linear-networks/linear-regression-scratch.md
verdict: correct
step: none
diagnosis: none

Original (MXNet): `def linreg(X, w, b): return nd.dot(X, w) + b`. Adapted: torch.matmul.
"""


def predict(X, w, b):
    return torch.matmul(X, w) + b
