"""Every bug fails at its own step and only there, with its diagnosis; every correct style passes."""

from __future__ import annotations

import pytest
from conftest import corpus_files, header

from grader.checks.core import checks_for, run_check
from grader.selfcheck import submission_for

BUGS = corpus_files("bugs")
CORRECT = corpus_files("correct")


def grade(path):
    submission = submission_for(path)
    return [run_check(c, submission) for c in checks_for()]


def test_corpora_are_big_enough():
    assert len(BUGS) >= 30 and len(CORRECT) >= 8


@pytest.mark.parametrize("path", BUGS, ids=lambda p: p.stem)
def test_bug_fails_at_its_step_only(path):
    expected = header(path)
    outcomes = grade(path)
    failing_steps = {o.check.step for o in outcomes if not o.passed}
    details = [f"{o.check.id}: {o.message[:200]}" for o in outcomes if not o.passed]
    assert failing_steps == {expected["step"]}, details
    if expected["diagnosis"] != "none":
        diagnoses = {o.diagnosis for o in outcomes if not o.passed}
        assert expected["diagnosis"] in diagnoses, details


@pytest.mark.parametrize("path", CORRECT, ids=lambda p: p.stem)
def test_correct_style_passes_everything(path):
    failed = [f"{o.check.id}: {o.message[:300]}" for o in grade(path) if not o.passed]
    assert not failed
