"""Real: the naive shuffle from Coding Horror's "The Danger of Naïveté": swap every card with a card at any position.

source: https://blog.codinghorror.com/the-danger-of-naivete/
verdict: bug
step: minibatch
diagnosis: biased_shuffle

Original (C#): `for (int i = 0; i < cards.Length; i++) { int n = rand.Next(cards.Length);
swap cards[i] and cards[n] }`. Adapted: rand.Next(len) is torch.randint(0, len, ...) drawn from
the generator; the shuffled order is then cut into batches.
"""


def minibatches(n, batch_size, *, shuffle=True, drop_last=False, generator=None):
    cards = list(range(n))
    if shuffle:
        for i in range(len(cards)):
            k = int(torch.randint(0, len(cards), (), generator=generator))
            cards[i], cards[k] = cards[k], cards[i]
    order = torch.tensor(cards, dtype=torch.int64)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        yield order[start : start + batch_size]
