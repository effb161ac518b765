"""The grader's checks for one step, run from a notebook's test cell (nbgrader or by hand).

A test cell of exercises/sgd.ipynb (and of the nbgrader source notebook) runs

    from grader.frontends.notebook_checks import check_step
    check_step("mse", globals())

which judges the notebook's own functions in-process with that step's public checks (or,
with `hidden=True`, its hidden ones), and raises AssertionError with short feedback when
any fails: nbgrader scores the cell 0 and shows the message. A step's rules (`checks.rules`:
the APIs it must not use) have a cell of their own, `check_step("gradient", globals(),
rules=True)`, worth the rules' points: a correct step that breaks a rule loses those points
only, and a rule worth 0 points (flag only) is printed there, never raised. With the reference solution
at hand (solutions/ beside grader/), the notebook's other steps are swapped for the
reference ones while a step is checked, so a bug costs points at its own step only.
"""

from __future__ import annotations

import contextlib
import io
import textwrap
from collections.abc import MutableMapping
from typing import Any

from grader import reference
from grader.checks.model import Check, Outcome, checks_for
from grader.checks.runner import run_check
from grader.contract import STEPS, functions_of
from grader.rubric import load_rubric
from grader.submission import InProcessSubmission
from grader.verdict import DONE, NOT_STARTED, select_checks, step_status


class NamespaceModule:
    """A module-like object whose `__dict__` is the notebook's namespace itself (not a copy)."""

    def __init__(self, namespace: MutableMapping[str, Any]):
        self.__dict__ = namespace  # noqa: B010 - the very dict, so isolation swaps in place


def kernel_source(namespace: MutableMapping[str, Any]) -> str | None:
    """The cells this kernel ran, in order (IPython's `In`, magics already turned into Python), for the
    rules to read; None outside IPython. A function defined again later is the later one."""
    cells = namespace.get("In")
    if not isinstance(cells, list) or not all(isinstance(cell, str) for cell in cells):
        return None
    return "\n".join(cells)


def step_checks(step: str, *, hidden: bool = False, rules: bool = False, rubric_path: str | None = None) -> list[Check]:
    """The checks of `step` that the rubric makes public (hidden=False) or hidden (hidden=True), rules
    left out; with rules=True, the step's rules instead, whatever their visibility."""
    return _selected(load_rubric(rubric_path), step, hidden, rules)


def step_points(step: str, *, hidden: bool = False, rules: bool = False, rubric_path: str | None = None) -> float:
    """The rubric points of `step_checks(step, hidden=hidden, rules=rules)`."""
    rubric = load_rubric(rubric_path)
    return sum(rubric[c.id].points for c in _selected(rubric, step, hidden, rules))


def _selected(rubric: dict, step: str, hidden: bool, rules: bool) -> list[Check]:
    if step not in STEPS:
        raise ValueError(f"unknown step {step!r}; the steps are {', '.join(STEPS)}")
    if rules:
        return [c for c in checks_for([step]) if c.rule is not None]
    return [c for c in select_checks(rubric, [step], hidden=hidden) if c.rule is None]


def feedback(step: str, outcomes: list[Outcome], *, hidden: bool = False) -> str:
    """One line that sums up the step, then one bullet per failed check ('' when all passed)."""
    status = step_status(outcomes)
    if status == DONE:
        return ""
    if status == NOT_STARTED:
        names = ", ".join(functions_of(step))
        return f"{step}: not implemented yet: fill in {names} above, then run this cell again."
    failed = [o for o in outcomes if not o.passed]
    kind = "hidden checks" if hidden else "checks"
    lines = [f"{step}: {len(failed)} of {len(outcomes)} {kind} failed:"]
    for o in failed:
        if hidden:  # like the Gradescope report: hidden checks show students only their name
            lines.append(f"- {o.check.name}")
            continue
        first, *rest = (o.feedback or "failed").splitlines()
        lines.append(f"- {o.check.name}: {first}")
        lines += [textwrap.indent(line, "  ") for line in rest]
    return "\n".join(lines)


def rules_feedback(step: str, outcomes: list[Outcome], rubric_path: str | None = None) -> tuple[str, str]:
    """(what fails the cell: the unkept rules worth points, or '', the notes on broken rules worth 0)."""
    rubric = load_rubric(rubric_path)
    unkept = [o for o in outcomes if not o.passed]
    costly = [o for o in unkept if rubric[o.check.id].points > 0]
    flagged = [o for o in unkept if rubric[o.check.id].points == 0 and not o.not_implemented]
    first = {o.check.id: (o.feedback or "broken").splitlines()[0] for o in unkept}
    message = "\n".join(
        [
            f"{step}: {len(costly)} of {len(outcomes)} rules not kept:",
            *(f"- {o.check.name}: {first[o.check.id]}" for o in costly),
        ]
    )
    notes = "\n".join(f"{step}.{o.check.name} (flag only, no points lost): {first[o.check.id]}" for o in flagged)
    return (message if costly else ""), notes


def _outcomes(checks: list[Check], namespace: MutableMapping[str, Any], device: str) -> list[Outcome]:
    submission = InProcessSubmission(NamespaceModule(namespace), kernel_source(namespace))
    chatter = io.StringIO()  # the submission's prints and hypothesis' reports stay out of the feedback
    with contextlib.redirect_stdout(chatter), contextlib.redirect_stderr(chatter):
        return [run_check(c, submission, isolate=True, device=device) for c in checks]


def check_step(
    step: str,
    namespace: MutableMapping[str, Any],
    hidden: bool = False,
    *,
    rules: bool = False,
    device: str = "cpu",
    rubric_path: str | None = None,
) -> None:
    """Run `step`'s public (or hidden) checks, or its rules, on the functions in `namespace`;
    AssertionError if any fails (a rule: when it is worth points)."""
    __tracebackhide__ = True  # pytest leaves this frame out of its tracebacks
    checks = step_checks(step, hidden=hidden, rules=rules, rubric_path=rubric_path)
    if hidden and any(c.uses_reference for c in checks) and not reference.available():
        raise AssertionError(f"{step}: the hidden checks need the reference solution (solutions/sgd.py) beside grader/")
    missing = [name for name in functions_of(step) if not callable(namespace.get(name))]
    if missing:
        raise AssertionError(
            f"{step}: no function named {', '.join(missing)} here: run the cell that defines it, then this cell again."
        )
    outcomes = _outcomes(checks, namespace, device)
    if rules:
        message, notes = rules_feedback(step, outcomes, rubric_path)
        kept = f"{step}: {sum(o.passed for o in outcomes)} of {len(outcomes)} rules kept"
    else:
        message, notes = feedback(step, outcomes, hidden=hidden), ""
        kept = f"{step}: {len(outcomes)} of {len(outcomes)} {'hidden ' if hidden else ''}checks passed"
    if notes:
        print(notes)
    if message:
        raise AssertionError(message)
    print(kept)
