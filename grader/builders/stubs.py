"""Generate the student's stubs from the reference solution (the single source of truth).

Each `### BEGIN SOLUTION` … `### END SOLUTION` region becomes a `raise
NotImplementedError`, by nbgrader's own ClearSolutions, so the .py stubs and the
nbgrader notebook are cut the same way.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbgrader.preprocessors import ClearSolutions

from grader.reference import SOLUTION

EXERCISE = SOLUTION.parents[1] / "exercises" / "sgd.py"
CODE_STUB = '# YOUR CODE HERE\nraise NotImplementedError("not implemented yet: see the docstring above")'
HEADER = "# Generated from solutions/sgd.py by `python -m grader stubs`. Fill in the function bodies.\n"


def clear_solutions(source: str) -> str:
    """`source` with every solution region replaced by the stub."""
    cell = nbformat.v4.new_code_cell(source)
    clearer = ClearSolutions(code_stub={"python": CODE_STUB}, enforce_metadata=False)
    clearer._replace_solution_region(cell, "python")
    return cell.source


def stub_source(solution: Path = SOLUTION) -> str:
    """The exercise file generated from the solution file."""
    return HEADER + clear_solutions(solution.read_text())


def write_stubs(target: Path = EXERCISE) -> Path:
    target.write_text(stub_source())
    return target
