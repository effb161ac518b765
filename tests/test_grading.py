"""The grading engine end to end: sandboxed verdicts, results.json, and the command line."""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest
from conftest import ROOT, corpus_files, corpus_source

from grader import reference
from grader.builders.stubs import EXERCISE
from grader.contract import STEPS
from grader.frontends.grade import grade_source, open_sandbox
from grader.reporters.gradescope import results


@pytest.fixture(scope="module")
def sandbox():
    with open_sandbox() as box:
        yield box


def grade(path, sandbox, **kwargs):
    return grade_source(path.read_text(), path.name, sandbox, **kwargs)


def failing_steps(report) -> set[str]:
    return {g.check.step for g in report.graded if not g.outcome.passed}


def test_reference_gets_full_marks(sandbox):
    report = grade(reference.SOLUTION, sandbox)
    assert report.score == report.max_score > 0 and not report.load_error


def test_stubs_get_zero_with_not_implemented(sandbox):
    report = grade(EXERCISE, sandbox)
    assert report.score == 0 and failing_steps(report) == set(STEPS)
    assert all(g.outcome.not_implemented for g in report.graded)


def grade_corpus(path, sandbox):
    return grade_source(corpus_source(path), path.name, sandbox)


def test_same_submission_same_bytes(sandbox):
    path = corpus_files("bugs")[0]
    first, second = (results(grade_corpus(path, sandbox)) for _ in range(2))
    first["execution_time"] = second["execution_time"] = 0
    assert json.dumps(first) == json.dumps(second)


def test_results_follow_gradescope_schema(sandbox):
    doc = results(grade_corpus(corpus_files("bugs")[0], sandbox))
    assert set(doc) == {"score", "execution_time", "output", "tests", "extra_data"}
    for test in doc["tests"]:
        assert set(test) == {"name", "score", "max_score", "status", "output", "visibility", "tags"}
        assert len(test["tags"]) == 1 and test["tags"][0] in STEPS
        assert test["visibility"] in ("visible", "after_published")
    assert {"grader_version", "seed", "device", "python", "torch", "isolation"} <= set(doc["extra_data"])


def test_hidden_checks_never_show_their_inputs(sandbox):
    buggy = reference.source_with((ROOT / "grader" / "examples" / "buggy_sgd.py").read_text())
    doc = results(grade_source(buggy, "buggy_sgd.py", sandbox))
    hidden = [t for t in doc["tests"] if t["visibility"] == "after_published" and t["status"] == "failed"]
    assert hidden and all("fails for" not in t["output"] and "[" not in t["output"] for t in hidden)


def test_notebook_submission_skips_magics(sandbox, tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# My SGD"),
        nbformat.v4.new_code_cell("%matplotlib inline\n!pip install nothing"),
        nbformat.v4.new_code_cell(reference.SOLUTION.read_text()),
        nbformat.v4.new_code_cell("%%bash\necho hi"),
    ]
    folder = tmp_path / "student"
    folder.mkdir()
    nbformat.write(notebook, folder / "sgd.ipynb")
    from grader.submission import read_source

    source, _ = read_source(folder)
    report = grade_source(source, "sgd.ipynb", sandbox)
    assert report.score == report.max_score


def run_cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_cli_grades_and_writes_json(tmp_path):
    out = tmp_path / "results.json"
    done = run_cli("grade", str(reference.SOLUTION), "--json", str(out))
    assert done.returncode == 0, done.stderr
    doc = json.loads(out.read_text())
    assert doc["score"] == doc["extra_data"]["max_score"] and "Traceback" not in done.stdout + done.stderr


@pytest.mark.parametrize(
    "source, says",
    [
        ("def mse(:\n", "syntax error at line 1"),
        (reference.SOLUTION.read_text().replace("def mse(", "def MSE("), "no function named mse (is MSE"),
        (
            reference.SOLUTION.read_text().replace("def predict(X: Tensor, w: Tensor, b: Tensor)", "def predict(X, w)"),
            "predict takes 2 positional arguments",
        ),
    ],
    ids=["syntax-error", "misnamed", "wrong-signature"],
)
def test_cli_scores_broken_submissions_with_one_clear_line(tmp_path, source, says):
    (tmp_path / "sgd.py").write_text(source)
    out = tmp_path / "results.json"
    done = run_cli("grade", str(tmp_path), "--json", str(out))
    assert done.returncode == 1 and says in done.stdout and "Traceback" not in done.stdout + done.stderr
    doc = json.loads(out.read_text())
    assert doc["score"] < doc["extra_data"]["max_score"]


@pytest.mark.parametrize(
    "args, says",
    [
        (["grade", "does/not/exist"], "no such file or folder"),
        (["grade", "tests"], "holds no sgd.py or sgd.ipynb"),
        (["grade", "solutions/sgd.py", "--device", "tpu"], "unknown device"),
    ],
)
def test_cli_refuses_bad_input_in_one_line(args, says):
    done = run_cli(*args)
    assert done.returncode == 2 and says in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_notebook_with_future_import_in_a_later_cell(tmp_path):
    from grader.submission import read_source

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("import torch"),
        nbformat.v4.new_code_cell(reference.SOLUTION.read_text()),
    ]
    nbformat.write(notebook, tmp_path / "sgd.ipynb")
    source, _ = read_source(tmp_path)
    compile(source, "sgd.ipynb", "exec")
