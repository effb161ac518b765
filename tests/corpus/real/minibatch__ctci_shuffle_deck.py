"""Real: a Cracking-the-Coding-Interview solution's shuffle: for i in range(n - 1): j = random.randint(0, n - 1); swap.

source: https://github.com/RemKamal/cracking-the-coding-interview-6-python
verdict: bug
step: minibatch
diagnosis: biased_shuffle

Original: `n = len(deck); for i in range(n - 1): j = random.randint(0, n - 1);
deck[i], deck[j] = deck[j], deck[i]`. Adapted: random.randint(0, n - 1) is drawn from the
generator (torch.randint(0, n, ...)); the order is then cut into batches.
"""


def minibatches(n, batch_size, *, shuffle=True, drop_last=False, generator=None):
    deck = list(range(n))
    if shuffle:
        for i in range(n - 1):
            j = int(torch.randint(0, n, (), generator=generator))
            deck[i], deck[j] = deck[j], deck[i]
    order = torch.tensor(deck, dtype=torch.int64)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        yield order[start : start + batch_size]
