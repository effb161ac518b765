"""Real: d2l's LinearRegressionScratch.loss: mean of (y_hat − y)² / 2.

source: https://github.com/d2l-ai/d2l-en/blob/master/chapter_linear-regression/linear-regression-scratch.md
verdict: bug
step: mse
diagnosis: half_mse

Original: `l = (y_hat - y) ** 2 / 2; return d2l.reduce_mean(l)`. Adapted: torch.mean.
"""

# ruff: noqa: E741  (d2l names the loss l)


def mse(preds, targets):
    l = (preds - targets) ** 2 / 2
    return torch.mean(l)
