"""The exercise as an nbgrader notebook: generated from the solution, free of it, and graded by real nbgrader.

exercises/sgd.ipynb is the student notebook (what `nbgrader generate_assignment` releases);
the nbgrader source notebook, with the solutions and hidden tests, is generated into a
course folder by `grader.builders.notebook.write_course`.
"""

from __future__ import annotations

import ast
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from grader import reference
from grader.builders.notebook import ASSIGNMENT, EXERCISE_NOTEBOOK, source_notebook, student_notebook, write_course
from grader.checks.model import checks_for
from grader.contract import FUNCTION_STEP, STEPS, interface_problems
from grader.frontends.notebook_checks import check_step, step_checks, step_points
from grader.frontends.selfcheck import submission_for
from grader.rubric import load_rubric
from grader.submission import notebook_code

BIN = Path(sys.executable).parent  # the venv's bin: nbgrader, alembic, and the kernel's python
TIMESTAMP = "2024-09-17 12:00:00.000000 UTC"
RMSE_BUG = ("return ((preds - targets) ** 2).mean()", "return ((preds - targets) ** 2).mean().sqrt()")


def cells_of(notebook) -> list[tuple[str, str, dict]]:
    """What must not drift: each cell's type, source and metadata (ids and outputs aside)."""
    return [(c["cell_type"], c["source"], c["metadata"]) for c in notebook["cells"]]


def read(path: Path):
    return nbformat.read(path, as_version=4)


def leaked_solution(notebook) -> list[str]:
    text = "\n".join(c["source"] for c in notebook["cells"])
    return [line for line in reference.solution_lines() if line in text]


# ----------------------------------------------------------------------------- the notebooks


@pytest.fixture(scope="module")
def source():
    return source_notebook()


def test_student_notebook_is_generated_from_the_solution():
    exercise = read(EXERCISE_NOTEBOOK)
    assert exercise.metadata == student_notebook().metadata
    assert cells_of(exercise) == cells_of(student_notebook()), (
        "exercises/sgd.ipynb drifted: run `python -m grader notebook`"
    )


def test_student_notebook_holds_no_solution_code():
    exercise = read(EXERCISE_NOTEBOOK)
    assert not leaked_solution(exercise)
    text = EXERCISE_NOTEBOOK.read_text()
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text and "hidden=True" not in text


def test_source_notebook_has_the_solution_and_graded_test_cells(source):
    meta = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"] for c in source.cells if c.metadata}
    assert all(meta[name]["solution"] and not meta[name]["grade"] for name in FUNCTION_STEP)
    assert meta["setup"] == dict(grade=False, grade_id="setup", locked=True, schema_version=3, solution=False)
    rubric = load_rubric()
    for step in STEPS:
        assert meta[f"test_{step}"]["points"] == step_points(step) > 0
        assert meta[f"test_{step}"]["grade"] and meta[f"test_{step}"]["locked"]
        hidden = step_points(step, hidden=True)
        assert meta.get(f"test_{step}_hidden", {}).get("points", 0) == hidden
        rules = meta.get(f"test_{step}_rules")  # a cell of its own, graded only when the rules carry points
        assert (rules is not None) == bool(step_checks(step, rules=True))
        assert rules is None or (rules["grade"], rules.get("points", 0)) == (
            step_points(step, rules=True) > 0,
            step_points(step, rules=True),
        )
    total = sum(m.get("points", 0) for m in meta.values())
    assert total == sum(rubric[c.id].points for c in checks_for())
    assert not leaked_solution(student_notebook())
    assert len(leaked_solution(source)) == len(reference.solution_lines())  # every solution line is in the source


def test_student_notebook_is_a_valid_submission_whose_test_cells_stay_inert():
    """Loaded as a module (pytest --submission, the grader), the test cells do not run the checks."""
    assert interface_problems(notebook_code(EXERCISE_NOTEBOOK.read_text())) == []
    submission = submission_for(EXERCISE_NOTEBOOK)
    (result,) = submission.run([_call("mse")])
    assert result.error_type == "NotImplementedError"


def _call(fn: str):
    import torch

    from grader.sandbox.protocol import Call

    return Call(fn, (torch.tensor([1.0, 2.0]), torch.tensor([1.0, 4.0])))


# ----------------------------------------------------------------------------- check_step in-process


def namespace_of(source: str, name: str = "__main__") -> dict:
    namespace: dict = {"__name__": name}
    exec(compile(source, "<notebook>", "exec"), namespace)  # noqa: S102 - the reference, or a variant of it
    return namespace


def test_check_step_passes_the_reference_and_explains_a_bug(capsys):
    text = reference.SOLUTION.read_text()
    check_step("mse", namespace_of(text))
    check_step("mse", namespace_of(text), hidden=True)
    count = len(step_checks("mse"))  # mse.no_mse_loss is not among them: the rules have their own cell
    assert f"mse: {count} of {count} checks passed" in capsys.readouterr().out
    buggy = namespace_of(text.replace(*RMSE_BUG))
    with pytest.raises(AssertionError) as public:
        check_step("mse", buggy)
    lines = str(public.value).splitlines()
    assert lines[0] == f"mse: 1 of {count} checks failed:"
    assert lines[1].startswith("- matches_mse_loss: mse fails for") and "RMSE" in str(public.value)
    with pytest.raises(AssertionError, match=r"^mse: 1 of 1 hidden checks failed:\n- matches_reference$"):
        check_step("mse", buggy, hidden=True)
    check_step("gradient", buggy)  # isolation: the gradient step uses the reference mse, not the buggy one
    assert buggy["mse"].__code__.co_filename == "<notebook>"  # and the notebook's own mse is back afterwards


