"""The corpora, and the agreement of the two ways a check runs.

The whole corpus is graded through the sandbox in test_classroom.py (each bug fails at its
own step only, with its diagnosis; each correct style gets full marks). Here a sample also
goes through the in-process runner of the student's `pytest`, which must reach the same verdicts."""

from __future__ import annotations

import ast

import pytest
from conftest import corpus_files, corpus_source, header

from grader.checks.model import DIAGNOSES, checks_for
from grader.checks.runner import run_check
from grader.contract import FUNCTION_STEP
from grader.frontends.grade import grade_source, open_sandbox
from grader.frontends.selfcheck import submission_for

BUGS = corpus_files("bugs")
CORRECT = corpus_files("correct")


@pytest.fixture(scope="module")
def sandbox():
    with open_sandbox() as box:
        yield box


def grade(path, sandbox):
    return grade_source(corpus_source(path), path.name, sandbox)


def test_corpora_are_big_enough():
    assert len(BUGS) >= 30 and len(CORRECT) >= 8


@pytest.mark.parametrize("path", BUGS[::8] + CORRECT[::4], ids=lambda p: p.stem)
def test_in_process_verdicts_match_the_sandbox(path, sandbox, tmp_path):
    whole = tmp_path / path.name
    whole.write_text(corpus_source(path))
    in_process = submission_for(whole)
    outcomes = [run_check(c, in_process) for c in checks_for()]
    assert not [o.diagnosis for o in outcomes if o.diagnosis and o.diagnosis not in DIAGNOSES[o.check.step]]
    expected = {o.check.id: (o.passed, o.diagnosis) for o in outcomes}
    assert {g.check.id: (g.outcome.passed, g.outcome.diagnosis) for g in grade(path, sandbox).graded} == expected


@pytest.mark.parametrize("path", BUGS, ids=lambda p: p.stem)
def test_bug_holds_only_what_differs_from_the_reference(path):
    """A bug file is no full copy: it defines a few contract functions (and helpers they use),
    and the reference supplies the rest (`corpus_source`)."""
    tree = ast.parse(path.read_text())
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    assert defined and defined <= set(FUNCTION_STEP) | used, defined
    assert len(defined & set(FUNCTION_STEP)) < len(FUNCTION_STEP) / 2, defined
    assert header(path)["step"] and header(path)["diagnosis"]
    compile(corpus_source(path), path.name, "exec")


def test_every_diagnosis_is_registered_at_its_step():
    """The class report, the HTML and results.json read a diagnosis' message from the registry
    (`checks.model.DIAGNOSES`): every mistake the bug corpus expects is declared by its own step."""
    expected = {(header(p)["step"], header(p)["diagnosis"]) for p in BUGS if header(p)["diagnosis"] != "none"}
    assert len(expected) >= 25
    assert not [pair for pair in expected if pair[1] not in DIAGNOSES.get(pair[0], {})]
    assert all(message and " " in message for messages in DIAGNOSES.values() for message in messages.values())
