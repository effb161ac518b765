"""The statistical checks keep their false-fail bound (≤ 1e-6), shown over 1000 seeds, and have power."""

from __future__ import annotations

import torch

from grader.checks import init, minibatch

SEEDS = range(1000)


def test_normal_init_never_fails_a_correct_draw_over_1000_seeds():
    worst = 1.0
    for seed in SEEDS:
        g = torch.Generator().manual_seed(seed)
        for std in init.NORMALITY_STDS:
            w = torch.randn(init.NORMALITY_SIZE, generator=g, dtype=torch.float64) * std
            worst = min(worst, init.normality_pvalue(w, std))
    # Each draw is judged at 1e-6 / 3; 3000 correct draws would fail with probability ≤ 1e-3 in all.
    assert worst > init.FALSE_FAIL_BOUND / len(init.NORMALITY_STDS)


def test_normal_init_detects_wrong_scale_and_shape():
    g = torch.Generator().manual_seed(0)
    n = init.NORMALITY_SIZE
    assert init.normality_pvalue(torch.randn(n, generator=g, dtype=torch.float64) * 2.5**2, 2.5) < 1e-12
    uniform = (torch.rand(n, generator=g, dtype=torch.float64) - 0.5) * (12**0.5)
    assert init.normality_pvalue(uniform, 1.0) < 1e-12


def test_uniform_shuffle_never_fails_a_correct_shuffle_over_1000_seeds():
    n, epochs = minibatch.UNIFORMITY_N, minibatch.UNIFORMITY_EPOCHS
    worst = 1.0
    for seed in SEEDS:
        g = torch.Generator().manual_seed(seed)
        orders = torch.rand(epochs, n, generator=g).argsort(dim=1)
        worst = min(worst, minibatch.permutation_pvalue(orders, n))
    assert worst > minibatch.FALSE_FAIL_BOUND


def test_uniform_shuffle_detects_the_naive_swap_shuffle():
    n, epochs = minibatch.UNIFORMITY_N, minibatch.UNIFORMITY_EPOCHS
    g = torch.Generator().manual_seed(0)
    orders = []
    for _ in range(epochs):
        order = list(range(n))
        for i in range(n):  # the classic mistake: swap with any position, not one in 0..i
            j = int(torch.randint(n, (1,), generator=g))
            order[i], order[j] = order[j], order[i]
        orders.append(order)
    assert minibatch.permutation_pvalue(orders, n) < 1e-12
