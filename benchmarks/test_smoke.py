"""The benchmark (benchmarks/run.py) in its CI smoke version, and its nbgrader path, cheaply.

`run.py --quick --skip-nbgrader --out DIR` grades for real (a cold grade, a class of 10, the
class plus one hostile submission that does not hang, the self-check) and must write results.json and results.md
with every figure. Real `nbgrader autograde` costs ~10 s a notebook here, so the smoke run skips
it; the notebooks it would grade, and how its figures are reported, are tested on their own.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grader.builders.notebook import EXERCISE_NOTEBOOK
from grader.contract import FUNCTION_STEP
from grader.submission import load_module, notebook_code

ROOT = Path(__file__).resolve().parents[1]

RUN = ROOT / "benchmarks" / "run.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("benchmark_run", RUN)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def check_report(bench, report: dict, markdown: str, *, nbgrader: bool) -> None:
    figures = report["figures"]
    assert list(figures) == [f.key for f in bench.FIGURES]
    for key, figure in figures.items():
        assert figure["label"] in markdown, key
        if figure["median"] is None:
            assert figure["skipped"] and figure["skipped"] in markdown, key
            continue
        assert figure["min"] <= figure["median"] <= figure["max"], key
        assert len(figure["runs"]) == report["settings"]["repeat"], key
        if figure["target"]:
            assert figure["met"] in (True, False), key
    measured = {"cold_grade_s", "class_wall_s", "class_throughput", "hostile_wall_s", "selfcheck_s"}
    assert all(figures[key]["median"] is not None for key in measured)
    for key in ("nbgrader_s_per_submission", "nbgrader_speedup"):
        assert (figures[key]["median"] is not None) == nbgrader, key
    if report["machine"]["cuda"] is None:
        assert figures["gpu_throughput"]["skipped"] == "no CUDA device"
    for field in ("date", "cores", "cpu_model", "python", "torch"):
        assert report["machine"][field], field
    assert "| figure | median | min | max | target | met? |" in markdown


def test_quick_benchmark_writes_every_figure(bench, tmp_path):
    committed = ROOT / "benchmarks" / "results.json"
    before = committed.stat().st_mtime_ns if committed.is_file() else None
    command = [sys.executable, str(RUN), "--quick", "--skip-nbgrader", "--out", str(tmp_path)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads((tmp_path / "results.json").read_text())
    markdown = (tmp_path / "results.md").read_text()
    assert report["settings"]["class_size"] == 10 and report["settings"]["repeat"] == 1
    hostile = report["settings"]["hostile"]
    assert len(hostile) == 1 and not set(hostile) & set(bench.HANGS_FIRST)  # the smoke version's costs no time-out
    check_report(bench, report, markdown, nbgrader=False)
    assert report["verdicts"]["ok"] and "All verdicts right" in markdown
    assert report["verdicts"]["checked"]["class verdicts"] == 1
    assert (committed.stat().st_mtime_ns if committed.is_file() else None) == before  # --out, not benchmarks/


def test_report_with_nbgrader_figures(bench):
    m = bench.Measurements()
    for figure in bench.FIGURES:
        m.runs[figure.key] = [2.0, 1.0, 3.0]
    m.runs["nbgrader_speedup"] = [40.0, 31.0, 29.0]
    m.checks = {"class verdicts": 3, "nbgrader verdicts": 3}
    report = {
        "command": "python benchmarks/run.py",
        "machine": {
            "date": "2024-01-01T00:00:00+00:00",
            "cores": 2,
            "cpu_count": 2,
            "cpu_model": "a CPU",
            "load_average_at_start": [0.0, 0.0, 0.0],
            "python": "3.11",
            "torch": "2.13.0",
            "cuda": "a GPU",
            "nbgrader": "0.9.6",
            "grader": "0.1.0",
            "commit": "abc",
        },
        "settings": {
            "quick": False,
            "repeat": 3,
            "class_size": 200,
            "class_mix": "mixed",
            "jobs": 2,
            "nbgrader_subset": 20,
            "skip_nbgrader": False,
            "hostile_count": 20,
            "hostile": ["infinite_loop"],
        },
        "figures": bench.summary(m),
        "hostile_seconds": {"infinite_loop": 21.0},
        "gpu_totals_match": True,
        "verdicts": {"ok": True, "checked": m.checks, "problems": []},
    }
    markdown = bench.markdown(report)
    check_report(bench, report, markdown, nbgrader=True)
    speedup = report["figures"]["nbgrader_speedup"]
    assert (speedup["median"], speedup["min"], speedup["max"], speedup["met"]) == (31.0, 29.0, 40.0, True)
    assert report["figures"]["selfcheck_over_torch"]["met"] is True  # 2× ≤ 2×
    assert report["figures"]["cold_over_torch"]["met"] is False  # 2× > 1.5×
    assert report["figures"]["cold_grade_s"]["target"] is None  # seconds alone are no target: machines differ
    assert "subset of 20 of the 200" in markdown and "match the CPU run" in markdown


def test_class_mixes_the_corpora_and_puts_the_hangs_first(bench):
    entries = bench.class_entries(200)
    assert len({e.student for e in entries}) == 200
    kinds = [e.kind for e in bench.class_entries(10)]
    assert "correct" in kinds[:2] and "bug" in kinds[:2]  # the nbgrader subset of 2 has both
    assert {e.corpus for e in entries} == set(bench.corpus_files("correct") + bench.corpus_files("bugs"))
    assert all(e.step in {*FUNCTION_STEP.values()} for e in entries if e.kind == "bug")
    hostile = bench.hostile_entries(20)
    assert [e.corpus.stem for e in hostile[: len(bench.HANGS_FIRST)]] == list(bench.HANGS_FIRST)
    assert len({e.student for e in hostile}) == 20


def functions(source: str) -> dict[str, str]:
    return {n.name: ast.dump(n) for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)}


@pytest.mark.parametrize("kind, file", [("correct", "numpy_inside"), ("correct", "fisher_yates"), ("bug", "mse__rmse")])
def test_nbgrader_notebook_holds_the_submission(bench, kind, file):
    """The notebooks nbgrader grades: the release (exercises/sgd.ipynb is nbgrader's, see test_nbgrader.py)
    with each solution cell holding the submission's function, helpers first, locked cells untouched."""
    entry = bench.Entry(f"{kind}-{file}", kind, bench.CORPUS / ("bugs" if kind == "bug" else kind) / f"{file}.py")
    release = nbformat.read(EXERCISE_NOTEBOOK, as_version=4)
    notebook = bench.submission_notebook(release, entry.source())
    nbformat.validate(notebook)
    assert len(notebook.cells) == len(release.cells)
    for cell, released in zip(notebook.cells, release.cells):
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            assert f"def {meta['grade_id']}(" in cell.source
        else:
            assert (cell.source, cell.metadata) == (released.source, released.metadata)
    code = notebook_code(nbformat.writes(notebook))
    expected = functions(entry.source())
    assert {k: v for k, v in functions(code).items() if k in expected} == expected
    module = load_module(code)
    assert all(callable(getattr(module, name)) for name in FUNCTION_STEP)


def test_quick_needs_an_out_folder(bench, capsys):
    with pytest.raises(SystemExit):
        bench.parse_args(["--quick"])
    assert "--quick needs --out" in capsys.readouterr().err
    args = bench.parse_args(["--quick", "--out", "x"])
    assert (args.class_size, args.nbgrader_subset, args.repeat) == (10, 2, 1)
    args = bench.parse_args([])
    assert (args.class_size, args.nbgrader_subset, args.repeat) == (200, 20, 3)
    assert args.out == ROOT / "benchmarks"
