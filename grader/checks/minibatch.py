"""Checks of `minibatch`: one epoch of shuffled minibatch indices."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import torch
from hypothesis import strategies as st

from grader.checks import strategies as st_
from grader.checks.expect import fmt
from grader.checks.model import Call, Failure, check, diagnoses
from grader.checks.significance import chi2_statistic, significance_test
from grader.sandbox.protocol import Gen

FALSE_FAIL_BOUND = 1e-6
"""A correct, uniform shuffle fails `shuffles_uniformly` with at most this probability."""

UNIFORMITY_N, UNIFORMITY_EPOCHS = 4, 4800


def most_batches(n: int) -> int:
    """The most batches judged of one epoch over n rows: one per row, and one more (a correct
    epoch has at most ⌈n / batch_size⌉). Beyond it the check judges no further and fails."""
    return n + 1


def _indices(got, *, what: str, most: int) -> list[torch.Tensor]:
    """The first `most` batches, each checked to be a 1-D int64 tensor (on the cpu)."""
    if not isinstance(got, (list, tuple)):
        raise Failure(f"{what} gave a {type(got).__name__}; it should yield (or return) index tensors.")
    for i, batch in enumerate(got[:most]):
        if not isinstance(batch, torch.Tensor):
            raise Failure(f"{what}: batch {i} is a {type(batch).__name__}; expected an int64 tensor of indices.")
        if batch.dtype != torch.int64:
            raise Failure(f"{what}: batch {i} has dtype {batch.dtype}; indices must be int64 (torch.long).")
        if batch.dim() != 1:
            raise Failure(f"{what}: batch {i} has shape {tuple(batch.shape)}; expected a 1-D tensor.")
    return [b.cpu() for b in got[:most]]


def _expect_count(got, most: int, what: str, expected: int | None = None) -> None:
    """Fail if there are more than `most` batches: too many to be one epoch."""
    if len(got) > most:
        wanted = f"{expected}" if expected is not None else f"at most {most - 1}"
        raise Failure(f"{what} gives {len(got)} batches; expected {wanted}.")


def epoch_batches(got, *, what: str, n: int) -> list[torch.Tensor]:
    """The batches of one epoch over n rows; fails if they are not index tensors or too many."""
    batches = _indices(got, what=what, most=most_batches(n))
    _expect_count(got, most_batches(n), what)
    return batches


def _repeated(seen: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(the distinct indices, sorted; those that occur more than once): O(k log k) in the count k."""
    values, counts = torch.unique(seen, sorted=True, return_counts=True)
    return values, values[counts > 1]


def epoch_call(n: int, batch_size: int, *, shuffle: bool, drop_last: bool, generator) -> Call:
    return Call("minibatches", (n, batch_size), {"shuffle": shuffle, "drop_last": drop_last, "generator": generator})


generators = st.one_of(st.none(), st.integers(0, 2**31 - 1).map(Gen))


@check(
    "minibatch",
    "each epoch visits every row once, in batches of batch_size (drop_last honoured)",
    points=2,
    examples=st.tuples(st_.epoch_sizes, st.booleans(), st.booleans(), generators),
    max_examples=40,
)
def epoch_is_partition(example):
    (n, batch_size), shuffle, drop_last, generator = example
    what = f"minibatches({n}, {batch_size}, shuffle={shuffle}, drop_last={drop_last})"
    (got,) = yield [epoch_call(n, batch_size, shuffle=shuffle, drop_last=drop_last, generator=generator)]
    most = most_batches(n)
    batches = _indices(got, what=what, most=most)
    full, rest = divmod(n, batch_size)
    expected_sizes = [batch_size] * full + ([rest] if rest and not drop_last else [])
    seen = _visit_order(batches, most=n + 1)  # n + 1 rows of n hold a repeat or a stray index, if any does
    distinct, repeated = _repeated(seen)
    if len(repeated):
        raise Failure(
            f"{what} repeats rows {repeated[:5].tolist()} within one epoch.",
            diagnosis="with_replacement",
            hint=HINTS["with_replacement"],
        )
    if len(distinct) and (distinct[0] < 0 or distinct[-1] >= n):
        raise Failure(f"{what} yields indices outside 0..{n - 1}: {distinct[:3].tolist()}…{distinct[-3:].tolist()}.")
    _expect_count(got, most, what, expected=len(expected_sizes))
    _expect_sizes([len(b) for b in batches], expected_sizes, rest=rest, drop_last=drop_last, what=what)
    if not drop_last and len(distinct) != n:
        raise Failure(f"{what} misses rows: it yields {fmt(seen)}.")


