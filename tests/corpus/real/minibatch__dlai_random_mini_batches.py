"""Real: deeplearning.ai's random_mini_batches(X, Y, mini_batch_size=64, seed=0): np.random.seed(seed) on every call.

source: https://github.com/OH-Seoyoung/ML_Optimization_Methods/blob/HEAD/Without_DL_framework/opti_mini.py
verdict: bug
step: minibatch
diagnosis: fixed_seed
also: reseeds_generator

Original: `np.random.seed(seed); permutation = list(np.random.permutation(m))`, then
`num_complete_minibatches = math.floor(m/mini_batch_size)` full batches and, if
`m % mini_batch_size != 0`, the rest. The course's model passes seed + 1 each epoch; called
with its default seed, as the contract calls it, it reseeds to 0 every time, so every epoch
has the same order. Adapted: index tensors instead of (X, Y) slices; shuffle=False and
drop_last added.
"""

import numpy as np


def minibatches(n, batch_size, *, shuffle=True, drop_last=False, generator=None, seed=0):
    np.random.seed(seed)
    m = n
    mini_batch_size = batch_size
    permutation = list(np.random.permutation(m)) if shuffle else list(range(m))
    permutation = torch.tensor(permutation, dtype=torch.int64)
    num_complete_minibatches = math.floor(m / mini_batch_size)
    for k in range(0, num_complete_minibatches):
        yield permutation[k * mini_batch_size : (k + 1) * mini_batch_size]
    if m % mini_batch_size != 0 and not drop_last:
        yield permutation[num_complete_minibatches * mini_batch_size : m]
