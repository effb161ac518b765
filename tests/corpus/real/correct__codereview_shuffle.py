"""Real: shuffle from the same Code Review question: pick a card from write_index..n-1 and swap it to the front.

source: https://codereview.stackexchange.com/questions/156681/two-ways-to-randomly-shuffle-cards
verdict: correct
step: none
diagnosis: none

Original: `write_index = 0; while write_index < len(cards): read_index = random.randint(write_index,
len(cards)-1); swap; write_index += 1` (a forward Fisher–Yates: uniform). Adapted: randint
drawn from the generator; the order cut into batches.
"""


def minibatches(n, batch_size, *, shuffle=True, drop_last=False, generator=None):
    cards = list(range(n))
    if shuffle:
        write_index = 0
        while write_index < len(cards):
            read_index = int(torch.randint(write_index, len(cards), (), generator=generator))
            cards[read_index], cards[write_index] = cards[write_index], cards[read_index]
            write_index += 1
    order = torch.tensor(cards, dtype=torch.int64)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        yield order[start : start + batch_size]
