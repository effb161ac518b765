"""Real: d2l's data_iter: random.shuffle(indices), then slices of batch_size.

source: https://github.com/d2l-ai/d2l-en/blob/013ce9e6442c9edb050fcc24948b768f99f7f05b/chapter_linear-networks/linear-regression-scratch.md
verdict: bug
step: minibatch
diagnosis: ignores_generator

Original: `indices = list(range(num_examples)); random.shuffle(indices);
for i in range(0, num_examples, batch_size): j = nd.array(indices[i: min(i + batch_size, num_examples)])`.
Adapted: it yields the index tensors (int64) rather than the rows they select; shuffle=False
skips the shuffle and drop_last drops a short last batch, options the original lacks. The
shuffle comes from Python's random module, as in the book.
"""

import random


def minibatches(n, batch_size, *, shuffle=True, drop_last=False, generator=None):
    num_examples = n
    indices = list(range(num_examples))
    if shuffle:
        random.shuffle(indices)
    for i in range(0, num_examples, batch_size):
        j = torch.tensor(indices[i : min(i + batch_size, num_examples)], dtype=torch.int64)
        if drop_last and len(j) < batch_size:
            break
        yield j
