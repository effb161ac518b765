"""Step 6, repeat: one epoch of shuffled minibatch indices."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import torch
from hypothesis import strategies as st
from scipy import stats

from grader.checks import strategies as st_
from grader.checks.core import Call, Failure, check, fmt
from grader.sandbox.protocol import Gen

FALSE_FAIL_BOUND = 1e-6
"""A correct, uniform shuffle fails `shuffles_uniformly` with at most this probability."""

UNIFORMITY_N, UNIFORMITY_EPOCHS = 4, 4800


def _indices(got, *, what: str) -> list[torch.Tensor]:
    if not isinstance(got, (list, tuple)):
        raise Failure(f"{what} gave a {type(got).__name__}; it should yield (or return) index tensors.")
    for i, batch in enumerate(got):
        if not isinstance(batch, torch.Tensor):
            raise Failure(f"{what}: batch {i} is a {type(batch).__name__}; expected an int64 tensor of indices.")
        if batch.dtype != torch.int64:
            raise Failure(f"{what}: batch {i} has dtype {batch.dtype}; indices must be int64 (torch.long).")
        if batch.dim() != 1:
            raise Failure(f"{what}: batch {i} has shape {tuple(batch.shape)}; expected a 1-D tensor.")
    return [b.cpu() for b in got]


def _epoch_call(n: int, batch_size: int, *, shuffle: bool, drop_last: bool, generator) -> Call:
    return Call("minibatches", (n, batch_size), {"shuffle": shuffle, "drop_last": drop_last, "generator": generator})


generators = st.one_of(st.none(), st.integers(0, 2**31 - 1).map(Gen))


@check(
    "minibatch",
    "each epoch visits every row once, in batches of batch_size (drop_last honoured)",
    examples=st.tuples(st_.epoch_sizes, st.booleans(), st.booleans(), generators),
    max_examples=40,
)
def epoch_is_partition(example):
    (n, batch_size), shuffle, drop_last, generator = example
    what = f"minibatches({n}, {batch_size}, shuffle={shuffle}, drop_last={drop_last})"
    (got,) = yield [_epoch_call(n, batch_size, shuffle=shuffle, drop_last=drop_last, generator=generator)]
    batches = _indices(got, what=what)
    sizes = [len(b) for b in batches]
    full, rest = divmod(n, batch_size)
    expected_sizes = [batch_size] * full + ([rest] if rest and not drop_last else [])
    seen = torch.cat(batches).tolist() if batches else []
    if len(set(seen)) != len(seen):
        repeated = sorted({i for i in seen if seen.count(i) > 1})
        raise Failure(
            f"{what} repeats rows {repeated[:5]} within one epoch.",
            diagnosis="with_replacement",
            hint="Sample without replacement: shuffle a permutation of all rows (torch.randperm), "
            "so every row is used exactly once per epoch.",
        )
    if any(i < 0 or i >= n for i in seen):
        raise Failure(f"{what} yields indices outside 0..{n - 1}: {sorted(seen)[:3]}…{sorted(seen)[-3:]}.")
    if sizes != expected_sizes:
        diagnosis, hint = None, None
        if rest and not drop_last and sizes == expected_sizes[:-1]:
            diagnosis, hint = "always_drop_last", "With drop_last=False, keep the short last batch."
        elif rest and drop_last and sizes == expected_sizes + [rest]:
            diagnosis, hint = "never_drop_last", "With drop_last=True, drop the short last batch."
        raise Failure(f"{what} gives batch sizes {sizes}; expected {expected_sizes}.", diagnosis=diagnosis, hint=hint)
    if not drop_last and sorted(seen) != list(range(n)):
        raise Failure(f"{what} misses rows: it yields {fmt(seen)}.")


@check(
    "minibatch",
    "with shuffle=False, yields rows in order 0, 1, …, n−1",
    examples=st.tuples(st_.epoch_sizes, st.booleans()),
    max_examples=15,
)
def unshuffled_in_order(example):
    (n, batch_size), drop_last = example
    (got,) = yield [_epoch_call(n, batch_size, shuffle=False, drop_last=drop_last, generator=None)]
    batches = _indices(got, what=f"minibatches({n}, {batch_size}, shuffle=False)")
    seen = torch.cat(batches).tolist() if batches else []
    expected = list(range(len(seen)))
    if seen != expected:
        raise Failure(
            f"minibatches({n}, {batch_size}, shuffle=False) yields {fmt(seen, 12)}; expected {fmt(expected, 12)}."
        )


@check("minibatch", "draws its shuffle from the generator: same state, same batches; new state, new order")
def generator_drives_shuffle(_):
    n, batch_size = 20, 7
    seeds = list(range(8))
    calls = [_epoch_call(n, batch_size, shuffle=True, drop_last=False, generator=Gen(s, key=f"a{s}")) for s in seeds]
    calls += [_epoch_call(n, batch_size, shuffle=True, drop_last=False, generator=Gen(s, key=f"b{s}")) for s in seeds]
    calls += [_epoch_call(n, batch_size, shuffle=True, drop_last=False, generator=Gen(s, key=f"a{s}")) for s in seeds]
    got = yield calls
    orders = [torch.cat(_indices(g, what=f"minibatches({n}, {batch_size})")).tolist() for g in got]
    first, again, second_epoch = orders[:8], orders[8:16], orders[16:]
    if any(a != b for a, b in zip(first, again)):
        raise Failure(
            "two generators seeded alike gave different batches: draw the permutation from `generator` "
            "(e.g. torch.randperm(n, generator=generator)), not from torch's global random state.",
            diagnosis="ignores_generator",
        )
    if all(order == list(range(n)) for order in first):
        raise Failure(
            f"with shuffle=True, minibatches({n}, {batch_size}) never shuffles.",
            diagnosis="no_shuffle",
            hint="shuffle=True must visit the rows in a random order.",
        )
    if len({tuple(o) for o in first}) == 1 or all(a == b for a, b in zip(first, second_epoch)):
        raise Failure(
            "different generator states gave the same order: do not seed a generator of your own; "
            "draw from the one passed in, so each epoch gets a fresh order.",
            diagnosis="fixed_seed",
        )


def permutation_pvalue(orders: list[list[int]] | torch.Tensor, n: int) -> float:
    """Pearson's χ² test that `orders` (one permutation of 0..n-1 per row) are uniform over all n! orders."""
    codes = (torch.as_tensor(orders, dtype=torch.int64) * n ** torch.arange(n)).sum(dim=1)
    counts = torch.bincount(codes, minlength=n**n)
    every_order = torch.tensor(list(itertools.permutations(range(n)))) * n ** torch.arange(n)
    return float(stats.chisquare(counts[every_order.sum(dim=1)].numpy()).pvalue)


