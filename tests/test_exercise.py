"""The exercise itself: stubs generated from the solution, no solution code leaked, reference correct."""

from __future__ import annotations

import doctest
import importlib.util
import inspect
import textwrap

import pytest

from grader import reference
from grader.builders.stubs import EXERCISE, rules_text, step_label, stub_source
from grader.checks.model import checks_for
from grader.checks.runner import run_check
from grader.contract import FUNCTION_STEP, FUNCTIONS, STEPS
from grader.frontends.selfcheck import public_checks, submission_for
from grader.rubric import load_rubric


def test_exercise_is_generated_from_the_solution():
    assert EXERCISE.read_text() == stub_source(), "exercises/sgd.py drifted: run `python -m grader stubs`"


def test_exercise_holds_no_solution_code():
    exercise = EXERCISE.read_text()
    leaked = [line for line in reference.solution_lines() if line in exercise]
    assert not leaked


def test_public_checks_hold_no_solution_code(root):
    sources = "\n".join(p.read_text() for p in (root / "grader" / "checks").glob("*.py"))
    public_modules = {c.body.__module__ for c in public_checks()}
    assert public_modules  # every step module has public checks, which must not copy the solution
    leaked = [line for line in reference.solution_lines() if line in sources]
    assert not leaked


def test_every_contract_function_is_in_both_files():
    spec = importlib.util.spec_from_file_location("stub", EXERCISE)
    stub = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stub)
    for name, step in FUNCTION_STEP.items():
        doc = inspect.cleandoc(getattr(reference.reference(), name).__doc__)
        labelled = f"{step_label(step)}\n\n{textwrap.dedent(rules_text(step, '    '))}{doc}"
        assert inspect.cleandoc(getattr(stub, name).__doc__) == labelled


def test_contract_signatures_are_the_references():
    """The contract is declared as data (grader/contract.py); the reference, and so the stubs, follow it."""
    parameters = {name: inspect.signature(getattr(reference.reference(), name)).parameters for name in FUNCTIONS}
    for name, function in FUNCTIONS.items():
        kinds = {p.name: p.kind for p in parameters[name].values()}
        assert tuple(n for n, k in kinds.items() if k == inspect.Parameter.POSITIONAL_OR_KEYWORD) == function.positional
        assert tuple(n for n, k in kinds.items() if k == inspect.Parameter.KEYWORD_ONLY) == function.keywords


def test_reference_docstring_examples_run():
    failures, tried = doctest.testmod(reference.reference(), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried >= 12 and failures == 0


def test_reference_passes_every_check():
    submission = submission_for(reference.SOLUTION)
    failed = {c.id: o.feedback for c in checks_for() if not (o := run_check(c, submission)).passed}
    assert not failed


def test_stubs_fail_every_check_as_not_implemented():
    submission = submission_for(EXERCISE)
    outcomes = [run_check(c, submission) for c in checks_for()]
    assert all(o.not_implemented and "not implemented yet" in o.message for o in outcomes)
    assert {o.check.step for o in outcomes} == set(STEPS)


def test_rubric_covers_every_check_and_hides_reference_checks():
    checks = checks_for()
    rubric = load_rubric()
    assert sorted(rubric) == sorted(c.id for c in checks)
    assert all(rubric[c.id].hidden for c in checks if c.uses_reference)
    assert {c.step for c in checks if not rubric[c.id].hidden} == set(STEPS)


def test_rubric_overrides_points_and_visibility_only(tmp_path):
    path = tmp_path / "rubric.toml"
    path.write_text('"mse.loss_properties" = { points = 7 }\n"step.keeps_contract" = { visibility = "hidden" }\n')
    rubric, defaults = load_rubric(path), {c.id: c for c in checks_for()}
    assert rubric["mse.loss_properties"].points == 7 and not rubric["mse.loss_properties"].hidden
    assert rubric["step.keeps_contract"].hidden and rubric["step.keeps_contract"].points == 1
    changed = {k for k, e in rubric.items() if (e.points, e.hidden) != (defaults[k].points, defaults[k].hidden)}
    assert changed == {"mse.loss_properties", "step.keeps_contract"}


@pytest.mark.parametrize(
    "bad",
    [
        "checks = 3",
        '"mse.keeps_contract" = { points = 1, visibility = "secret" }',
        '"mse.keeps_contract" = { points = -1 }',
        '"mse.keeps_contract" = { title = "mine" }',
        '"mse.keeps_contract" = {}',
        '"mse.no_such_check" = { points = 1 }',
        '"mse.matches_reference" = { visibility = "public" }',
    ],
)
def test_bad_rubric_is_one_clear_error(tmp_path, bad):
    from grader.rubric import RubricError

    path = tmp_path / "rubric.toml"
    path.write_text(bad)
    with pytest.raises(RubricError) as raised:
        load_rubric(path)
    assert "\n" not in str(raised.value)


def test_rubric_command_lists_every_check_with_its_points(tmp_path, capsys):
    from grader.cli import main

    path = tmp_path / "rubric.toml"
    path.write_text('"mse.loss_properties" = { points = 4 }\n')
    assert main(["rubric", "--rubric", str(path)]) == 0
    out = capsys.readouterr().out
    total = sum(e.points for e in load_rubric(path).values())
    assert f"rubric: {total:g} points" in out and "4 *" in out
    assert all(c.id in out for c in checks_for())
