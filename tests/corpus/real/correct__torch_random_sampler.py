"""Real: torch's RandomSampler (randperm from the generator) feeding BatchSampler.

source: https://github.com/pytorch/pytorch/blob/main/torch/utils/data/sampler.py
verdict: correct
step: none
diagnosis: none

Original: RandomSampler.__iter__ without replacement: `for _ in range(self.num_samples // n):
yield from torch.randperm(n, generator=generator).tolist()`; SequentialSampler: `iter(range(n))`;
BatchSampler.__iter__ (drop_last=False): `batch = []; for idx in self.sampler: batch.append(idx);
if len(batch) == self.batch_size: yield batch; batch = []`, then `if len(batch) > 0 and not
self.drop_last: yield batch`. Adapted: batches as int64 tensors.
"""


def _random_sampler(n, generator):
    if generator is None:
        seed = int(torch.empty((), dtype=torch.int64).random_().item())
        generator = torch.Generator()
        generator.manual_seed(seed)
    num_samples = n
    for _ in range(num_samples // n):
        yield from torch.randperm(n, generator=generator).tolist()
    yield from torch.randperm(n, generator=generator).tolist()[: num_samples % n]


def _batch_sampler(sampler, batch_size, drop_last):
    batch = []
    for idx in sampler:
        batch.append(idx)
        if len(batch) == batch_size:
            yield batch
            batch = []
    if len(batch) > 0 and not drop_last:
        yield batch


def minibatches(n, batch_size, *, shuffle=True, drop_last=False, generator=None):
    sampler = _random_sampler(n, generator) if shuffle else iter(range(n))
    for batch in _batch_sampler(sampler, batch_size, drop_last):
        yield torch.tensor(batch, dtype=torch.int64)
