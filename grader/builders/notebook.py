"""The exercise as an nbgrader notebook, generated from solutions/sgd.py like the .py stubs.

Two notebooks come from the one source:

- the nbgrader *source* notebook (`source_notebook()`): the solution code with its
  `### BEGIN SOLUTION` regions, and after each step locked, graded test cells that call
  `grader.frontends.notebook_checks.check_step`, hidden checks inside `### BEGIN HIDDEN TESTS`. It
  holds solution code, so it is written only into an instructor's course folder
  (`write_course`), never into exercises/;
- the *student* notebook (`student_notebook()`, written to exercises/sgd.ipynb): the source
  notebook put through nbgrader's own generate_assignment preprocessors (minus the
  database), so it is what `nbgrader generate_assignment` releases, cell for cell.

Points per test cell are the rubric's (grader/rubric.toml): one cell with a step's public
points; one with its rules' points where the step has rules (graded only when they are worth
points, so a correct step that breaks a rule loses those points and no more); and one more with
its hidden points where the step has hidden checks.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import sys
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from grader.builders.stubs import CODE_STUB, clear_solutions, labelled
from grader.contract import FUNCTION_STEP, STEPS, functions_of
from grader.frontends.notebook_checks import step_checks, step_points
from grader.reference import SOLUTION

ROOT = SOLUTION.parents[1]
EXERCISE_NOTEBOOK = ROOT / "exercises" / "sgd.ipynb"
COURSE_TEMPLATE = ROOT / "grader" / "course"
ASSIGNMENT = "sgd"
KIT_ROOT_LINE = re.compile(r'^KIT_ROOT = ".*"$', re.M)

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}

SETUP_IMPORTS = "import os\nimport sys\nfrom pathlib import Path"
FIND_KIT = """
# The test cells import the kit's grader: find the folder holding grader/ (SGD_KIT_ROOT, else here or above).
_roots = [os.environ.get("SGD_KIT_ROOT", ""), *map(str, [Path.cwd(), *Path.cwd().parents])]
_kit = next((r for r in _roots if r and Path(r, "grader", "frontends", "notebook_checks.py").is_file()), None)
if _kit and _kit not in sys.path:
    sys.path.insert(0, _kit)
"""

TEST_CELL = """\
# Tests for {step} ({points}). Run this cell to check your work.
if __name__ == "__main__":  # in the notebook; not when the grader loads the notebook as a module
    from grader.frontends.notebook_checks import check_step

    check_step("{step}", globals())"""

RULES_CELL = """\
# The rules of {step} ({points}): the APIs it must not use, read from your code.
if __name__ == "__main__":
    from grader.frontends.notebook_checks import check_step

    check_step("{step}", globals(), rules=True)"""

HIDDEN_TEST_CELL = """\
# Hidden tests for {step} ({points}): they run when your notebook is graded.
### BEGIN HIDDEN TESTS
if __name__ == "__main__":
    from grader.frontends.notebook_checks import check_step

    check_step("{step}", globals(), hidden=True)
### END HIDDEN TESTS"""


