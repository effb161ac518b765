"""Hostile submissions, graded for real: each costs only the steps it breaks, and no tamper pays.

Each hostile file is appended to the reference solution, so its functions (and whatever it
does at import) replace the reference ones; the rest of the submission is correct."""

from __future__ import annotations

import re
import time

import pytest
from conftest import CORPUS, processes_of

from grader import reference
from grader.contract import STEPS
from grader.grading import grade_source, open_sandbox
from grader.sandbox.client import Limits

HOSTILE = sorted((CORPUS / "hostile").glob("*.py"))
LIMITS = Limits(call_timeout_s=1.0, import_timeout_s=3.0, submission_timeout_s=60.0)

MAY_COST = {
    "sleep_at_import": set(STEPS),  # nothing can be imported: every step scores zero
    "patch_random": {"init", "train"},  # it breaks torch.randn for its own init
}
"""Steps a hostile file may lose; every other file may lose only `mse`, where its tricks live."""

PLAIN_GARBAGE = {
    "monkeypatch_torch": "torch.zeros(())",
    "tensor_subclass": "torch.tensor(42.0)",
    "reduce_payload": "object()",
}
"""What each tampering `mse` really returns, without the tampering."""


def with_reference(hostile_source: str) -> str:
    solution = re.sub(r"\s*### (BEGIN|END) SOLUTION", "", reference.SOLUTION.read_text())
    return f"{solution}\n\n# --- hostile part ---\n{hostile_source}"


@pytest.fixture(scope="module")
def sandbox():
    with open_sandbox(limits=LIMITS) as box:
        yield box
    assert processes_of(box.uids) == [], "a process of a submission outlived grading"


def step_points(report) -> dict[str, float]:
    return {step: sum(g.score for g in report.graded if g.check.step == step) for step in STEPS}


def test_hostile_corpus_is_complete():
    assert len(HOSTILE) >= 20


@pytest.mark.parametrize("path", HOSTILE, ids=lambda p: p.stem)
def test_hostile_submission_costs_only_what_it_breaks(path, sandbox):
    started = time.monotonic()
    report = grade_source(with_reference(path.read_text()), path.name, sandbox)
    assert time.monotonic() - started < 90
    failing = {g.check.step for g in report.graded if not g.outcome.passed}
    assert failing <= MAY_COST.get(path.stem, {"mse"}), [g.outcome.message for g in report.graded]


@pytest.mark.parametrize("name", sorted(PLAIN_GARBAGE))
def test_tampering_scores_no_more_than_plain_garbage(name, sandbox):
    tampered = grade_source(with_reference((CORPUS / "hostile" / f"{name}.py").read_text()), name, sandbox)
    garbage = f"def mse(preds, targets):\n    return {PLAIN_GARBAGE[name]}\n"
    plain = grade_source(with_reference(garbage), f"{name}-plain", sandbox)
    assert step_points(tampered)["mse"] <= step_points(plain)["mse"]
    assert tampered.score <= plain.score
