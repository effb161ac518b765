"""The student release: no solution code, no hidden check, and a plain `pytest` that self-checks."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from grader import reference
from grader.builders.release import ReleaseError, build_release, public_rubric
from grader.checks.model import HIDDEN_PACKAGE, check, checks_for
from grader.frontends.selfcheck import public_checks
from grader.rubric import load_rubric

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "sgd.py"
HIDDEN = sorted(key for key, entry in load_rubric().items() if entry.hidden)


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_release(tmp_path_factory.mktemp("release") / "student")


def texts(folder: Path) -> dict[Path, str]:
    """Every file's text; a notebook also as its cells' joined sources (as a student would read them)."""
    found = {}
    for path in folder.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            text = path.read_text(encoding="utf-8", errors="replace")
            if path.suffix == ".ipynb":
                text += "\n".join("".join(c.get("source", "")) for c in json.loads(text).get("cells", []))
            found[path] = text
    return found


def test_layout(release: Path) -> None:
    for name in ("sgd.py", "conftest.py", "test_sgd.py", "pytest.ini", "requirements.txt", "README.md"):
        assert (release / name).is_file(), name
    assert (release / "lessons" / "lesson_support.py").is_file() and list((release / "lessons").glob("*.ipynb"))
    assert (release / "sgd.ipynb").is_file() == (ROOT / "exercises" / "sgd.ipynb").is_file()
    shipped = {p.relative_to(release / "grader").as_posix() for p in (release / "grader").rglob("*.py")}
    assert {
        "frontends/selfcheck.py",
        "reference.py",
        "sandbox/protocol.py",
        "checks/model.py",
        "checks/runner.py",
        "checks/expect.py",
        "checks/mse.py",
    } <= shipped
    assert not shipped & {"cli.py", "frontends/grade.py", "frontends/classroom.py"}
    assert not [p for p in shipped if p.startswith(("examples/", "reporters/", "autograder/", "builders/"))]
    # the wire format stores the recorded examples (grader/checks/example_store.py); no sandbox machinery
    assert {p for p in shipped if p.startswith("sandbox/")} == {
        "sandbox/__init__.py",
        "sandbox/protocol.py",
        "sandbox/wire.py",
    }
    assert not (release / "solutions").exists() and not (release / "tests").exists()
    requirements = (release / "requirements.txt").read_text()
    for name in ("numpy", "torch", "pytest", "hypothesis", "scipy", "rich"):
        assert re.search(rf"^{name}\b", requirements, re.M), name


def test_no_solution_code(release: Path) -> None:
    """No line of a solution region (12 characters or more) in any file of the release, lessons included."""
    lines = reference.solution_lines()
    assert len(lines) > 20
    leaks = [(path.name, line) for path, text in texts(release).items() for line in lines if line in text]
    assert not leaks


def test_hints_name_the_release_command(release: Path, tmp_path: Path) -> None:
    """In the release the self-check is plain `pytest` (the kit's `pytest exercises` does not exist there)."""
    # lesson_support.py serves both layouts and knows both commands: its hint is checked by running it
    written = {path: text for path, text in texts(release).items() if path.name != "lesson_support.py"}
    assert not [path.name for path, text in written.items() if "pytest exercises" in text]
    stub = tmp_path / "stub.py"
    stub.write_text((release / "sgd.py").read_text())
    script = (
        "import os, sys; sys.path.insert(0, 'lessons'); os.environ['SGD_SUBMISSION'] = sys.argv[1]\n"
        "import lesson_support as s\n"
        "try:\n    s.need('mse')\nexcept s.StepNotDone as exc:\n    print(exc.message)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(stub)], cwd=release, capture_output=True, text=True)
    assert done.stdout.strip().endswith("Check it with: pytest -m mse"), done.stdout + done.stderr


def test_no_hidden_checks(release: Path) -> None:
    names = {check_id.split(".", 1)[1] for check_id in HIDDEN}
    for path, text in texts(release).items():
        assert not [word for word in [*HIDDEN, *names] if word in text], path
    overrides = tomllib.loads((release / "grader" / "rubric.toml").read_text())
    assert set(overrides) <= {c.id for c in public_checks()}


def run_pytest(release: Path, *args: str) -> subprocess.CompletedProcess:
    """Plain `pytest` in the release folder, with nothing pointing at the kit."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHONPATH", "PYTEST_", "PYTHONDONTWRITE"))}
    pytest_script = Path(sys.executable).with_name("pytest")
    command = [str(pytest_script)] if pytest_script.is_file() else [sys.executable, "-m", "pytest"]
    return subprocess.run(
        [*command, "-q", *args], cwd=release, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_plain_pytest_self_checks(release: Path, tmp_path: Path) -> None:
    public = len(public_checks())
    stubs = run_pytest(release)
    output = stubs.stdout + stubs.stderr
    assert stubs.returncode == 1, output
    assert "mse is not implemented yet" in output and f"{public} failed" in output
    assert "SGD self-check, step by step" in output
    assert re.search(r"^\s+mse\s+not started\s+0/\d+ checks", output, re.M), output
    assert list((release / "grader" / "frontends" / "__pycache__").glob("selfcheck.*.pyc")), (
        "the kit's grader was imported"
    )
    assert not (release / ".pytest_cache").exists()

    mse_only = run_pytest(release, "--collect-only", "-m", "mse")
    assert f"{sum(c.step == 'mse' for c in public_checks())}/{public} tests collected" in mse_only.stdout

    solved_release = shutil.copytree(release, tmp_path / "solved", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(SOLUTION, solved_release / "sgd.py")
    solved = run_pytest(solved_release)
    output = solved.stdout + solved.stderr
    assert solved.returncode == 0, output
    assert f"{public} passed" in output and "not started" not in output
    assert re.search(r"^\s+train\s+done\s+\d+/\d+ checks", output, re.M), output


def test_release_is_a_filter_over_files(release: Path) -> None:
    """The release's check modules are the kit's, byte for byte, less grader/checks/hidden/."""
    kit = {p.name: p.read_bytes() for p in (ROOT / "grader" / "checks").glob("*.py")}
    assert {p.name: p.read_bytes() for p in (release / "grader" / "checks").glob("*.py")} == kit
    assert not (release / "grader" / "checks" / "hidden").exists()
    assert {c.body.__module__.rsplit(".", 1)[0] for c in checks_for() if c.hidden} == {HIDDEN_PACKAGE}


def test_a_hidden_check_outside_hidden_is_refused() -> None:
    with pytest.raises(TypeError, match=r"declare it in grader/checks/hidden/mse\.py"):
        check("mse", "a secret", points=1, hidden=True)(lambda _: None)


def test_public_rubric_keeps_comments_and_other_overrides() -> None:
    text = (ROOT / "grader" / "rubric.toml").read_text()
    text += '"mse.keeps_contract" = { points = 3 }\n"step.keeps_contract" = { visibility = "hidden", points = 0 }\n'
    filtered = public_rubric(text, tomllib.loads(text), {"mse.keeps_contract"})
    assert filtered.startswith("#") and "mse.keeps_contract" not in filtered
    assert tomllib.loads(filtered) == {"step.keeps_contract": {"visibility": "hidden", "points": 0}}


def test_refuses_to_overwrite(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    with pytest.raises(ReleaseError, match="does not look like a previous release"):
        build_release(tmp_path / "out", force=True)
    with pytest.raises(ReleaseError, match="grader/ folder"):
        build_release(ROOT / "student-release")
    assert not (ROOT / "student-release").exists()
