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

    @property
    def hidden(self) -> bool:
        return self.visibility == "hidden"


def read_overrides(path: str | Path | None = None) -> dict[str, dict]:
    """The rubric file's table, check id → {points and/or visibility}, checked for shape only."""
    path = Path(path) if path else DEFAULT_RUBRIC
    try:
        table = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RubricError(f"cannot read rubric {path}: {exc}") from exc
    for check_id, entry in table.items():
        if not isinstance(entry, dict) or not entry or set(entry) - {"points", "visibility"}:
            raise RubricError(f"rubric {path}: {check_id} may set only points and visibility, e.g. {{ points = 2 }}")
        if "visibility" in entry and entry["visibility"] not in VISIBILITIES:
            raise RubricError(f"rubric {path}: {check_id} needs visibility = one of {VISIBILITIES}")
        points = entry.get("points", 0)
        if isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0:
            raise RubricError(f"rubric {path}: {check_id} needs points ≥ 0")
    return table


def load_rubric(path: str | Path | None = None) -> dict[str, Entry]:
    """Every registered check's entry: its declared points and visibility, with the file's overrides."""
    from grader.checks.model import checks_for

    overrides = read_overrides(path)
    checks = {c.id: c for c in checks_for()}
    unknown = sorted(set(overrides) - set(checks))
    if unknown:
        raise RubricError(f"rubric {path or DEFAULT_RUBRIC}: unknown checks {unknown}; the checks are {sorted(checks)}")
    rubric = {}
    for check_id, check in checks.items():
        entry = overrides.get(check_id, {})
        visibility = entry.get("visibility", "hidden" if check.hidden else "public")
        if check.uses_reference and visibility != "hidden":
            raise RubricError(
                f"rubric {path or DEFAULT_RUBRIC}: {check_id} uses the reference solution: it must stay hidden"
            )
        rubric[check_id] = Entry(float(entry.get("points", check.points)), visibility)
    return rubric
