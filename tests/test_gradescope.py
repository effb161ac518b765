"""The Gradescope autograder zip: its layout, and run_autograder in a Gradescope-like root."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.builders.gradescope_bundle import autograde, build_bundle, find_upload, is_valid, read_metadata

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "sgd.py"
METADATA = {
    "id": 123456,
    "created_at": "2024-09-20T10:00:00.000000-07:00",
    "assignment": {"due_date": "2024-09-19T23:59:00.000000-07:00", "total_points": "80.0"},
    "users": [{"email": "ada@example.edu", "id": 42, "name": "Ada"}],
}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_bundle(tmp_path_factory.mktemp("bundle") / "autograder.zip")


def gradescope_root(tmp: Path, bundle: Path, uploads: dict[str, str], metadata: dict | None = METADATA) -> Path:
    """A folder laid out like Gradescope's /autograder, with the zip unpacked into source/."""
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(tmp / "source")
    for name in ("run_autograder", "setup.sh"):
        (tmp / "source" / name).chmod(0o755)  # extractall drops the mode bits; Gradescope keeps them
    (tmp / "submission").mkdir()
    (tmp / "results").mkdir()
    for name, text in uploads.items():
        (tmp / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp / "submission" / name).write_text(text)
    if metadata is not None:
        (tmp / "submission_metadata.json").write_text(json.dumps(metadata))
    return tmp


def start(root: Path, python: str = sys.executable) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(AUTOGRADER_ROOT=str(root), GRADER_PYTHON=python)
    return subprocess.Popen(
        ["bash", str(root / "source" / "run_autograder")],
        env=env,
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(process: subprocess.Popen, root: Path) -> dict:
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0, output
    results = json.loads((root / "results" / "results.json").read_text())
    assert is_valid(results), results
    return results


def test_bundle_layout(bundle: Path) -> None:
    with zipfile.ZipFile(bundle) as archive:
        infos = {info.filename: info for info in archive.infolist()}
    for name in ("setup.sh", "run_autograder"):
        assert infos[name].external_attr >> 16 & 0o111, f"{name} is not executable in the zip"
    for name in ("grader/cli.py", "grader/rubric.toml", "grader/sandbox/worker.py", "solutions/sgd.py"):
        assert name in infos
    assert {"exercises/sgd.py", "pyproject.toml", "README.md"} <= set(infos)
    assert not [n for n in infos if n.startswith(("tests/", "exercises/lessons/")) or "__pycache__" in n]
    assert build_bundle(bundle.with_name("again.zip")).read_bytes() == bundle.read_bytes(), "not reproducible"


def test_scripts_parse(bundle: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(tmp_path, members=["setup.sh", "run_autograder"])
    for name in ("setup.sh", "run_autograder"):
        subprocess.run(["bash", "-n", str(tmp_path / name)], check=True)
    setup = (tmp_path / "setup.sh").read_text()
    assert "torch==2.13.0" in setup and "bubblewrap libseccomp2" in setup and "[sandbox]" in setup


def test_correct_and_buggy_uploads(bundle: Path, tmp_path: Path) -> None:
    correct = gradescope_root(tmp_path / "correct", bundle, {"sgd.py": SOLUTION.read_text()})
    mse = "return ((preds - targets) ** 2).mean()"
    assert mse in SOLUTION.read_text()
    buggy_source = SOLUTION.read_text().replace(mse, mse + ".sqrt()")
    buggy = gradescope_root(tmp_path / "buggy", bundle, {"hw1/sgd.py": buggy_source}, metadata=None)
    running = [start(correct), start(buggy)]  # in parallel: each waits on its own sandbox
    good, bad = finish(running[0], correct), finish(running[1], buggy)

    assert good["score"] == good["extra_data"]["max_score"] > 0
    assert all(t["status"] == "passed" for t in good["tests"])
    assert good["output"].startswith("Graded sgd.py.")
    assert good["extra_data"]["gradescope"] == {
        "submission_id": 123456,
        "created_at": METADATA["created_at"],
        "users": METADATA["users"],
        "assignment_total_points": "80.0",
        "late": True,
    }

    failed = [t for t in bad["tests"] if t["status"] == "failed"]
    assert failed and all(t["tags"] == ["mse"] for t in failed), failed
    assert bad["score"] == pytest.approx(good["score"] - sum(t["max_score"] for t in failed))
    assert "RMSE" in "\n".join(t["output"] for t in failed)
    assert bad["extra_data"]["upload"] == "hw1/sgd.py" and "gradescope" not in bad["extra_data"]


def test_empty_submission_scores_zero(bundle: Path, tmp_path: Path) -> None:
    root = gradescope_root(tmp_path, bundle, {})
    results = finish(start(root), root)
    assert results["score"] == 0 and results["tests"] == []
    assert "No sgd.py or sgd.ipynb" in results["output"]
    assert results["extra_data"]["gradescope"]["submission_id"] == 123456


def test_broken_python_still_leaves_results(bundle: Path, tmp_path: Path) -> None:
    root = gradescope_root(tmp_path, bundle, {"sgd.py": "x = 1\n"})
    results = finish(start(root, python="/bin/false"), root)
    assert results["score"] == 0 and "failed before it could grade" in results["output"]


def test_grader_crash_is_a_zero_with_the_error(tmp_path: Path) -> None:
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 'Traceback: something broke' >&2\nexit 3\n")
    fake.chmod(0o755)
    (tmp_path / "submission").mkdir()
    (tmp_path / "source").mkdir()
    (tmp_path / "submission" / "sgd.ipynb").write_text("{}")
    results = autograde(tmp_path, python=str(fake))
    assert results == json.loads((tmp_path / "results" / "results.json").read_text())
    assert results["score"] == 0 and "exit status 3" in results["output"] and "something broke" in results["output"]


def test_find_upload(tmp_path: Path) -> None:
    assert find_upload(tmp_path / "absent")[0] is None
    (tmp_path / "__MACOSX" / "a").mkdir(parents=True)
    (tmp_path / "__MACOSX" / "a" / "sgd.py").write_text("")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "sgd.ipynb").write_text("")
    assert find_upload(tmp_path) == (None, find_upload(tmp_path / "absent")[1])
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "sgd.ipynb").write_text("{}")
    assert find_upload(tmp_path) == (tmp_path / "a" / "sgd.ipynb", "")
    (tmp_path / "sgd.py").write_text("")
    upload, why = find_upload(tmp_path)
    assert upload is None and "a/sgd.ipynb, sgd.py" in why
    (tmp_path / "sgd.py").unlink()
    (tmp_path / "a" / "sgd.ipynb").unlink()
    (tmp_path / "a" / "sgd.py").symlink_to(SOLUTION)  # the bundle's own solution: never read
    upload, why = find_upload(tmp_path)
    assert upload is None and "a/sgd.py is a symbolic link: not read" in why


def test_metadata_is_optional(tmp_path: Path) -> None:
    assert read_metadata(tmp_path / "absent.json") == {}
    (tmp_path / "bad.json").write_text("[1, 2")
    assert read_metadata(tmp_path / "bad.json") == {}
    (tmp_path / "partial.json").write_text(json.dumps({"id": 7, "assignment": {"due_date": None}}))
    assert read_metadata(tmp_path / "partial.json") == {"submission_id": 7}
