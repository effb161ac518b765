"""An instructor's adjustments to a class's grades, as data: OUT_DIR/overrides.csv.

    student,check,points,reason,author
    alice,mse.loss_properties,1,right idea: the sign slipped,KL
    bob,train,-2,late: two days,KL

`check` is a check id (`python -m grader rubric` lists them) or a step. `points` is a delta, added as
written to the graded points of that check's step (never clipped): +1 gives a point back, a late
penalty is -2. Overrides are applied after grading, on every run, so a regrade keeps them; each
results.json records those applied (`extra_data["overrides"]`) and its score includes them, with the
score before them in `extra_data["graded_score"]`. Standard library only.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

COLUMNS = ("student", "check", "points", "reason", "author")


class OverrideError(Exception):
    """An overrides.csv that cannot be applied as written; the message is one line for the instructor."""


@dataclass(frozen=True)
class Override:
    student: str
    check: str
    """A check id or a step."""
    step: str
    points: float
    reason: str
    author: str

    def record(self) -> dict:
        """What results.json records of it."""
        return {k: v for k, v in asdict(self).items() if k != "student"}


def read_overrides(
    path: Path, students: Mapping[str, dict | None], steps_of: Mapping[str, str]
) -> dict[str, tuple[Override, ...]]:
    """student → their overrides, from `path` (none when it does not exist). `students` maps each
    student of the class to their stored results.json (None if none), which tells a check that no
    longer exists from a misspelt one; `steps_of` maps every check id and step to its step. Raises
    OverrideError on the first bad line."""
    if not path.exists():
        return {}
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            lines = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise OverrideError(f"cannot read {path}: {exc}") from None
    if not lines or tuple(c.strip().lower() for c in lines[0]) != COLUMNS:
        raise OverrideError(f"{path}: the first line must be the header {','.join(COLUMNS)}")
    found: dict[str, list[Override]] = {}
    for number, cells in enumerate(lines[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        override = _override(cells, f"{path} line {number}", students, steps_of)
        found.setdefault(override.student, []).append(override)
    return {student: tuple(items) for student, items in found.items()}


def _override(
    cells: list[str], where: str, students: Mapping[str, dict | None], steps_of: Mapping[str, str]
) -> Override:
    if len(cells) != len(COLUMNS):
        raise OverrideError(f"{where}: expected {len(COLUMNS)} cells ({','.join(COLUMNS)}), got {len(cells)}")
    student, check, points, reason, author = (c.strip() for c in cells)
    if student not in students:
        raise OverrideError(f"{where}: unknown student {student!r}: no such entry in the class folder")
    if check not in steps_of:
        applied = {o.get("check") for o in ((students[student] or {}).get("extra_data") or {}).get("overrides") or []}
        if check in applied:
            raise OverrideError(f"{where}: {student}'s override targets {check!r}, which no longer exists")
        raise OverrideError(f"{where}: unknown check or step {check!r} (python -m grader rubric lists the checks)")
    try:
        value = float(points)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise OverrideError(f"{where}: points must be a number such as 2 or -1.5, not {points!r}")
    if not reason:
        raise OverrideError(f"{where}: every override needs a reason (the student sees it)")
    return Override(student, check, steps_of[check], value, reason, author)


def apply_overrides(results: dict, overrides: Iterable[Override]) -> dict:
    """`results` (a results.json document) with `overrides` recorded and added to its score; returns it."""
    extra = results.setdefault("extra_data", {})
    graded = extra.setdefault("graded_score", results.get("score", 0.0))
    extra["overrides"] = [o.record() for o in overrides]
    results["score"] = round(graded + sum(o["points"] for o in extra["overrides"]), 4)
    return results


def override_points(results: dict) -> dict[str, float]:
    """step → the points a results.json's overrides add to it (steps without any are absent)."""
    added: dict[str, float] = {}
    for override in (results.get("extra_data") or {}).get("overrides") or []:
        added[override["step"]] = added.get(override["step"], 0.0) + float(override["points"])
    return added
