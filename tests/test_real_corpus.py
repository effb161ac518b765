"""The corpus of real code (tests/corpus/real), graded through the real grader in one class run.

Each case is a public implementation (a course, a book, a library, a Q&A thread), adapted only in
names, signatures and types, and cites its source. Its header states the expected verdict, the
step whose checks must fail, and the expected diagnosis (and, under `also`, the other mistakes the
case really makes, when it makes several). Like tests/corpus/bugs, a case holds only the functions
it replaces; the reference supplies the rest. Asserted here: a correct case gets full marks and no
diagnosis; a bug loses points at its own step and only there; its diagnosis is named (or, for
"none", nothing is named), and no mistake it does not make is named."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import corpus_files

from grader import reference
from grader.checks.model import DIAGNOSES, checks_for
from grader.contract import FUNCTION_STEP, STEPS
from grader.rubric import load_rubric

REAL = corpus_files("real")
KEYS = ("source", "verdict", "step", "diagnosis")


def header(path: Path) -> dict[str, str]:
    """The `key: value` lines that follow the docstring's summary line (source, verdict, step, diagnosis)."""
    lines = ast.get_docstring(ast.parse(path.read_text()), clean=True).splitlines()
    fields = {"summary": lines[0]}
    for line in lines[2:]:
        if not line.strip():
            break
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


BUGS = [p for p in REAL if header(p).get("verdict") == "bug"]
CORRECT = [p for p in REAL if header(p).get("verdict") == "correct"]


def expected_diagnoses(path: Path) -> set[str]:
    """The diagnosis, and the other mistakes (`also`) the case makes: every name the grader may give it."""
    fields = header(path)
    named = {fields["diagnosis"]} - {"none"}
    return named | {name.strip() for name in fields.get("also", "").split(",") if name.strip()}


def rules_of(path: Path) -> set[str]:
    """The rules the case breaks (its header's `rules`): an API its step must not use."""
    return {rule.strip() for rule in header(path).get("rules", "").split(",") if rule.strip()}


def student(path: Path) -> str:
    return f"real-{path.stem}"


@pytest.fixture(scope="module")
def graded(graded_corpora):
    """The real cases' rows of the one class run of every corpus (tests/golden.py)."""
    return {student(path): graded_corpora[student(path)] for path in REAL}


def failing_steps(row) -> set[str]:
    return {t["tags"][0] for t in row.results["tests"] if t["status"] == "failed"}


def lost_points(row) -> dict[str, float]:
    lost: dict[str, float] = {}
    for t in row.results["tests"]:
        if t["score"] < t["max_score"]:
            lost[t["tags"][0]] = lost.get(t["tags"][0], 0.0) + t["max_score"] - t["score"]
    return lost


def test_corpus_is_big_and_covers_every_step():
    assert len(REAL) >= 40 and len(CORRECT) >= 12, (len(REAL), len(CORRECT))
    assert len(BUGS) + len(CORRECT) == len(REAL), [p.name for p in REAL if p not in BUGS + CORRECT]
    assert {header(p)["step"] for p in BUGS} == set(STEPS)
    correct_steps = {FUNCTION_STEP[name] for p in CORRECT for name in defined(p) if name in FUNCTION_STEP}
    assert correct_steps == set(STEPS)


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.stem)
def test_case_header_and_shape(path):
    """Every case cites a public source and states its verdict, step and diagnosis; its file name
    is `<step>__<slug>.py` (`correct__<slug>.py` when correct); it defines some contract
    functions (and helpers), not a whole rewrite, and compiles on top of the reference."""
    fields = header(path)
    assert fields["summary"].startswith("Real: ")
    assert all(fields.get(key) for key in KEYS), fields
    assert fields["source"].startswith("https://"), fields["source"]
    prefix = path.stem.split("__")[0]
    if fields["verdict"] == "correct":
        assert prefix == "correct" and fields["step"] == "none" and fields["diagnosis"] == "none"
    else:
        assert fields["verdict"] == "bug" and fields["step"] in STEPS and prefix == fields["step"]
    names = defined(path)
    assert names & set(FUNCTION_STEP) and len(names & set(FUNCTION_STEP)) < len(FUNCTION_STEP) / 2, names
    compile(reference.source_with(path.read_text()), path.name, "exec")


def defined(path: Path) -> set[str]:
    return {node.name for node in ast.parse(path.read_text()).body if isinstance(node, ast.FunctionDef)}


@pytest.mark.parametrize("path", CORRECT, ids=lambda p: p.stem)
def test_correct_case_gets_full_marks(path, graded):
    """Full marks, but for the points of the rules its header names (an API its step must not use,
    e.g. torch.optim inside momentum_step): those rules are all that may fail."""
    row = graded[student(path)]
    assert row.status == "graded", row.results["output"]
    lost = sum(load_rubric()[rule].points for rule in rules_of(path))
    assert row.results["score"] == row.results["extra_data"]["max_score"] - lost, [
        (t["name"], t["output"]) for t in row.results["tests"] if t["status"] == "failed"
    ]
    assert set(row.results["extra_data"]["diagnoses"]) == {rule.split(".")[1] for rule in rules_of(path)}


@pytest.mark.parametrize("path", BUGS, ids=lambda p: p.stem)
def test_bug_loses_points_at_its_step_only(path, graded):
    step = header(path)["step"]
    row = graded[student(path)]
    assert row.status == "graded", row.results["output"]
    failed = [(t["name"], t["output"]) for t in row.results["tests"] if t["status"] == "failed"]
    assert failing_steps(row) == {step}, failed
    assert set(lost_points(row)) == {step}, failed


@pytest.mark.parametrize("path", BUGS, ids=lambda p: p.stem)
def test_bug_gets_its_diagnosis(path, graded):
    """The expected diagnosis is among those recorded in results.json (extra_data.diagnoses, which
    the class report reads); a case whose mistake no registered diagnosis names gets none at all."""
    fields = header(path)
    diagnoses = graded[student(path)].results["extra_data"]["diagnoses"]
    if fields["diagnosis"] == "none":
        assert diagnoses == [], diagnoses
    else:
        assert {fields["diagnosis"], f"{fields['step']}.{fields['diagnosis']}"} & set(diagnoses), diagnoses


@pytest.mark.parametrize("path", BUGS, ids=lambda p: p.stem)
def test_bug_gets_no_wrong_diagnosis(path, graded):
    """A wrong diagnosis is worse than none, since the student follows it: the grader names only
    mistakes the case really makes (its diagnosis and its `also`)."""
    step = header(path)["step"]
    allowed = expected_diagnoses(path) | {f"{step}.{name}" for name in expected_diagnoses(path)}
    allowed |= {rule.split(".")[1] for rule in rules_of(path)}
    diagnoses = set(graded[student(path)].results["extra_data"]["diagnoses"])
    assert diagnoses <= allowed, sorted(diagnoses - allowed)


@pytest.mark.parametrize("path", [p for p in BUGS if expected_diagnoses(p)], ids=lambda p: p.stem)
def test_expected_diagnoses_are_registered_at_its_step(path):
    checks_for()
    step = header(path)["step"]
    missing = expected_diagnoses(path) - set(DIAGNOSES.get(step, {}))
    assert not missing, (sorted(missing), sorted(DIAGNOSES.get(step, {})))
