"""Points and visibility per check: each check declares its defaults (`@check(points=…)`), and an
instructor-editable TOML file overrides them, and nothing else.

    "mse.loss_properties" = { points = 4 }              # worth 4 instead of its default
    "step.keeps_contract" = { visibility = "hidden" }   # students see only its name and points
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

DEFAULT_RUBRIC = Path(__file__).with_name("rubric.toml")
VISIBILITIES = ("public", "hidden")


class RubricError(Exception):
    """A rubric that does not fit the checks; the message is one line for the instructor."""


@dataclass(frozen=True)
class Entry:
    points: float
    visibility: str
    overridden: bool = False
    """Whether the rubric file sets this entry (else it is the check's declared default)."""

    @property
    def hidden(self) -> bool:
        return self.visibility == "hidden"


def parse_overrides(text: str, source: str | Path = DEFAULT_RUBRIC) -> dict[str, dict]:
    """A rubric file's table, check id → {points and/or visibility}, checked for shape only."""
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RubricError(f"cannot read rubric {source}: {exc}") from exc
    for check_id, entry in table.items():
        if not isinstance(entry, dict) or not entry or set(entry) - {"points", "visibility"}:
            raise RubricError(f"rubric {source}: {check_id} may set only points and visibility, e.g. {{ points = 2 }}")
        if "visibility" in entry and entry["visibility"] not in VISIBILITIES:
            raise RubricError(f"rubric {source}: {check_id} needs visibility = one of {VISIBILITIES}")
        points = entry.get("points", 0)
        if isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0:
            raise RubricError(f"rubric {source}: {check_id} needs points ≥ 0")
    return table


def read_rubric_text(path: str | Path | None = None) -> str:
    """The rubric file's text (grader/rubric.toml by default)."""
    path = Path(path) if path else DEFAULT_RUBRIC
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise RubricError(f"cannot read rubric {path}: {exc}") from exc


def apply_overrides(overrides: dict[str, dict], source: str | Path = DEFAULT_RUBRIC) -> dict[str, Entry]:
    """Every registered check's entry: its declared points and visibility, with `overrides` applied."""
    from grader.checks.model import checks_for

    checks = {c.id: c for c in checks_for()}
    unknown = sorted(set(overrides) - set(checks))
    if unknown:
        raise RubricError(f"rubric {source}: unknown checks {unknown}; the checks are {sorted(checks)}")
    rubric = {}
    for check_id, check in checks.items():
        entry = overrides.get(check_id, {})
        visibility = entry.get("visibility", "hidden" if check.hidden else "public")
        if check.uses_reference and visibility != "hidden":
            raise RubricError(f"rubric {source}: {check_id} uses the reference solution: it must stay hidden")
        rubric[check_id] = Entry(float(entry.get("points", check.points)), visibility, check_id in overrides)
    return rubric


def load_rubric(path: str | Path | None = None) -> dict[str, Entry]:
    """The effective rubric: every registered check's defaults, with the rubric file's overrides."""
    source = path or DEFAULT_RUBRIC
    return apply_overrides(parse_overrides(read_rubric_text(path), source), source)
