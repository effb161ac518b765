"""ARCHITECTURE.md's "add a check" recipe, followed literally in a temporary copy of the kit.

A public check added to its step's module and a hidden one added to checks/hidden/ show in the
rubric, in results.json and on the feedback page; the public one in the self-check too, and the
hidden one nowhere in the student release."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.rubric import load_rubric

ROOT = Path(__file__).resolve().parents[1]
PUBLIC, HIDDEN = "mse.recipe_zero_on_equal", "mse.recipe_secret_symmetry"
PUBLIC_CHECK = """

@check("mse", "is zero when the predictions are the targets", points=2, examples=st_.pairs())
def recipe_zero_on_equal(example):
    preds, _ = example
    (got,) = yield [Call("mse", (preds, preds))]
    if float(got) != 0.0:
        raise Failure(f"mse(p, p) should be 0, got {float(got)}.")
"""
HIDDEN_CHECK = """

@check("mse", "is symmetric in its two arguments", points=1, hidden=True, examples=st_.pairs())
def recipe_secret_symmetry(example):
    preds, targets = example
    (one, other) = yield [Call("mse", (preds, targets)), Call("mse", (targets, preds))]
    if abs(float(one) - float(other)) > 1e-6 * (1 + abs(float(one))):
        raise Failure("mse(p, t) and mse(t, p) differ.")
"""
TOTAL = sum(entry.points for entry in load_rubric().values())
IMPORTS = "\nfrom grader.checks.model import Failure  # noqa: E402\n"


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the kit with one public and one hidden check added, as the recipe says."""
    copy = tmp_path_factory.mktemp("kit") / "kit"
    ignore = shutil.ignore_patterns("__pycache__", ".hypothesis", ".pytest_cache", "figures")
    for name in ("grader", "solutions", "exercises"):
        shutil.copytree(ROOT / name, copy / name, ignore=ignore)
    shutil.copy2(ROOT / "pyproject.toml", copy / "pyproject.toml")
    with (copy / "grader" / "checks" / "mse.py").open("a") as module:
        module.write(PUBLIC_CHECK)
    with (copy / "grader" / "checks" / "hidden" / "mse.py").open("a") as module:
        module.write(IMPORTS + HIDDEN_CHECK)
    return copy


def run(kit: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """A command with the copy's grader first on the path, its own example cache, and a timeout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "SGD_"))}
    env |= {"PYTHONPATH": str(kit), "SGD_GRADER_CACHE": str(kit / ".cache")}
    return subprocess.run(args, cwd=cwd or kit, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_the_rubric_lists_both(kit: Path) -> None:
    listed = run(kit, sys.executable, "-m", "grader", "rubric")
    assert listed.returncode == 0, listed.stderr
    rows = {line.split("│")[1].strip(): line for line in listed.stdout.splitlines() if line.count("│") >= 4}
    assert "public" in rows[PUBLIC] and " 2 " in rows[PUBLIC], listed.stdout
    assert "hidden" in rows[HIDDEN] and " 1 " in rows[HIDDEN], listed.stdout
    assert f"{TOTAL + 3:g} points" in listed.stdout


def test_the_self_check_runs_the_public_one(kit: Path) -> None:
    solution = kit / "solutions" / "sgd.py"
    checked = run(
        kit,
        sys.executable,
        "-m",
        "pytest",
        "exercises",
        "-m",
        "mse",
        "-p",
        "no:cacheprovider",
        "-v",
        "--submission",
        str(solution),
    )
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-2000:]
    line = next(line for line in checked.stdout.splitlines() if PUBLIC in line)
    assert "is zero when the predictions are the targets" in line and "PASSED" in line, line
    assert HIDDEN not in checked.stdout


def test_results_and_feedback_show_both(kit: Path, tmp_path: Path) -> None:
    results, page = tmp_path / "results.json", tmp_path / "feedback.html"
    graded = run(
        kit,
        sys.executable,
        "-m",
        "grader",
        "grade",
        str(kit / "solutions" / "sgd.py"),
        "--json",
        str(results),
        "--html",
        str(page),
    )
    assert graded.returncode == 0, graded.stdout[-2000:] + graded.stderr[-2000:]
    tests = {t["name"]: t for t in json.loads(results.read_text())["tests"]}
    public = next(t for name, t in tests.items() if "is zero when the predictions are the targets" in name)
    hidden = next(t for name, t in tests.items() if "is symmetric in its two arguments" in name)
    assert (public["score"], public["max_score"], public.get("visibility", "visible")) == (2, 2, "visible")
    assert (hidden["score"], hidden["max_score"], hidden["visibility"]) == (1, 1, "after_published")
    assert json.loads(results.read_text())["score"] == TOTAL + 3
    assert "is zero when the predictions are the targets" in page.read_text()


def test_the_release_leaves_the_hidden_one_out(kit: Path, tmp_path: Path) -> None:
    built = run(kit, sys.executable, "-m", "grader", "release", str(tmp_path / "student"))
    assert built.returncode == 0, built.stderr
    released = {p: p.read_text(errors="replace") for p in (tmp_path / "student").rglob("*") if p.is_file()}
    assert any("recipe_zero_on_equal" in text for text in released.values())
    assert not [p for p, text in released.items() if "recipe_secret_symmetry" in text or "symmetric in its" in text]
