"""Real: a Data Science SE question whose theta is a (2, 1) column: h(X, theta) - y broadcasts (m, 1) against (m,) to (m, m).

source: https://datascience.stackexchange.com/questions/89620/whats-wrong-with-my-gradient-descent-simple-one-variable
verdict: bug
step: gradient
diagnosis: none

Original: `theta = np.array([[0], [0]])`, `h = np.matmul(X, theta)`, and per coefficient
`alpha/m * np.sum((h(X, theta)-y) * X[:, j])`, X with a leading column of ones. The answer: with
a column theta, h − y is an m×m matrix, and every sum mixes all rows. Adapted: theta = [b, w] as a
column, one sum per coefficient, returned as (grad_w, grad_b); no registered mistake names it.
"""

import numpy as np


def mse_grad(X, y, w, b):
    Xn = X.detach().cpu().numpy()
    m = Xn.shape[0]
    X1 = np.column_stack([np.ones(m, dtype=Xn.dtype), Xn])
    theta = np.concatenate([[b.item()], w.detach().cpu().numpy()]).reshape(-1, 1)
    yn = y.detach().cpu().numpy()

    def h(X, theta):
        return np.matmul(X, theta)

    grad = np.array([1 / m * np.sum((h(X1, theta) - yn) * X1[:, j]) for j in range(X1.shape[1])])
    grad = torch.as_tensor(grad, dtype=X.dtype, device=X.device)
    return grad[1:], grad[0]