HINTS = diagnoses(
    "minibatch",
    with_replacement="Sample without replacement: shuffle a permutation of all rows (torch.randperm), "
    "so every row is used exactly once per epoch.",
    always_drop_last="With drop_last=False, keep the short last batch.",
    never_drop_last="With drop_last=True, drop the short last batch.",
    no_shuffle="shuffle=True must visit the rows in a random order.",
    ignores_generator="two generators seeded alike gave different batches: draw the permutation from `generator` (e.g. "
    "torch.randperm(n, generator=generator)), not from a global random state (torch's, numpy's or Python's).",
    fixed_seed="different generator states gave the same order: your minibatches seeds a random state of its own "
    "(np.random.seed, torch.manual_seed, a new Generator), on every call. Draw from the generator passed in, so "
    "each epoch gets a fresh order.",
    reseeds_generator="every epoch with one generator repeats the same order: your minibatches restarts the "
    "generator from its seed on each call. Draw from it as it is, so its state advances from epoch to epoch.",
    biased_shuffle="Your shuffle swaps each row with any row (j from 0..n−1), which makes some orders more likely "
    "than others: pick j uniformly from 0..i inclusive (Fisher–Yates), or use torch.randperm.",
)


def _expect_sizes(sizes: list[int], expected_sizes: list[int], *, rest: int, drop_last: bool, what: str) -> None:
    """Fail unless the batch sizes are as expected; name the drop_last slip if it is one."""
    if sizes == expected_sizes:
        return
    diagnosis, hint = None, None
    if rest and not drop_last and sizes == expected_sizes[:-1]:
        diagnosis, hint = "always_drop_last", HINTS["always_drop_last"]
    elif rest and drop_last and sizes == expected_sizes + [rest]:
        diagnosis, hint = "never_drop_last", HINTS["never_drop_last"]
    raise Failure(
        f"{what} gives batch sizes {fmt(sizes, 40)}; expected {expected_sizes}.", diagnosis=diagnosis, hint=hint
    )


@check(
    "minibatch",
    "with shuffle=False, yields rows in order 0, 1, …, n−1",
    points=2,
    examples=st.tuples(st_.epoch_sizes, st.booleans()),
    max_examples=15,
)
def unshuffled_in_order(example):
    (n, batch_size), drop_last = example
    (got,) = yield [epoch_call(n, batch_size, shuffle=False, drop_last=drop_last, generator=None)]
    seen = _visit_order(epoch_batches(got, what=f"minibatches({n}, {batch_size}, shuffle=False)", n=n))
    expected = torch.arange(n - n % batch_size if drop_last else n)
    if not torch.equal(seen, expected):
        raise Failure(
            f"minibatches({n}, {batch_size}, shuffle=False) yields {fmt(seen, 12)}; expected {fmt(expected, 12)}."
        )


@check("minibatch", "draws its shuffle from the generator: same state, same batches; new state, new order", points=2)
def generator_drives_shuffle(_):
    n, batch_size = 20, 7
    seeds = list(range(8))
    calls = [epoch_call(n, batch_size, shuffle=True, drop_last=False, generator=Gen(s, key=f"a{s}")) for s in seeds]
    calls += [epoch_call(n, batch_size, shuffle=True, drop_last=False, generator=Gen(s, key=f"b{s}")) for s in seeds]
    calls += [epoch_call(n, batch_size, shuffle=True, drop_last=False, generator=Gen(s, key=f"a{s}")) for s in seeds]
    got = yield calls
    orders = [_order(g, what=f"minibatches({n}, {batch_size})", n=n) for g in got]
    first, again, second_epoch = orders[:8], orders[8:16], orders[16:]
    if any(not torch.equal(a, b) for a, b in zip(first, again)):
        raise Failure(
            f"two generators seeded alike gave different batches of minibatches({n}, {batch_size}).",
            diagnosis="ignores_generator",
        )
    if all(torch.equal(order, torch.arange(n)) for order in first):
        raise Failure(
            f"with shuffle=True, minibatches({n}, {batch_size}) never shuffles.",
            diagnosis="no_shuffle",
            hint=HINTS["no_shuffle"],
        )
    if all(torch.equal(o, first[0]) for o in first):
        raise Failure(
            f"8 differently seeded generators all gave the order {fmt(first[0], 20)}.", diagnosis="fixed_seed"
        )
    if all(torch.equal(a, b) for a, b in zip(first, second_epoch)):
        raise Failure(
            f"a second epoch with the same generator repeats the first one's order ({fmt(first[0], 20)}).",
            diagnosis="reseeds_generator",
        )


def _order(got, *, what: str, n: int) -> torch.Tensor:
    """The rows of one epoch in visiting order; an epoch of no batches cannot be judged."""
    batches = epoch_batches(got, what=what, n=n)
    if not batches:
        raise Failure(f"{what} gave no batches.")
    return _visit_order(batches)


