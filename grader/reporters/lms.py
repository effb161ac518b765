"""Grades into the LMS: a class's OUT_DIR/grades.csv as the import file of Canvas or Moodle.

A roster maps the class folder's names to LMS identities: a CSV file with a `student` column (the
folder's name) and any of ROSTER_COLUMNS. Canvas's gradebook import reads the columns of its own
export: Student, ID, SIS User ID, SIS Login ID, Section, then one column per assignment headed
`Name (id)` (a name without an id makes Canvas create the assignment), with a "Points Possible" row
under the header. Moodle's CSV grade import maps one column to a user field (here "Email address" or
"ID number") and another to the grade item. A roster student with no row in grades.csv gets an
explicit 0; a graded student missing from the roster is left out; both are listed. Text cells that
could start a spreadsheet formula get a leading `'`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from grader.files import write_atomically
from grader.text import csv_cell, csv_text

LMS = ("canvas", "moodle")
ROSTER_COLUMNS = ("student", "name", "canvas_id", "sis_user_id", "sis_login_id", "section", "email", "id_number")
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
"""Canvas's gradebook CSV, before the assignment columns, filled from the roster's columns below."""
CANVAS_FROM_ROSTER = ("name", "canvas_id", "sis_user_id", "sis_login_id", "section")
CANVAS_IDS = ("canvas_id", "sis_user_id", "sis_login_id")
"""Canvas matches a row to a user by one of these: every roster row needs one."""
POINTS_POSSIBLE = "    Points Possible"
MOODLE_KEYS = {"email": "Email address", "id_number": "ID number"}
"""The roster column that identifies a Moodle user → its header, as Moodle's own export names it."""


class ExportError(Exception):
    """A roster or gradebook that cannot be exported; the message is one line for the instructor."""


@dataclass(frozen=True)
class Export:
    path: Path
    absent: list[str]
    """Roster students with no submission: exported with 0."""
    unlisted: list[str]
    """Graded students missing from the roster: left out."""


def read_roster(path: Path, needed: tuple[str, ...], *, any_of: tuple[str, ...] = ()) -> dict[str, dict[str, str]]:
    """student → their roster row; each row fills `student`, the `needed` columns and one of `any_of`."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            reader.fieldnames = header = [c.strip() for c in reader.fieldnames or []]
            lines = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ExportError(f"cannot read roster {path}: {exc}") from None
    if unknown := sorted(set(header) - set(ROSTER_COLUMNS)):
        raise ExportError(f"roster {path}: unknown columns {unknown}; the columns are {', '.join(ROSTER_COLUMNS)}")
    missing = [c for c in ("student", *needed) if c not in header]
    if missing or (any_of and not set(any_of) & set(header)):
        either = f" and one of {', '.join(any_of)}" if any_of else ""
        raise ExportError(f"roster {path}: needs the columns {', '.join(('student', *needed))}{either}")
    roster: dict[str, dict[str, str]] = {}
    for number, line in enumerate(lines, start=2):
        row = {k: (v or "").strip() for k, v in line.items() if k}
        empty = [c for c in ("student", *needed) if not row.get(c)]
        if empty or (any_of and not any(row.get(c) for c in any_of)):
            raise ExportError(f"roster {path} line {number}: no {' or '.join(empty or any_of)}")
        if row["student"] in roster:
            raise ExportError(f"roster {path} line {number}: {row['student']!r} is listed twice")
        roster[row["student"]] = row
    return roster


def read_gradebook(out: Path) -> tuple[dict[str, float], float]:
    """(student → total, the maximum) from OUT_DIR/grades.csv."""
    try:
        with (out / "grades.csv").open(newline="") as handle:
            lines = list(csv.DictReader(handle))
    except (OSError, csv.Error) as exc:
        raise ExportError(f"no gradebook in {out}: grade the class first ({exc})") from None
    totals = {csv_text(line["student"]): float(line["total"]) for line in lines}
    return totals, max((float(line["max"]) for line in lines if line["max"]), default=0.0)


def export(
    out: Path, lms: str, roster_path: Path, assignment: str, *, assignment_id: str = "", key: str = "email"
) -> Export:
    """Write OUT_DIR/<lms>.csv from OUT_DIR/grades.csv and the roster; say who is absent or unlisted."""
    if lms not in LMS:
        raise ExportError(f"unknown LMS {lms!r}: use one of {', '.join(LMS)}")
    if lms == "moodle" and key not in MOODLE_KEYS:
        raise ExportError(f"unknown Moodle key {key!r}: use one of {', '.join(MOODLE_KEYS)}")
    if not assignment.strip():
        raise ExportError("--assignment needs a name")
    totals, top = read_gradebook(out)
    if lms == "canvas":
        roster = read_roster(roster_path, ("name",), any_of=CANVAS_IDS)
        title = f"{assignment} ({assignment_id})" if assignment_id else assignment
        header = [*CANVAS_COLUMNS, csv_cell(title)]
        lines = [[POINTS_POSSIBLE, "", "", "", "", f"{top:g}"]]
        for student, row in roster.items():
            lines.append([*(csv_cell(row.get(c, "")) for c in CANVAS_FROM_ROSTER), f"{totals.get(student, 0):g}"])
    else:
        roster = read_roster(roster_path, (key,))
        header = [MOODLE_KEYS[key], csv_cell(assignment)]
        lines = [[csv_cell(r[key]), f"{totals.get(s, 0):g}"] for s, r in roster.items()]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows([header, *lines])
    path = out / f"{lms}.csv"
    write_atomically(path, buffer.getvalue())
    return Export(path, sorted(set(roster) - set(totals)), sorted(set(totals) - set(roster)))
