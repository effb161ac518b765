"""Real: shuffle_v2 from a Code Review question: swap card i with one of cards 0..i-1 (never itself).

source: https://codereview.stackexchange.com/questions/156681/two-ways-to-randomly-shuffle-cards
verdict: bug
step: minibatch
diagnosis: none

Original: `for i in range(1, len(cards)): index = random.randint(0, i-1);
cards[index], cards[i] = cards[i], cards[index]` (Sattolo's algorithm: only cyclic
permutations, the last card never stays last). Not the swap-with-any shuffle: no registered
mistake names it. Adapted: randint drawn from the generator; the order cut into batches.
"""


def minibatches(n, batch_size, *, shuffle=True, drop_last=False, generator=None):
    cards = list(range(n))
    if shuffle:
        for i in range(1, len(cards)):
            index = int(torch.randint(0, i, (), generator=generator))
            cards[index], cards[i] = cards[i], cards[index]
    order = torch.tensor(cards, dtype=torch.int64)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        yield order[start : start + batch_size]
