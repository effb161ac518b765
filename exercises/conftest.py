"""The student's self-check: `pytest` in the folder that holds sgd.py (`pytest -m mse` for one step).

Checks exercises/sgd.py by default; `--submission PATH` checks another file or folder.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if not (HERE.parent / "grader").is_dir() and (HERE / "grader").is_dir():
    sys.path.insert(0, str(HERE))  # the student release keeps grader/ beside the exercise
else:
    sys.path.insert(0, str(HERE.parent))

from grader.contract import STEPS  # noqa: E402
from grader.frontends.selfcheck import StepSummary  # noqa: E402

SUMMARY = pytest.StashKey[StepSummary]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sgd", "SGD exercise self-check")
    group.addoption("--submission", default=str(HERE / "sgd.py"), help="the sgd.py / sgd.ipynb (or folder) to check")
    group.addoption("--device", default="cpu", help="cpu or cuda")


def pytest_configure(config: pytest.Config) -> None:
    for step in STEPS:
        config.addinivalue_line("markers", f"{step}: checks of the '{step}' step")
    config.stash[SUMMARY] = StepSummary()


@pytest.fixture(scope="session")
def step_summary(pytestconfig: pytest.Config) -> StepSummary:
    return pytestconfig.stash[SUMMARY]


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    summary = config.stash[SUMMARY]
    if summary.outcomes:
        terminalreporter.write_sep("=", "SGD self-check, step by step")
        terminalreporter.write_line(summary.render(config.getoption("--submission")))
