"""The reference solution (solutions/sgd.py), for hidden checks and step isolation.

Absent from the student release: there, `available()` is False and only checks that
do not use the reference run.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import types
from pathlib import Path
from types import ModuleType

from grader.contract import FUNCTION_STEP, functions_of

SOLUTION = Path(__file__).resolve().parents[1] / "solutions" / "sgd.py"


_REGION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", flags=re.S)
_MARKER = re.compile(r"\s*### (BEGIN|END) SOLUTION")


def available() -> bool:
    return SOLUTION.is_file()


@functools.cache
def reference() -> ModuleType:
    """The reference module, loaded once."""
    spec = importlib.util.spec_from_file_location("sgd_reference", SOLUTION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.cache
def helpers(step: str) -> dict:
    """The reference version of every contract function that neither belongs to `step` nor calls
    (directly or through others) a function of `step`: while `step` is checked, these answer the
    submission's calls to its other functions (in this process for `pytest`; in the sandbox's
    reference process for grading, never inside a worker). So no answer ever comes from the
    reference of `step` itself: the reference `train`, which calls the reference `mse`, is no
    helper while `mse` is checked."""
    excluded = set(functions_of(step))
    module = reference()
    return {
        name: getattr(module, name) for name in FUNCTION_STEP if name not in excluded and not (uses(name) & excluded)
    }


def own(step: str) -> dict:
    """The reference functions of `step` itself. Never a helper: the grader only rehearses them
    on a check's calls, on the trusted side, to seal in advance the answers a correct
    submission will ask of the other steps (see `grader.sandbox.rehearsal`)."""
    return {name: getattr(reference(), name) for name in functions_of(step)}


@functools.cache
def uses(name: str) -> frozenset[str]:
    """The contract functions the reference `name` calls, directly or through others."""
    found: set[str] = set()
    todo = [name]
    while todo:
        for callee in _called(getattr(reference(), todo.pop()).__code__):
            if callee not in found:
                found.add(callee)
                todo.append(callee)
    return frozenset(found)


def _called(code: types.CodeType) -> set[str]:
    """The contract names a code object (and the code nested in it) refers to."""
    from grader.sandbox.protocol import global_names  # here: the protocol imports torch

    return global_names(code) & set(FUNCTION_STEP)


def solution_lines() -> set[str]:
    """The non-trivial lines (12 characters or more) inside the solution regions: what no
    student-facing file may contain."""
    regions = _REGION.findall(SOLUTION.read_text())
    return {line.strip() for region in regions for line in region.splitlines() if len(line.strip()) >= 12}


def source_with(extra: str) -> str:
    """The reference source without its solution markers, with `extra` appended: functions
    defined in `extra` replace the reference ones (for corpora built on the reference)."""
    return f"{_MARKER.sub('', SOLUTION.read_text())}\n\n# --- replaced part ---\n{extra}"
