"""Real: Géron's Hands-On ML, chapter 4, batch gradient descent: X_b = [1, X], gradients = 2/m · X_bᵀ(X_b θ − y), θ − η·gradients.

source: https://github.com/ageron/handson-ml2/blob/master/04_training_linear_models.ipynb
verdict: correct
step: none
diagnosis: none

Original: `X_b = np.c_[np.ones((100, 1)), X]`, `X_b.dot(theta)` to predict,
`gradients = 2/m * X_b.T.dot(X_b.dot(theta) - y)`, `theta = theta - eta * gradients`. Adapted:
theta = [b, w] (split back into w and b), numpy inside, tensors of the input dtype out.
"""

import numpy as np


def _theta(w, b):
    return np.concatenate([[b.item()], w.detach().cpu().numpy()]).astype(w.detach().cpu().numpy().dtype)


def _X_b(X):
    Xn = X.detach().cpu().numpy()
    return np.c_[np.ones((len(Xn), 1), dtype=Xn.dtype), Xn]


def predict(X, w, b):
    return torch.as_tensor(_X_b(X).dot(_theta(w, b)), dtype=X.dtype, device=X.device)


def mse_grad(X, y, w, b):
    X_b, theta = _X_b(X), _theta(w, b)
    m = len(X_b)
    gradients = 2 / m * X_b.T.dot(X_b.dot(theta) - y.detach().cpu().numpy())
    gradients = torch.as_tensor(gradients, dtype=X.dtype, device=X.device)
    return gradients[1:], gradients[0]


def sgd_step(params, grads, lr):
    eta = lr
    return [theta - eta * gradients for theta, gradients in zip(params, grads)]
