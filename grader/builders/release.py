"""The student release: the stubs, the public self-check, the lessons, and no solution or hidden check.

`python -m grader release OUT_DIR` writes:

    sgd.py (and sgd.ipynb)   the stubs to fill in
    conftest.py, test_sgd.py the self-check: `pytest` in OUT_DIR, `pytest -m mse` for one step
    pytest.ini               collects test_sgd.py, no cache
    requirements.txt         `pip install -r requirements.txt`
    README.md                what to do, for students
    lessons/                 the lesson notebooks and lesson_support.py
    grader/                  only what the public checks need: grader/checks/ without hidden/, and
                             rubric.toml with only the public checks' overrides
"""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from pathlib import Path

KIT = Path(__file__).resolve().parents[2]

GRADER_FILES = (
    "__init__.py",
    "contract.py",
    "evidence.py",
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
"""Copied as they are, with grader/checks/*.py (the public checks; grader/checks/hidden/ stays behind)."""
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


# --- the rubric and the other files --------------------------------------------------


def public_rubric(text: str, overrides: dict[str, dict], drop: set[str]) -> str:
    """The rubric file's comments and its `overrides` (parsed from `text`), less those of the checks in `drop`."""
    header = "".join(line for line in text.splitlines(keepends=True) if line.startswith("#"))
    kept = {key: entry for key, entry in overrides.items() if key not in drop}
    entries = [
        f"{json.dumps(key)} = {{ {', '.join(f'{k} = {json.dumps(v)}' for k, v in entry.items())} }}\n"
        for key, entry in kept.items()
    ]
    result = header + "".join(entries)
    if tomllib.loads(result) != kept:
        raise ReleaseError("rubric.toml could not be written back for the release")
    return result


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


def _release_rubric(path: Path) -> str:
    """The release's rubric.toml: the kit's, checked against the registry, less the hidden checks' overrides."""
    from grader.checks.model import checks_for
    from grader.rubric import apply_overrides, parse_overrides, read_rubric_text

    text = read_rubric_text(path)
    overrides = parse_overrides(text, path)
    apply_overrides(overrides, path)
    return public_rubric(text, overrides, {c.id for c in checks_for() if c.hidden})


def build_release(out: str | Path, *, force: bool = False, kit: Path = KIT) -> Path:
    """Write the student release to `out` (absent or empty; with `force`, a previous release is replaced)."""
    out = Path(out)
    exercises, grader = kit / "exercises", kit / "grader"
    rubric = _release_rubric(grader / "rubric.toml")
    _prepare(out, force)
    for name in GRADER_FILES:
        (out / "grader" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(grader / name, out / "grader" / name)
    (out / "grader" / "checks").mkdir()
    for module in sorted((grader / "checks").glob("*.py")):
        shutil.copy2(module, out / "grader" / "checks" / module.name)
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
