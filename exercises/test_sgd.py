"""One test per public check; each step has its own marker (`pytest -m gradient`)."""

from __future__ import annotations

import warnings

import pytest
import torch

from grader.frontends.selfcheck import public_checks, submission_for

CHECKS = public_checks()
ASCII = str.maketrans({"…": "...", "²": "^2", "−": "-", "–": "-", "≥": ">=", "≤": "<=", "χ": "chi", "·": "*"})
"""pytest escapes other characters in test ids: a title's symbols are spelled out instead."""


def label(check) -> str:
    """`mse.matches_mse_loss: equals torch.nn.functional.mse_loss`: the check id, then its title."""
    return f"{check.id}: {check.title}".translate(ASCII)


@pytest.fixture(scope="session")
def submission(pytestconfig: pytest.Config):
    return submission_for(pytestconfig.getoption("--submission"))


@pytest.mark.parametrize("check", [pytest.param(c, id=label(c), marks=getattr(pytest.mark, c.step)) for c in CHECKS])
def test_check(check, submission, step_summary, pytestconfig):
    device = pytestconfig.getoption("--device")
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("--device cuda, but no CUDA device is available")
    outcome = step_summary.run(check, submission, device=device)
    if not outcome.passed:
        pytest.fail(outcome.feedback, pytrace=False)
    if outcome.message:  # a rule's "could not verify": your instructor reads that code
        warnings.warn(outcome.message, stacklevel=1)
