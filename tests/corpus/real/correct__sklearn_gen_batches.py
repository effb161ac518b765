"""Real: scikit-learn's MLP _fit_stochastic: shuffle the sample indices, then gen_batches(n_samples, batch_size).

source: https://github.com/scikit-learn/scikit-learn/blob/main/sklearn/utils/_chunking.py
verdict: correct
step: none
diagnosis: none

Original gen_batches: `start = 0; for _ in range(int(n // batch_size)): end = start + batch_size;
if end + min_batch_size > n: continue; yield slice(start, end); start = end`, then
`if start < n: yield slice(start, n)`; MLP shuffles `sample_idx` first with its random_state.
Adapted: the shuffle is torch.randperm from the generator (sklearn's random_state); drop_last
skips the final partial slice, an option sklearn lacks.
"""


def gen_batches(n, batch_size, *, min_batch_size=0):
    start = 0
    for _ in range(int(n // batch_size)):
        end = start + batch_size
        if end + min_batch_size > n:
            continue
        yield slice(start, end)
        start = end
    if start < n:
        yield slice(start, n)


def minibatches(n, batch_size, *, shuffle=True, drop_last=False, generator=None):
    sample_idx = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    for batch_slice in gen_batches(n, batch_size):
        if drop_last and batch_slice.stop - batch_slice.start < batch_size:
            continue
        yield sample_idx[batch_slice]
