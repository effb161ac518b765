"""Real: a self-driving-car course project's Shuffling_and_Partition(X, Y, mini_batch_size=64, seed=0): np.random.seed(seed), then ceil(m / size) slices.

source: https://github.com/YouYueHuang/SelfDrivingCarProjects/blob/HEAD/P2-Traffic-Sign-Classifier/test/Shuffling_and_Partition.py
verdict: bug
step: minibatch
diagnosis: fixed_seed
also: reseeds_generator

Original: `np.random.seed(seed); m = X.shape[0]; permutation = list(np.random.permutation(m))`, then
`num_complete_minibatches = math.ceil(m/mini_batch_size)` slices `[k * mini_batch_size:(k + 1) *
mini_batch_size]` (the last one short). Called once per epoch with the default seed, every epoch
gets the same order. Adapted: index tensors instead of (X, Y) slices; shuffle=False and drop_last
added.
"""

import numpy as np


def minibatches(n, batch_size, *, shuffle=True, drop_last=False, generator=None, seed=0):
    np.random.seed(seed)
    m = n
    mini_batch_size = batch_size
    permutation = list(np.random.permutation(m)) if shuffle else list(range(m))
    permutation = torch.tensor(permutation, dtype=torch.int64)
    num_complete_minibatches = math.ceil(m / mini_batch_size)
    for k in range(0, num_complete_minibatches):
        mini_batch = permutation[k * mini_batch_size : (k + 1) * mini_batch_size]
        if drop_last and len(mini_batch) < mini_batch_size:
            continue
        yield mini_batch
