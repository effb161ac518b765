"""Points and visibility per check, read from an instructor-editable TOML file."""

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


def load_rubric(path: str | Path | None = None, check_ids: list[str] | None = None) -> dict[str, Entry]:
    """Read a rubric; with `check_ids`, insist that it covers exactly those checks."""
    path = Path(path) if path else DEFAULT_RUBRIC
    try:
        table = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RubricError(f"cannot read rubric {path}: {exc}") from exc
    rubric = {}
    for check_id, entry in table.items():
        if not isinstance(entry, dict) or entry.get("visibility") not in VISIBILITIES:
            raise RubricError(f"rubric {path}: {check_id} needs visibility = one of {VISIBILITIES}")
        points = entry.get("points")
        if not isinstance(points, (int, float)) or points < 0:
            raise RubricError(f"rubric {path}: {check_id} needs points ≥ 0")
        rubric[check_id] = Entry(float(points), entry["visibility"])
    if check_ids is not None:
        missing, unknown = set(check_ids) - set(rubric), set(rubric) - set(check_ids)
        if missing or unknown:
            raise RubricError(f"rubric {path}: no entry for {sorted(missing)}; unknown checks {sorted(unknown)}")
    return rubric