def _points(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _points_text(value: float) -> str:
    value = _points(value)
    return f"{value} point{'s' * (value != 1)}"


def _nbgrader(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution}
    if points is not None:
        meta["points"] = _points(points)
    return {"nbgrader": meta}


def _parse(solution: Path) -> tuple[str, str, dict[str, str]]:
    """(module docstring, header source between docstring and first function, {function: source})."""
    text = labelled(solution.read_text())
    lines = text.splitlines()
    tree = ast.parse(text)
    doc = ast.get_docstring(tree, clean=True)
    if doc is None:
        raise ValueError(f"{solution} has no module docstring")
    nodes = tree.body[1:]
    starts = [min([n.lineno, *(d.lineno for d in getattr(n, "decorator_list", []))]) for n in nodes]
    functions: dict[str, str] = {}
    header_end = None
    for node, start, end in zip(nodes, starts, [*(s - 1 for s in starts[1:]), len(lines)]):
        if isinstance(node, ast.FunctionDef) and node.name in FUNCTION_STEP:
            header_end = start - 1 if header_end is None else header_end
            functions[node.name] = "\n".join(lines[start - 1 : end]).rstrip()  # with trailing comments
        elif header_end is not None or not isinstance(node, (ast.Import, ast.ImportFrom)):
            raise ValueError(f"{solution}, line {node.lineno}: only imports (first) and contract functions fit a cell")
    missing = set(FUNCTION_STEP) - set(functions)
    if missing:
        raise ValueError(f"{solution} lacks {sorted(missing)}")
    header_text = "\n".join(lines[tree.body[0].end_lineno : header_end]).strip()
    return doc, header_text, functions


def _setup_source(header: str, functions: dict[str, str]) -> str:
    """The setup cell: the solution's imports and the setup's own, sorted as ruff (isort) would, then FIND_KIT.

    An import the stubs leave unused gets a `# noqa: F401` (the solutions use it)."""
    stubs = ast.parse(clear_solutions("\n\n".join([FIND_KIT, *functions.values()])))
    used = {n.id for n in ast.walk(stubs) if isinstance(n, ast.Name)}
    sections: dict[int, set[tuple[bool, str, str]]] = {0: set(), 1: set(), 2: set()}
    for node in ast.parse(f"{header}\n{SETUP_IMPORTS}").body:
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            raise ValueError(f"the solution's header holds more than imports: {ast.unparse(node)}")
        for alias in node.names:  # one statement per module, as isort keeps them
            module = node.module if isinstance(node, ast.ImportFrom) else alias.name
            top = (module or "").split(".")[0]
            section = 0 if top == "__future__" else 1 if top in sys.stdlib_module_names else 2
            sections[section].add((isinstance(node, ast.ImportFrom), module or "", ast.unparse(alias)))
    blocks = []
    for section in sorted(sections):
        lines = []
        for is_from, module, group in _grouped(sections[section]):
            names = [alias.split(" as ")[-1] for alias in group]
            noqa = "  # noqa: F401 - for your solutions" if section and not set(names) & used else ""
            statement = f"from {module} import {', '.join(group)}" if is_from else f"import {group[0]}"
            lines.append(statement + noqa)
        if lines:
            blocks.append("\n".join(lines))
    return "# Setup: the exercise's imports. Run this cell first.\n" + "\n\n".join(blocks) + "\n" + FIND_KIT.rstrip()


def _grouped(imports: set[tuple[bool, str, str]]) -> list[tuple[bool, str, list[str]]]:
    """(is `from`, module, names): `import x` lines first, then `from x import a, b`, each sorted by module."""
    merged: dict[tuple[bool, str], list[str]] = {}
    for is_from, module, alias in sorted(imports, key=lambda i: (i[0], i[1].lower(), i[2])):
        if is_from:
            merged.setdefault((True, module), []).append(alias)
        else:
            merged[(False, alias)] = [alias]
    return [(is_from, module, names) for (is_from, module), names in merged.items()]


def _intro(doc: str) -> str:
    title, _, body = doc.partition("\n")
    body = body.replace(
        "Run `pytest` in the folder that holds this file to check your work, step by step\n"
        "(`pytest -m mse` for one step).",
        "Fill in each function, then run the test cell below it to check your work. "
        "Run the setup cell first, and the cells of earlier steps before later ones.",
    )
    return f"# {title.strip()}\n{body}".strip()


def _first_line(source: str) -> str:
    node = ast.parse(source).body[0]
    return (ast.get_docstring(node) or "").splitlines()[0]


def _rules_cells(step: str, points: float) -> list[NotebookNode]:
    """The step's rules cell (none when it has no rule), worth their `points`: graded when there are some."""
    if not step_checks(step, rules=True):
        return []
    graded = {"points": points} if points else {}
    source = RULES_CELL.format(step=step, points=_points_text(points) if points else "flag only, no points")
    grade_id = f"test_{step}_rules"
    return [
        nbformat.v4.new_code_cell(
            source, metadata=_nbgrader(grade_id, grade=bool(points), solution=False, locked=True, **graded)
        )
    ]


def source_notebook(solution: Path = SOLUTION, rubric_path: str | None = None) -> NotebookNode:
    """The nbgrader source notebook: solution cells with their solution regions, locked test cells."""
    doc, header, functions = _parse(solution)
    new_code, new_markdown = nbformat.v4.new_code_cell, nbformat.v4.new_markdown_cell
    cells = [
        new_markdown(_intro(doc)),
        new_code(
            _setup_source(header, functions), metadata=_nbgrader("setup", grade=False, solution=False, locked=True)
        ),
    ]
    for step in STEPS:
        names = functions_of(step)
        public = step_points(step, rubric_path=rubric_path)
        hidden = step_points(step, hidden=True, rubric_path=rubric_path)
        rules = step_points(step, rules=True, rubric_path=rubric_path)
        points = _points_text(public + rules) + (f", and {_points_text(hidden)} in hidden tests" if hidden else "")
        summary = "\n".join(f"- `{name}`: {_first_line(functions[name])}" for name in names)
        cells.append(new_markdown(f"## Step: {step}\n\n{summary}\n\nWorth {points}."))
        for name in names:
            cells.append(new_code(functions[name], metadata=_nbgrader(name, grade=False, solution=True, locked=False)))
        cells.append(
            new_code(
                TEST_CELL.format(step=step, points=_points_text(public)),
                metadata=_nbgrader(f"test_{step}", grade=True, solution=False, locked=True, points=public),
            )
        )
        cells += _rules_cells(step, rules)
        if hidden:
            cells.append(
                new_code(
                    HIDDEN_TEST_CELL.format(step=step, points=_points_text(hidden)),
                    metadata=_nbgrader(f"test_{step}_hidden", grade=True, solution=False, locked=True, points=hidden),
                )
            )
    for index, cell in enumerate(cells):  # stable ids: the same source gives the same file
        cell.id = f"cell-{index:02d}"
    return nbformat.v4.new_notebook(
        cells=cells, metadata={"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    )


def release(notebook: NotebookNode) -> NotebookNode:
    """What `nbgrader generate_assignment` makes of `notebook`: its preprocessors, without the database."""
    from nbgrader.preprocessors import (
        CheckCellMetadata,
        ClearHiddenTests,
        ClearMarkScheme,
        ClearOutput,
        ClearSolutions,
        ComputeChecksums,
        LockCells,
    )

    notebook = nbformat.from_dict(nbformat.reader.reads(nbformat.writes(notebook)))  # a deep copy
    resources: dict = {}
    chain = [
        LockCells(),
        ClearSolutions(code_stub={"python": CODE_STUB}),
        ClearOutput(),
        CheckCellMetadata(),
        ComputeChecksums(),
        ClearHiddenTests(),
        ClearMarkScheme(),
        ComputeChecksums(),
        CheckCellMetadata(),
    ]
    for preprocessor in chain:
        notebook, resources = preprocessor.preprocess(notebook, resources)
    return notebook


def student_notebook(solution: Path = SOLUTION, rubric_path: str | None = None) -> NotebookNode:
    """The notebook students get (exercises/sgd.ipynb): stubs, public test cells, no hidden tests."""
    return release(source_notebook(solution, rubric_path))


def notebook_text(notebook: NotebookNode) -> str:
    nbformat.validate(notebook)
    return nbformat.writes(notebook) + "\n"


def write_notebook(target: Path = EXERCISE_NOTEBOOK) -> Path:
    """(Re)write exercises/sgd.ipynb from solutions/sgd.py."""
    target.write_text(notebook_text(student_notebook()))
    return target


def write_course(dest: Path, *, kit_root: Path = ROOT, rubric_path: str | None = None) -> Path:
    """An nbgrader course folder at `dest`: the template's files and source/sgd/sgd.ipynb (with solutions).

    `dest/nbgrader_config.py` gets KIT_ROOT = `kit_root`, so that the kernels nbgrader starts
    find the grader (and the reference, for hidden checks and step isolation)."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for item in COURSE_TEMPLATE.iterdir():
        if item.is_file() and item.suffix in (".py", ".md"):
            shutil.copyfile(item, dest / item.name)
    config = dest / "nbgrader_config.py"
    line = f"KIT_ROOT = {json.dumps(str(Path(kit_root).resolve()))}"
    text, found = KIT_ROOT_LINE.subn(lambda _: line, config.read_text())
    if found != 1:
        raise ValueError(f'{COURSE_TEMPLATE / "nbgrader_config.py"} needs exactly one line KIT_ROOT = "..."')
    config.write_text(text)
    source = dest / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text(notebook_text(source_notebook(rubric_path=rubric_path)))
    return dest
