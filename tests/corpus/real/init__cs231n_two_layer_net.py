"""Real: CS231n's TwoLayerNet draws weights with std * np.random.randn and zero biases.

source: https://github.com/kingtaurus/cs231n/blob/HEAD/assignment1/cs231n/classifiers/neural_net.py
verdict: bug
step: init
diagnosis: ignores_generator

Original: `self.params['W1'] = std * np.random.randn(input_size, hidden_size);
self.params['b1'] = np.zeros(hidden_size)`. Adapted: one weight vector and a 0-dim bias,
returned as tensors; the draw comes from numpy's global random state, as in the original.
"""

import numpy as np


def init_params(n_features, *, std=0.01, generator=None, dtype=torch.float32, device="cpu"):
    W = std * np.random.randn(n_features)
    b = np.zeros(())
    return torch.as_tensor(W, dtype=dtype, device=device), torch.as_tensor(b, dtype=dtype, device=device)
