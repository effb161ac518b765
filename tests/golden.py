"""Every corpus's verdicts, as the grader gave them: the record that a change of speed must keep.

    .venv/bin/python tests/golden.py        # grade tests/corpus/{bugs,correct,real} and write verdicts.json

A verdict here is every check's status, score and message (the shrunk counterexample with it),
and the mistakes and rule findings named: all that a student reads. tests/test_verdicts.py grades
the same class and compares; a change that means to alter what students read re-records this file
and says why in its commit.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import CORPUS, corpus_files, corpus_source  # noqa: E402

from grader.frontends.classroom import Row, Settings, grade_class  # noqa: E402
from grader.sandbox.client import Limits  # noqa: E402

GOLDEN = CORPUS / "verdicts.json"
KINDS = ("bugs", "correct", "real")
LIMITS = Limits(call_timeout_s=2.0, import_timeout_s=4.0, step_timeout_s=10.0, submission_timeout_s=60.0)


def student(path: Path) -> str:
    return f"{path.parent.name}-{path.stem}"


def grade_corpora(workdir: Path) -> dict[str, Row]:
    """Every case of the corpora in KINDS, graded in one class run: student → row."""
    folder = workdir / "class"
    folder.mkdir()
    for kind in KINDS:
        for path in corpus_files(kind):
            (folder / f"{student(path)}.py").write_text(corpus_source(path))
    return {row.student: row for row in grade_class(folder, Settings(workdir / "out", limits=LIMITS), jobs=2)}


def verdict(row: Row) -> dict:
    """What a student reads of one graded submission."""
    extra = row.results.get("extra_data", {})
    return {
        "status": row.status,
        "score": row.results.get("score"),
        "tests": [[t["name"], t["status"], t["score"], t.get("output", "")] for t in row.results.get("tests", [])],
        "diagnoses": extra.get("diagnoses"),
        "policy": extra.get("policy"),
    }


def verdicts(rows: dict[str, Row]) -> dict[str, dict]:
    return {name: verdict(row) for name, row in sorted(rows.items())}


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        found = verdicts(grade_corpora(Path(tmp)))
    GOLDEN.write_text(json.dumps(found, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {GOLDEN}: {len(found)} submissions")
