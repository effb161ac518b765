"""Grading one submission: the trusted side runs every check through a sandboxed worker."""

from __future__ import annotations

import functools
import gc
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

import grader
from grader import DEFAULT_SEED, reference
from grader.checks import answers, rules
from grader.checks.model import Check, Outcome, checks_for
from grader.checks.runner import run_check
from grader.files import launch_for_grading
from grader.reporters import plots
from grader.rubric import Entry, load_rubric
from grader.sandbox.client import Limits, Sandbox
from grader.sandbox.launcher import Launch
from grader.submission import Unloadable
from grader.verdict import select_checks


@dataclass
class Graded:
    """One check's verdict with its rubric entry."""

    check: Check
    entry: Entry
    outcome: Outcome

    @property
    def score(self) -> float:
        return self.entry.points if self.outcome.passed else 0.0


@dataclass
class Report:
    """Everything known about one graded submission."""

    submission: str
    graded: list[Graded]
    seed: int
    device: str
    layers: list[str]
    load_error: str | None = None
    output: str = ""
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def score(self) -> float:
        return sum(g.score for g in self.graded)

    @property
    def max_score(self) -> float:
        return sum(g.entry.points for g in self.graded)


def syntax_error(source: str, filename: str) -> str | None:
    """A one-line description of the first syntax error, or None. Compiling runs nothing."""
    try:
        compile(source, filename, "exec")
    except SyntaxError as exc:
        return f"syntax error at line {exc.lineno}: {exc.msg}"
    except ValueError as exc:  # e.g. null bytes
        return f"unreadable source: {exc}"
    return None


def environment(device: str, seed: int, layers: list[str]) -> dict:
    return {
        "grader_version": grader.__version__,
        "seed": seed,
        "device": device,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "isolation": sorted(layers),
    }


def grade_source(
    source: str,
    name: str,
    sandbox: Sandbox,
    *,
    seed: int = DEFAULT_SEED,
    public_only: bool = False,
    rubric_path: str | Path | None = None,
    with_plots: bool = True,
) -> Report:
    """Run every check on one submission's source inside `sandbox`; `with_plots`: also collect the
    data of its feedback page's plots (`extra["plots"]`: three more runs of its functions)."""
    start = time.perf_counter()
    rubric = load_rubric(rubric_path)
    checks = select_checks(rubric) if public_only else checks_for()
    problem = syntax_error(source, name)
    submission = (
        Unloadable(problem)
        if problem
        else sandbox.submission(source, reference.helpers, reference.own, answers.rehearsed)
    )
    graded = []
    plot_data = None
    try:
        for check in checks:
            outcome = run_check(check, submission, isolate=True, seed_=seed, device=sandbox.device)
            graded.append(Graded(check, rubric[check.id], outcome))
        rules.add_dynamic([g.outcome for g in graded])
        if with_plots and not problem:
            plot_data = plots.collect(submission)
    finally:
        if not problem:
            submission.close()
    load_error = problem or getattr(submission, "import_error", None)
    return Report(
        submission=name,
        graded=graded,
        seed=seed,
        device=sandbox.device,
        layers=list(sandbox.layers),
        load_error=load_error,
        output=getattr(submission, "output", ""),
        seconds=time.perf_counter() - start,
        extra={"plots": plot_data} if plot_data is not None else {},
    )


@functools.cache
def warm_torch_optim() -> None:
    """Make one torch.optim optimizer: the first one imports torch._dynamo (about a second). A class
    does it before its workers fork, for an oracle that is not stored (a shrinking probe's lr_scheduler);
    one grade does not, since its oracles answer from the store (`checks.answers`)."""
    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)


def settle_after_start_up() -> None:
    """Call once a grading process has imported and warmed up: what is alive now (torch's,
    hypothesis' and the grader's objects, the examples) lives until exit, so the garbage collector
    stops scanning it (forked workers also keep sharing its pages), and it collects again if
    start-up switched it off (`python -m grader grade` does: that saves 0.3 s of its 3)."""
    gc.freeze()
    gc.enable()


def open_sandbox(device: str = "cpu", limits: Limits | None = None, launched: Launch | None = None) -> Sandbox:
    """A sandbox for grading (see `launch_for_grading`); `launched`: its zygote, if already started."""
    launched = launched or launch_for_grading(device)
    return Sandbox(limits or Limits(), device=device, launched=launched)
