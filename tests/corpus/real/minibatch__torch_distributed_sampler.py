"""Real: torch's DistributedSampler.__iter__: a fresh generator seeded with seed + epoch; without set_epoch, every epoch is the same.

source: https://github.com/pytorch/pytorch/blob/main/torch/utils/data/distributed.py
verdict: bug
step: minibatch
diagnosis: fixed_seed
also: reseeds_generator

Original: `if self.shuffle: g = torch.Generator(); g.manual_seed(self.seed + self.epoch);
indices = torch.randperm(len(self.dataset), generator=g).tolist()`, with seed = 0 and
epoch = 0 until set_epoch is called (the classic forgotten call). Adapted: one replica (no
padding or subsampling), batched as BatchSampler does.
"""


def minibatches(n, batch_size, *, shuffle=True, drop_last=False, generator=None):
    seed, epoch = 0, 0
    if shuffle:
        g = torch.Generator()
        g.manual_seed(seed + epoch)
        indices = torch.randperm(n, generator=g).tolist()
    else:
        indices = list(range(n))
    batch = []
    for idx in indices:
        batch.append(idx)
        if len(batch) == batch_size:
            yield torch.tensor(batch, dtype=torch.int64)
            batch = []
    if len(batch) > 0 and not drop_last:
        yield torch.tensor(batch, dtype=torch.int64)