@check(
    "minibatch",
    f"shuffles uniformly: all {math.factorial(UNIFORMITY_N)} orders of {UNIFORMITY_N} rows "
    f"equally likely (χ² test, false-fail bound {FALSE_FAIL_BOUND:g})",
)
def shuffles_uniformly(_):
    shared = Gen(12345, key="uniformity")
    call = _epoch_call(UNIFORMITY_N, UNIFORMITY_N, shuffle=True, drop_last=False, generator=shared)
    (epochs,) = yield [replace(call, repeat=UNIFORMITY_EPOCHS)]
    what = f"minibatches({UNIFORMITY_N}, {UNIFORMITY_N})"
    visits = [_visit_order(_indices(epoch, what=what)) for epoch in epochs]
    bad = next((v for v in visits if len(v) != UNIFORMITY_N), None)
    if bad is None:
        orders = torch.stack(visits)
        permutations = (orders.sort(dim=1).values == torch.arange(UNIFORMITY_N)).all(dim=1)
        bad = None if bool(permutations.all()) else visits[int((~permutations).nonzero()[0])]
    if bad is not None:
        raise Failure(f"{what} gave {bad.tolist()}, not a permutation.")
    p = permutation_pvalue(orders, UNIFORMITY_N)
    if p < FALSE_FAIL_BOUND:
        raise Failure(
            f"over {UNIFORMITY_EPOCHS} epochs of {UNIFORMITY_N} rows, some orders come up far more often "
            f"than others (χ² p-value {p:.2g}): the shuffle is biased. A hand-written Fisher–Yates must "
            "pick j uniformly from 0..i inclusive."
        )


def _visit_order(batches: list[torch.Tensor]) -> torch.Tensor:
    """The rows of one epoch in the order its batches visit them."""
    if len(batches) == 1:
        return batches[0]
    return torch.cat(batches) if batches else torch.empty(0, dtype=torch.int64)


@check(
    "minibatch",
    "matches the reference on edge cases (batch_size ≥ n, n = 1)",
    uses_reference=True,
    examples=st.tuples(st.integers(1, 6), st.integers(0, 3), st.booleans()),
    max_examples=15,
)
def matches_reference_edges(example):
    from grader.reference import reference

    n, extra, drop_last = example
    batch_size = n + extra
    (got,) = yield [_epoch_call(n, batch_size, shuffle=False, drop_last=drop_last, generator=None)]
    batches = [b.tolist() for b in _indices(got, what=f"minibatches({n}, {batch_size}, drop_last={drop_last})")]
    expected = [b.tolist() for b in reference().minibatches(n, batch_size, shuffle=False, drop_last=drop_last)]
    if batches != expected:
        raise Failure(
            f"minibatches({n}, {batch_size}, shuffle=False, drop_last={drop_last}) gives {batches}; "
            f"expected {expected}."
        )
