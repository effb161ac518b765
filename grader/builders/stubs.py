"""Generate the student's stubs from the reference solution (the single source of truth).

Each `### BEGIN SOLUTION` … `### END SOLUTION` region becomes a `raise
NotImplementedError`, by nbgrader's own ClearSolutions, so the .py stubs and the
nbgrader notebook are cut the same way.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import nbformat
from nbgrader.preprocessors import ClearSolutions

from grader.contract import FUNCTION_STEP, STEPS
from grader.reference import SOLUTION

EXERCISE = SOLUTION.parents[1] / "exercises" / "sgd.py"
CODE_STUB = '# YOUR CODE HERE\nraise NotImplementedError("not implemented yet: see the docstring above")'
HEADER = "# Generated from solutions/sgd.py by `python -m grader stubs`. Fill in the function bodies.\n"


def step_label(step: str) -> str:
    """The label that opens the docstring of each of a step's functions, e.g. Step 3 · mse — `pytest -m mse`."""
    return f"Step {STEPS.index(step) + 1} · {step} — `pytest -m {step}`"


def rules_text(step: str, indent: str) -> str:
    """The step's rules (`checks.rules`) with their points in the default rubric, as docstring paragraphs."""
    from grader.checks.rules import RULES, rule_text
    from grader.rubric import load_rubric

    rubric = load_rubric()
    texts = [rule_text(rule, rubric[rule.id].points) for rule in RULES if rule.step == step]
    return "".join(textwrap.fill(text, 92, initial_indent=indent, subsequent_indent=indent) + "\n\n" for text in texts)


def labelled(source: str) -> str:
    """`source` with each contract function's docstring opened by its step's label (from the contract)
    and the step's rules."""
    lines = source.splitlines(keepends=True)
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name in FUNCTION_STEP and ast.get_docstring(node) is not None:
            doc = node.body[0]
            indent = " " * doc.col_offset
            step = FUNCTION_STEP[node.name]
            line = lines[doc.lineno - 1]
            opening = f'"""{step_label(step)}\n\n{rules_text(step, indent)}{indent}'
            lines[doc.lineno - 1] = line.replace('"""', opening, 1)
    return "".join(lines)


def clear_solutions(source: str) -> str:
    """`source` with every solution region replaced by the stub."""
    cell = nbformat.v4.new_code_cell(source)
    clearer = ClearSolutions(code_stub={"python": CODE_STUB}, enforce_metadata=False)
    clearer._replace_solution_region(cell, "python")
    return cell.source


def stub_source(solution: Path = SOLUTION) -> str:
    """The exercise file generated from the solution file."""
    return HEADER + clear_solutions(labelled(solution.read_text()))


def write_stubs(target: Path = EXERCISE) -> Path:
    target.write_text(stub_source())
    return target
