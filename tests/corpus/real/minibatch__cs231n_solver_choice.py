"""Real: CS231n's Solver._step samples each minibatch with np.random.choice(num_train, batch_size): with replacement.

source: https://github.com/kingtaurus/cs231n/blob/HEAD/assignment2/cs231n/solver.py
verdict: bug
step: minibatch
diagnosis: ignores_generator
also: with_replacement

Original: `batch_mask = np.random.choice(num_train, self.batch_size)`, called
`iterations_per_epoch = max(num_train // self.batch_size, 1)` times per epoch. Adapted: the
epoch's batches of indices, as int64 tensors; shuffle=False gives the plain order (the Solver
always samples); numpy's global random state, as in the course.
"""

import numpy as np


def minibatches(n, batch_size, *, shuffle=True, drop_last=False, generator=None):
    if not shuffle:
        order = torch.arange(n)
        stop = n - n % batch_size if drop_last else n
        for start in range(0, stop, batch_size):
            yield order[start : start + batch_size]
        return
    num_train = n
    iterations_per_epoch = max(num_train // batch_size, 1)
    for _ in range(iterations_per_epoch):
        batch_mask = np.random.choice(num_train, batch_size)
        yield torch.as_tensor(batch_mask, dtype=torch.int64)