def permutation_counts(orders: list[list[int]] | torch.Tensor, n: int) -> torch.Tensor:
    """How often each order of 0..n-1 (as itertools.permutations lists them) is a row of `orders`."""
    codes = (torch.as_tensor(orders, dtype=torch.int64) * n ** torch.arange(n)).sum(dim=1)
    counts = torch.bincount(codes, minlength=n**n)
    every_order = torch.tensor(list(itertools.permutations(range(n)))) * n ** torch.arange(n)
    return counts[every_order.sum(dim=1)]


def permutation_pvalue(orders: list[list[int]] | torch.Tensor, n: int, odds: list[float] | None = None) -> float:
    """Pearson's χ² test that `orders` (one permutation of 0..n-1 per row) follow `odds` (the
    probability of each order, as itertools.permutations lists them; uniform by default)."""
    observed = permutation_counts(orders, n).numpy()
    expected = None if odds is None else [p * observed.sum() for p in odds]
    from scipy import stats  # here: a uniform shuffle needs none of it (`significance`)

    return float(stats.chisquare(observed, expected).pvalue)


UNIFORMITY = significance_test("chi2", math.factorial(UNIFORMITY_N) - 1, level=FALSE_FAIL_BOUND)
"""Pearson's χ² test of `shuffles_uniformly`'s orders against equal odds."""


def naive_swap_odds(n: int, rounds: int) -> list[float]:
    """The probability of each order (itertools.permutations' order) under the classic biased
    shuffle: for i in range(rounds), swap row i with a row j drawn from all n (not from 0..i)."""
    index = {order: k for k, order in enumerate(itertools.permutations(range(n)))}
    counts = [0] * len(index)
    for js in itertools.product(range(n), repeat=rounds):
        order = list(range(n))
        for i, j in enumerate(js):
            order[i], order[j] = order[j], order[i]
        counts[index[tuple(order)]] += 1
    return [c / n**rounds for c in counts]


NAIVE_SWAP_ODDS = [naive_swap_odds(UNIFORMITY_N, rounds) for rounds in (UNIFORMITY_N, UNIFORMITY_N - 1)]
"""The naive swap's odds, over every row or every row but the last (both are common)."""
NAMING_LEVEL = 1e-3
"""A biased shuffle is named the naive swap only when its orders fit that shuffle's odds at this level."""


@check(
    "minibatch",
    f"shuffles uniformly: all {math.factorial(UNIFORMITY_N)} orders of {UNIFORMITY_N} rows "
    f"equally likely (χ² test, false-fail bound {FALSE_FAIL_BOUND:g})",
    points=3,
)
def shuffles_uniformly(_):
    shared = Gen(12345, key="uniformity")
    call = epoch_call(UNIFORMITY_N, UNIFORMITY_N, shuffle=True, drop_last=False, generator=shared)
    (epochs,) = yield [replace(call, repeat=UNIFORMITY_EPOCHS)]
    what = f"minibatches({UNIFORMITY_N}, {UNIFORMITY_N})"
    if len(epochs) != UNIFORMITY_EPOCHS:
        raise Failure(f"{what} was called {UNIFORMITY_EPOCHS} times, but {len(epochs)} results came back.")
    visits = [_visit_order(epoch_batches(epoch, what=what, n=UNIFORMITY_N)) for epoch in epochs]
    bad = next((v for v in visits if len(v) != UNIFORMITY_N), None)
    if bad is None:
        orders = torch.stack(visits)
        permutations = (orders.sort(dim=1).values == torch.arange(UNIFORMITY_N)).all(dim=1)
        bad = None if bool(permutations.all()) else visits[int((~permutations).nonzero()[0])]
    if bad is not None:
        raise Failure(f"{what} gave {fmt(bad, 12)}, not a permutation.")
    p = UNIFORMITY.rejects(
        chi2_statistic(permutation_counts(orders, UNIFORMITY_N)), lambda: permutation_pvalue(orders, UNIFORMITY_N)
    )
    if p is not None:
        naive = any(permutation_pvalue(orders, UNIFORMITY_N, odds) > NAMING_LEVEL for odds in NAIVE_SWAP_ODDS)
        raise Failure(
            f"over {UNIFORMITY_EPOCHS} epochs of {UNIFORMITY_N} rows, some orders come up far more often "
            f"than others (χ² p-value {p:.2g}): the shuffle is biased.",
            diagnosis="biased_shuffle" if naive else None,
        )


def _visit_order(batches: list[torch.Tensor], most: int | None = None) -> torch.Tensor:
    """The rows of one epoch in the order its batches visit them; only the first `most` if given."""
    if most is not None:
        batches = _first_rows(batches, most)
    if len(batches) == 1:
        return batches[0]
    return torch.cat(batches) if batches else torch.empty(0, dtype=torch.int64)


def _first_rows(batches: list[torch.Tensor], most: int) -> list[torch.Tensor]:
    """The batches cut to their first `most` indices in all, without copying the rest."""
    kept, left = [], most
    for batch in batches:
        if left <= 0:
            break
        kept.append(batch[:left])
        left -= len(kept[-1])
    return kept
