"""Real: scikit-learn's LinearModel._decision_function: X @ coef_.T + intercept_.

source: https://github.com/scikit-learn/scikit-learn/blob/main/sklearn/linear_model/_base.py
verdict: correct
step: none
diagnosis: none

Original: `return safe_sparse_dot(X, self.coef_.T, dense_output=True) + self.intercept_`. Adapted:
dense numpy arrays (safe_sparse_dot is X @ coef_.T for them), coef_ = w, intercept_ = b.
"""

import numpy as np


def predict(X, w, b):
    coef_ = w.detach().cpu().numpy()
    intercept_ = b.detach().cpu().numpy()
    scores = X.detach().cpu().numpy() @ coef_.T + intercept_
    return torch.as_tensor(np.asarray(scores), dtype=X.dtype, device=X.device)
