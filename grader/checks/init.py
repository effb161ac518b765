"""Checks of `init`: small random weights from a generator, and a zero bias."""

from __future__ import annotations

import torch
from hypothesis import strategies as st

from grader.checks import strategies as st_
from grader.checks.example_store import TARGET_DEVICE
from grader.checks.expect import expect_tensor, fmt, is_close
from grader.checks.model import Call, Failure, check, diagnoses, filled
from grader.checks.significance import ks_statistic, significance_test
from grader.sandbox.protocol import Gen

FALSE_FAIL_BOUND = 1e-6
"""A correct N(0, std²) initialisation fails `draws_normal_weights` with at most this probability."""

NORMALITY_SIZE = 10_000
NORMALITY_STDS = (0.01, 1.0, 2.5)


def _call(n: int, std: float, generator, dtype=torch.float32, device: str = TARGET_DEVICE) -> Call:
    return Call("init_params", (n,), {"std": std, "generator": generator, "dtype": dtype, "device": device})


def _pair(got, n: int, dtype: torch.dtype, device: str):
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise Failure(f"init_params returned a {type(got).__name__}; expected a pair (w, b).")
    like = torch.empty((), dtype=dtype, device=device)
    return (
        expect_tensor(got[0], what="init_params's w", shape=(n,), like=like),
        expect_tensor(got[1], what="init_params's b", shape=(), like=like),
    )


@check(
    "init",
    "returns w of shape (n_features,) and a 0-dim zero b, in the requested dtype and device",
    points=2,
    examples=st.tuples(st.integers(1, 20), st.sampled_from([0.01, 0.5, 1.0]), st_.dtypes, st.just(TARGET_DEVICE)),
    max_examples=10,
)
def shapes_and_zero_bias(example):
    n, std, dtype, device = example
    (got,) = yield [_call(n, std, Gen(n, device=device), dtype, device)]
    _, b = _pair(got, n, dtype, device)
    if float(b) != 0.0:
        raise Failure(
            f"init_params({n}, std={std}) gives b = {fmt(b)}; the bias starts at 0.",
            diagnosis="nonzero_bias",
            hint=HINTS["nonzero_bias"],
        )


@check(
    "init",
    "draws from the generator: same state, same w; another state, another w",
    points=2,
    examples=st.just(TARGET_DEVICE),
)
def draws_from_generator(device):
    calls = [
        _call(50, 1.0, Gen(seed, key=f"{tag}{seed}", device=device), device=device)
        for tag in "ab"
        for seed in (1, 2, 3)
    ]
    calls.append(_call(50, 1.0, Gen(1, key="a1", device=device), device=device))
    got = yield calls
    ws = [_pair(g, 50, torch.float32, device)[0].cpu() for g in got]
    first, again, advanced = ws[:3], ws[3:6], ws[6]
    if any(not torch.equal(a, b) for a, b in zip(first, again)):
        raise Failure("two generators seeded alike gave different w.", diagnosis="ignores_generator")
    if torch.equal(first[0], first[1]) or torch.equal(first[0], advanced):
        constant = all(bool((w == w[0]).all()) for w in ws)
        raise Failure(
            f"different generator states gave the same w = {fmt(first[0])}.",
            diagnosis="constant_init" if constant else "fixed_seed",
        )


HINTS = diagnoses(
    "init",
    nonzero_bias="Start the bias at zero: torch.zeros((), dtype=..., device=...).",
    ignores_generator="two generators seeded alike gave different w: draw from `generator` (torch.randn(..., "
    "generator=generator)), not from a global random state (torch's, numpy's or Python's).",
    std_squared="Your weights have standard deviation std² = …: multiply by std, not its square.",
    uniform_init="Your weights look uniformly distributed: draw normal ones (torch.randn).",
    constant_init="Your weights all start at the same value: every weight then gets the same update and they "
    "never differ. Draw them at random: std · torch.randn(n_features, generator=generator).",
    fixed_seed="different generator states gave the same w: do not seed a generator of your own (or reseed the one "
    "passed in); draw from `generator` as it is.",
)


NORMALITY = significance_test("kstwo", NORMALITY_SIZE, level=FALSE_FAIL_BOUND / len(NORMALITY_STDS))
"""The Kolmogorov–Smirnov test of each of `draws_normal_weights`' samples."""


def normality_pvalue(w: torch.Tensor, std: float) -> float:
    """Kolmogorov–Smirnov test of `w` against N(0, std²)."""
    from scipy import stats  # here: a passing sample needs none of it (`significance`)

    return float(stats.kstest(w.detach().cpu().double().numpy(), "norm", args=(0.0, std)).pvalue)


def normality_rejected(w: torch.Tensor, std: float) -> float | None:
    """The KS p-value of `w` against N(0, std²) when `NORMALITY` rejects it; None when it passes."""
    statistic = ks_statistic(w, lambda x: torch.special.ndtr(x / std))
    return NORMALITY.rejects(statistic, lambda: normality_pvalue(w, std))


def _diagnose(w: torch.Tensor, std: float) -> tuple[str | None, str | None]:
    if bool((w == w[0]).all()):
        return "constant_init", HINTS["constant_init"]
    sample_std = float(w.double().std())
    if is_close(sample_std, std**2, rtol=0.05, atol=0.0):
        return "std_squared", filled(HINTS["std_squared"], f"{std**2:g}")
    from scipy import stats

    if float(stats.kurtosis(w.double().cpu().numpy())) < -0.8:
        return "uniform_init", HINTS["uniform_init"]
    return None, None


@check(
    "init",
    f"w follows N(0, std²) (Kolmogorov–Smirnov, false-fail bound {FALSE_FAIL_BOUND:g})",
    points=3,
    examples=st.just(TARGET_DEVICE),
)
def draws_normal_weights(device):
    got = yield [
        _call(NORMALITY_SIZE, std, Gen(7 + i, key=f"n{i}", device=device), torch.float64, device)
        for i, std in enumerate(NORMALITY_STDS)
    ]
    for std, g in zip(NORMALITY_STDS, got):
        w, _ = _pair(g, NORMALITY_SIZE, torch.float64, device)
        p = normality_rejected(w, std)
        if p is not None:
            diagnosis, hint = _diagnose(w, std)
            raise Failure(
                f"with std={std}, {NORMALITY_SIZE} weights have mean {float(w.mean()):.4g} and standard "
                f"deviation {float(w.std()):.4g}; expected N(0, {std}²) (KS p-value {p:.2g}).",
                diagnosis=diagnosis,
                hint=hint,
            )