def test_check_step_on_stubs_and_missing_functions():
    stubs = namespace_of(notebook_code(EXERCISE_NOTEBOOK.read_text()), "sgd")  # as a module: test cells inert
    with pytest.raises(AssertionError, match=r"^predict: not implemented yet: fill in predict above"):
        check_step("predict", stubs)
    del stubs["predict"]
    with pytest.raises(AssertionError, match=r"^predict: no function named predict here"):
        check_step("predict", stubs)


# ----------------------------------------------------------------------------- real nbgrader


def nbgrader(course: Path, *args: str) -> str:
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # gradebook.db's first use calls `alembic`
        "SGD_KIT_ROOT": str(reference.SOLUTION.parents[1]),
        "JUPYTER_CONFIG_DIR": str(course / ".jupyter"),  # no instructor's own nbgrader config sneaks in
        "IPYTHONDIR": str(course / ".ipython"),
        "PYTHONHASHSEED": "0",
    }
    done = subprocess.run(
        [str(BIN / "python"), "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def corpus_function(name: str, function: str) -> str:
    """The source of `function` in tests/corpus/correct/`name`.py."""
    text = (Path(__file__).parent / "corpus" / "correct" / f"{name}.py").read_text()
    (node,) = [n for n in ast.parse(text).body if isinstance(n, ast.FunctionDef) and n.name == function]
    return ast.get_source_segment(text, node)


def submit(course: Path, student: str, notebook) -> None:
    folder = course / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(notebook, folder / f"{ASSIGNMENT}.ipynb")
    (folder / "timestamp.txt").write_text(TIMESTAMP)


def filled_in(release, source, *, bug: tuple[str, str] | None = None, own: dict[str, str] | None = None):
    """The released notebook with the solution bodies put back (and, optionally, one bug, or some
    functions written another way: `own`, {name: its source})."""
    solutions = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells if "nbgrader" in c.metadata}
    solutions |= own or {}
    notebook = nbformat.from_dict(json.loads(json.dumps(release)))
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = solutions[cell.metadata["nbgrader"]["grade_id"]]
            if bug and bug[0] in cell.source:
                cell.source = cell.source.replace(*bug)
    assert not bug or any(bug[1] in c.source for c in notebook.cells)
    return notebook


def test_nbgrader_generates_autogrades_and_exports(tmp_path, source):
    start = time.perf_counter()
    course = write_course(tmp_path / "course")
    nbgrader(course, "db", "student", "add", "alice")
    nbgrader(course, "db", "student", "add", "bob")
    nbgrader(course, "db", "student", "add", "carol")
    nbgrader(course, "generate_assignment", ASSIGNMENT)

    release = read(course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    assert cells_of(release) == cells_of(read(EXERCISE_NOTEBOOK)), "exercises/sgd.ipynb is not nbgrader's release"
    assert not leaked_solution(release)

    submit(course, "alice", filled_in(release, source))
    submit(course, "bob", filled_in(release, source, bug=RMSE_BUG))
    submit(course, "carol", filled_in(release, source, own={"mse_grad": corpus_function("autograd_grad", "mse_grad")}))
    nbgrader(course, "autograde", ASSIGNMENT)

    from nbgrader.api import Gradebook

    rubric = load_rubric()
    total = sum(rubric[c.id].points for c in checks_for())
    mse_points = step_points("mse") + step_points("mse", hidden=True)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        scores = {}
        for student in ("alice", "bob", "carol"):
            submission = gradebook.find_submission(ASSIGNMENT, student)
            assert submission.max_score == total
            (notebook,) = submission.notebooks
            lost = {g.name: g.max_score - g.score for g in notebook.grades if g.score != g.max_score}
            scores[student] = (submission.score, lost)
    assert scores["alice"] == (total, {})
    mse_cells = {"test_mse": step_points("mse"), "test_mse_hidden": step_points("mse", hidden=True)}
    assert scores["bob"] == (total - mse_points, mse_cells)  # the mse cells' points, and only those
    by_hand = rubric["gradient.by_hand"].points  # a correct gradient that breaks the rule: the rule's cell only
    assert scores["carol"] == (total - by_hand, {"test_gradient_rules": by_hand})

    nbgrader(course, "generate_feedback", ASSIGNMENT)
    feedback = {s: (course / "feedback" / s / ASSIGNMENT / f"{ASSIGNMENT}.html") for s in ("alice", "bob")}
    assert all(page.is_file() for page in feedback.values())
    assert f"mse: 1 of {len(step_checks('mse'))} checks failed" in feedback["bob"].read_text()
    assert "checks failed" not in feedback["alice"].read_text()

    nbgrader(course, "export")
    with open(course / "grades.csv", newline="") as f:
        rows = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}
    assert rows == {"alice": total, "bob": total - mse_points, "carol": total - by_hand}
    print(f"nbgrader round trip: {time.perf_counter() - start:.1f} s")
