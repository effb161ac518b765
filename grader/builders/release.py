"""The student release: the stubs, the public self-check, the lessons, and no solution or hidden check.

`python -m grader release OUT_DIR` writes:

    sgd.py (and sgd.ipynb)   the stubs to fill in
    conftest.py, test_sgd.py the self-check: `pytest` in OUT_DIR, `pytest -m mse` for one step
    pytest.ini               collects test_sgd.py, no cache
    requirements.txt         `pip install -r requirements.txt`
    README.md                what to do, for students
    lessons/                 the lesson notebooks and lesson_support.py
    grader/                  only what the public checks need: hidden checks are cut out of the
                             check modules (by AST), and rubric.toml keeps only their overrides
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import tomllib
from pathlib import Path

KIT = Path(__file__).resolve().parents[2]

GRADER_FILES = (
    "__init__.py",
    "contract.py",
    "files.py",
    "frontends/__init__.py",
    "frontends/notebook_checks.py",
    "frontends/selfcheck.py",
    "reference.py",
    "rubric.py",
    "submission.py",
    "text.py",
    "verdict.py",
    "sandbox/__init__.py",
    "sandbox/protocol.py",
    "sandbox/wire.py",
)
"""Copied as they are; grader/checks/*.py are copied with the hidden checks cut out."""
EXERCISE_FILES = ("sgd.py", "sgd.ipynb", "conftest.py", "test_sgd.py")
"""Copied from exercises/ when present (sgd.ipynb is optional)."""
REQUIREMENTS = ("numpy", "torch", "pytest", "hypothesis", "scipy", "rich")
SKIPPED = {"__pycache__", ".ipynb_checkpoints", "figures", ".pytest_cache", ".hypothesis"}

PYTEST_INI = """\
[pytest]
testpaths = test_sgd.py
addopts = -p no:cacheprovider
"""


class ReleaseError(Exception):
    """The release cannot be written; the message is one line for the instructor."""


# --- cutting hidden checks out of the check modules ----------------------------------


def _check_decorator(node: ast.FunctionDef) -> ast.Call | None:
    """The `@check(...)` decorator of a function, if it has one."""
    for decorator in node.decorator_list:
        if isinstance(decorator, ast.Call):
            func = decorator.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if name == "check":
                return decorator
    return None


def _uses_reference(decorator: ast.Call) -> bool:
    """Whether `@check(..., uses_reference=...)` says True; anything but a literal False counts as True."""
    for keyword in decorator.keywords:
        if keyword.arg == "uses_reference":
            return not (isinstance(keyword.value, ast.Constant) and keyword.value.value is False)
    return False


def strip_checks(source: str, hidden: set[str]) -> tuple[str, set[str], set[str]]:
    """Cut every `@check` function that uses the reference, or whose id is in `hidden`, out of `source`.

    Returns (new source, ids of the cut checks, ids of the kept checks). Comments and
    formatting of everything else are kept line for line."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    cut: set[str] = set()
    kept: set[str] = set()
    spans = []
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        decorator = _check_decorator(node)
        if decorator is None:
            continue
        step = decorator.args[0] if decorator.args else None
        if not (isinstance(step, ast.Constant) and isinstance(step.value, str)):
            raise ReleaseError(f"cannot tell the step of check {node.name} (line {node.lineno})")
        check_id = f"{step.value}.{node.name}"
        if _uses_reference(decorator) or check_id in hidden:
            cut.add(check_id)
            start = min(d.lineno for d in node.decorator_list)
            spans.append((start - 1, node.end_lineno))
        else:
            kept.add(check_id)
    for start, end in reversed(spans):
        del lines[start:end]
    text = re.sub(r"\n{4,}", "\n\n\n", "".join(lines)).rstrip("\n") + "\n"
    compile(text, "<stripped checks>", "exec")
    return text, cut, kept


def public_rubric(text: str, drop: set[str]) -> str:
    """The rubric file's header comment and its overrides, without those of the checks in `drop`."""
    header = "".join(line for line in text.splitlines(keepends=True) if line.startswith("#"))
    kept = {key: entry for key, entry in tomllib.loads(text).items() if key not in drop}
    entries = [
        f"{json.dumps(key)} = {{ {', '.join(f'{k} = {json.dumps(v)}' for k, v in entry.items())} }}\n"
        for key, entry in kept.items()
    ]
    result = header + "".join(entries)
    if tomllib.loads(result) != kept:
        raise ReleaseError("rubric.toml could not be written back for the release")
    return result


# --- the other files ------------------------------------------------------------------


def requirements(pyproject: Path = KIT / "pyproject.toml") -> str:
    """requirements.txt, with the version floors of pyproject.toml."""
    dependencies = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    by_name = {re.split(r"[<>=!~ \[;]", d, maxsplit=1)[0].lower(): d for d in dependencies}
    lines = [
        "# pip install -r requirements.txt    (then run `pytest` in this folder)",
        "# torch: any version >= 2.2. Without an NVIDIA GPU, the much smaller CPU build is enough; install it first:",
        "#   pip install torch --index-url https://download.pytorch.org/whl/cpu",
        "# For the lessons: pip install jupyterlab matplotlib scikit-learn",
    ]
    return "\n".join(lines + [by_name.get(name, name) for name in REQUIREMENTS]) + "\n"


def student_readme(has_notebook: bool, lessons: list[str]) -> str:
    """README.md for students."""
    notebook = " (or `sgd.ipynb`, the same exercise as a notebook)" if has_notebook else ""
    lesson_lines = "\n".join(f"- `lessons/{name}`" for name in lessons)
    return f"""\
# SGD, one step at a time

You implement stochastic gradient descent for linear regression in `sgd.py`{notebook}, one
function per step. Each function's docstring explains the math, the shapes, and gives a tiny example.

## Set up

```sh
python -m venv .venv && . .venv/bin/activate     # Python 3.11 or newer
pip install torch --index-url https://download.pytorch.org/whl/cpu   # optional: the small CPU build
pip install -r requirements.txt
```

## Check yourself

```sh
pytest                      # every step, with a summary: done / failing / not started
pytest -m mse               # one step (init, predict, mse, gradient, step, minibatch, momentum, schedule, train)
pytest --submission my.py   # another file (.py or .ipynb)
```

A failing check shows the smallest input it found, and names the mistake when it recognises it.
These are the public checks; the grader also runs a few hidden ones, so passing here is a very
good sign but not a guarantee of full marks.

## Lessons

Notebooks that run on *your* functions, in order (`pip install jupyterlab matplotlib scikit-learn`,
then `jupyter lab lessons`):

{lesson_lines}

## Hand in

Upload your `sgd.py`{" (or `sgd.ipynb`)" if has_notebook else ""}: one file, with the function names and
signatures unchanged.
"""


def _copy_tree(source: Path, target: Path) -> None:
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if path.is_file() and not SKIPPED & set(relative.parts) and path.suffix != ".pyc":
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target / relative)


def _prepare(out: Path, force: bool) -> None:
    if (out.resolve().parent / "grader").is_dir():
        raise ReleaseError(
            f"{out.resolve().parent} holds a grader/ folder, which the release's conftest.py would import "
            "instead of its own: write the release elsewhere (e.g. dist/student)"
        )
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        looks_like_release = (out / "test_sgd.py").is_file() and (
            out / "grader" / "frontends" / "selfcheck.py"
        ).is_file()
        if not (force and looks_like_release):
            why = "use --force to replace it" if looks_like_release else "it does not look like a previous release"
            raise ReleaseError(f"{out} exists and is not empty: {why}")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def build_release(out: str | Path, *, force: bool = False, kit: Path = KIT) -> Path:
    """Write the student release to `out` (absent or empty; with `force`, a previous release is replaced)."""
    out = Path(out)
    exercises, grader = kit / "exercises", kit / "grader"
    from grader.rubric import load_rubric

    rubric_text = (grader / "rubric.toml").read_text()
    hidden = {key for key, entry in load_rubric(grader / "rubric.toml").items() if entry.hidden}
    checks: dict[str, str] = {}
    cut_all: set[str] = set()
    for module in sorted((grader / "checks").glob("*.py")):
        checks[module.name], cut, _ = strip_checks(module.read_text(), hidden)
        cut_all |= cut
    missed = hidden - cut_all
    if missed:
        raise ReleaseError(
            f"hidden checks {sorted(missed)} are not @check functions in grader/checks/: cannot cut them"
        )
    rubric = public_rubric(rubric_text, cut_all)

    _prepare(out, force)
    (out / "grader" / "checks").mkdir(parents=True)
    for name in GRADER_FILES:
        (out / "grader" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(grader / name, out / "grader" / name)
    for name, text in checks.items():
        (out / "grader" / "checks" / name).write_text(text)
    (out / "grader" / "rubric.toml").write_text(rubric)

    for name in EXERCISE_FILES:
        if (exercises / name).is_file():
            shutil.copy2(exercises / name, out / name)
    if (exercises / "lessons").is_dir():
        _copy_tree(exercises / "lessons", out / "lessons")
    lessons = sorted(p.name for p in (out / "lessons").glob("*.ipynb")) if (out / "lessons").is_dir() else []
    (out / "pytest.ini").write_text(PYTEST_INI)
    (out / "requirements.txt").write_text(requirements(kit / "pyproject.toml"))
    (out / "README.md").write_text(student_readme((out / "sgd.ipynb").is_file(), lessons))
    return out
