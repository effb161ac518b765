"""The statistical checks keep their false-fail bound (≤ 1e-6), shown over 1000 seeds, and have power."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from grader.checks import init, minibatch

ROOT = Path(__file__).resolve().parents[1]

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


def test_a_sample_passes_without_scipy_only_where_scipy_passes_it() -> None:
    """The statistic against the stored critical value decides as scipy's p-value does, near the
    critical value too: samples scaled from N(0, 1) to well past it, and counts from even to skewed."""
    from scipy import stats

    from grader.checks import significance

    g = torch.Generator().manual_seed(0)
    base = torch.randn(init.NORMALITY_SIZE, generator=g, dtype=torch.float64)
    for scale in torch.linspace(0.95, 1.1, 61).tolist():
        w = base * scale
        statistic = significance.ks_statistic(w, lambda x: torch.special.ndtr(x))
        assert statistic == pytest.approx(stats.kstest(w.numpy(), "norm").statistic, rel=1e-9)
        scipy_rejects = init.normality_pvalue(w, 1.0) < init.NORMALITY.level
        assert (init.normality_rejected(w, 1.0) is not None) == scipy_rejects, scale
    even = torch.full((24,), 200)
    for shift in range(0, 120, 2):
        counts = even.clone()
        counts[0] += shift
        counts[1] -= shift
        statistic = significance.chi2_statistic(counts)
        assert statistic == pytest.approx(stats.chisquare(counts.numpy()).statistic, rel=1e-9)
        p = float(stats.chisquare(counts.numpy()).pvalue)
        found = minibatch.UNIFORMITY.rejects(statistic, lambda p=p: p)
        assert (found is not None) == (p < minibatch.UNIFORMITY.level), shift


def test_a_passing_grade_of_the_statistical_steps_imports_no_scipy() -> None:
    """scipy.stats' import (about a second) is paid only for a sample that may fail."""
    code = (
        "import sys\n"
        "from grader import reference\n"
        "from grader.checks.model import checks_for\n"
        "from grader.checks.runner import run_check\n"
        "from grader.submission import InProcessSubmission\n"
        "s = InProcessSubmission(reference.reference(), reference.SOLUTION.read_text())\n"
        "assert all(run_check(c, s).passed for c in checks_for() if c.step in ('init', 'minibatch'))\n"
        "print('scipy.stats' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout.strip() == "False", done.stderr
