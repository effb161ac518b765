"""What the self-check (`pytest` beside sgd.py) runs: the public checks, in-process, with a per-step summary."""

from __future__ import annotations

import traceback
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from grader import reference
from grader.checks.model import Check, Outcome
from grader.checks.runner import run_check
from grader.contract import STEPS
from grader.rubric import load_rubric
from grader.submission import InProcessSubmission, SubmissionError, Unloadable, in_process
from grader.verdict import DONE, NOT_STARTED, select_checks, step_status


def public_checks() -> list[Check]:
    """The checks students may run themselves: those public in the rubric (never one using the reference)."""
    return select_checks(load_rubric())


def submission_for(path: str | Path) -> InProcessSubmission | Unloadable:
    """Load a submission in-process, or explain in one line why it cannot be."""
    try:
        return in_process(path)
    except SubmissionError as exc:
        return Unloadable(str(exc))
    except SyntaxError as exc:
        return Unloadable(f"syntax error in {Path(exc.filename or path).name}, line {exc.lineno}: {exc.msg}")
    except Exception as exc:  # noqa: BLE001 - whatever the module raised at import
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return Unloadable(f"importing it raised {type(exc).__name__}: {exc} (line {where.lineno})")


@dataclass
class StepSummary:
    """Collects outcomes and renders one line per step: its `verdict.step_status` (done, failing or not started)."""

    outcomes: dict[str, list[Outcome]] = field(default_factory=lambda: defaultdict(list))

    def run(self, check: Check, submission, *, device: str = "cpu") -> Outcome:
        outcome = run_check(check, submission, isolate=reference.available(), device=device)
        self.outcomes[check.step].append(outcome)
        return outcome

    def render(self, submission: str) -> str:
        lines = [f"{Path(submission).name}:"]
        for step in STEPS:
            outcomes = self.outcomes.get(step)
            if not outcomes:
                continue
            passed = sum(o.passed for o in outcomes)
            status = step_status(outcomes)
            if status == NOT_STARTED:
                note = "implement it next"
            elif status == DONE:  # a rule may still have found something it could not verify
                note = next((o.message.splitlines()[0][:90] for o in outcomes if o.message), "")
            else:
                first = next(o for o in outcomes if not o.passed)
                note = first.message.splitlines()[0][:90]
            lines.append(f"  {step:<10} {status:<12} {passed}/{len(outcomes)} checks  {note}".rstrip())
        return "\n".join(lines)
