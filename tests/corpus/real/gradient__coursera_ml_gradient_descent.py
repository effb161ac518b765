"""Real: Coursera ML ex1's gradientDescent (Python port): theta − alpha · (1/m) · Xᵀ(Xθ − y), bias column first.

source: https://github.com/lennondu/Machine-Learning-Ex-Py-version/blob/HEAD/machine-learning-ex1/gradientDescent.py
verdict: bug
step: gradient
diagnosis: missing_factor_2

Original: `theta = theta - alpha*(1/m)*np.transpose(np.dot(np.transpose(np.dot(X,theta)-y),X))`:
the gradient is (1/m)·Xᵀ(Xθ − y), the gradient of the course's cost J = 1/(2m)·Σ r², so half
the gradient of the mean squared error. Adapted: the gradient alone, X with a leading column of
ones and theta = [b, w], then split back into (grad_w, grad_b).
"""

import numpy as np


def mse_grad(X, y, w, b):
    Xn = X.detach().cpu().numpy()
    m = len(y)
    X1 = np.column_stack([np.ones(m, dtype=Xn.dtype), Xn])
    theta = np.concatenate([[b.item()], w.detach().cpu().numpy()]).astype(Xn.dtype)
    yn = y.detach().cpu().numpy()
    grad = (1 / m) * np.transpose(np.dot(np.transpose(np.dot(X1, theta) - yn), X1))
    grad = torch.as_tensor(grad, dtype=X.dtype, device=X.device)
    return grad[1:], grad[0]
