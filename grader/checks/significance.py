"""Significance tests that need scipy.stats only for the samples they may reject.

A test rejects a sample when its p-value falls below the test's level. The p-value falls as the
statistic grows, so the test rejects exactly the statistics above its critical value: scipy's
inverse survival function at the level, a stored oracle (`answers.stored`) computed once when the
examples are recorded. A statistic clearly below it passes on the spot; any other is decided by
scipy's own p-value, which a failure quotes. The verdicts are scipy's; a passing sample just does
not wait for scipy.stats' import (about a second).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from grader.checks.answers import stored

MARGIN = 1e-3
"""A statistic within this fraction below the critical value is decided by scipy's p-value."""


@dataclass(frozen=True)
class SignificanceTest:
    """A test whose statistic follows scipy.stats' `distribution` (with `args`) under the null hypothesis."""

    distribution: str
    args: tuple[float, ...]
    level: float

    def critical_value(self) -> float:
        return critical_value(self.distribution, self.level, *self.args)

    def rejects(self, statistic: float, p_value: Callable[[], float]) -> float | None:
        """The p-value (`p_value()`, scipy's) when it falls below the level; None when the sample passes."""
        if statistic < self.critical_value() * (1 - MARGIN):
            return None
        p = p_value()
        return p if p < self.level else None


TESTS: list[SignificanceTest] = []
"""Every test the checks declare: the example store records their critical values."""


def significance_test(distribution: str, *args: float, level: float) -> SignificanceTest:
    """Declare a test (see `SignificanceTest`)."""
    test = SignificanceTest(distribution, tuple(args), level)
    TESTS.append(test)
    return test


@stored
def critical_value(distribution: str, level: float, *args: float) -> float:
    """The statistic above which `distribution`'s survival function falls below `level`."""
    from scipy import stats

    return float(getattr(stats, distribution).isf(level, *args))


def ks_statistic(sample: torch.Tensor, cdf: Callable[[torch.Tensor], torch.Tensor]) -> float:
    """Kolmogorov–Smirnov's D: the largest gap between the sample's empirical CDF and `cdf`."""
    x = sample.detach().cpu().double().flatten().sort().values
    n = len(x)
    at = cdf(x)
    steps = torch.arange(n + 1, dtype=torch.float64) / n
    return float(torch.maximum(steps[1:] - at, at - steps[:-1]).max())


def chi2_statistic(observed: torch.Tensor) -> float:
    """Pearson's χ² of `observed` counts against equal expected counts."""
    counts = observed.double()
    expected = counts.sum() / len(counts)
    return float(((counts - expected) ** 2 / expected).sum())
