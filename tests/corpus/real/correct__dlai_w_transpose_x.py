"""Real: deeplearning.ai's logistic-regression forward pass, np.dot(w.T, X) + b, with examples as columns (sigmoid left out).

source: https://github.com/Kulbear/deep-learning-coursera/blob/master/Neural%20Networks%20and%20Deep%20Learning/Logistic%20Regression%20with%20a%20Neural%20Network%20mindset.ipynb
verdict: correct
step: none
diagnosis: none

Original: `A = sigmoid(np.dot(w.T, X) + b)`, X of shape (n_x, m), w of shape (n_x, 1). Adapted: the
linear part only (this model has no sigmoid); X is transposed to the course's layout, w made a
column, the (1, m) result flattened, in numpy and back to a tensor of X's dtype and device.
"""

import numpy as np


def predict(X, w, b):
    X_cols = X.detach().cpu().numpy().T
    w_col = w.detach().cpu().numpy().reshape(-1, 1)
    Z = np.dot(w_col.T, X_cols) + b.item()
    return torch.as_tensor(Z.reshape(-1), dtype=X.dtype, device=X.device)
