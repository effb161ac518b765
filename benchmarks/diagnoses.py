"""How often the grader names the right mistake: every corpus case through the real grader, its
named diagnoses against the one its header expects.

    .venv/bin/python benchmarks/diagnoses.py            # writes the "Diagnosis accuracy" section of results.md
    .venv/bin/python benchmarks/diagnoses.py --print    # only prints it

A case is *right* when exactly its expected diagnosis is named (or, expecting none, nothing is),
*wrong* when another diagnosis is named, and *none* when a nameable mistake went unnamed. The
target: 0 wrong, and at least 90% right among the cases that have a nameable mistake.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).with_name("results.md")
KINDS = ("real", "bugs")
BEGIN, END = "<!-- diagnoses: begin -->", "<!-- diagnoses: end -->"


def cases() -> list[tuple[str, Path]]:
    """(corpus kind, file) for every case that states a diagnosis."""
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import corpus_files, header

    return [(kind, path) for kind in KINDS for path in corpus_files(kind) if "diagnosis" in header(path)]


def grade_all(found: list[tuple[str, Path]]) -> dict[str, set[str]]:
    """Each case's named diagnoses, from one class run of the real grader."""
    from conftest import corpus_source

    from grader.frontends.classroom import Settings, grade_class

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "class"
        folder.mkdir()
        for kind, path in found:
            (folder / f"{kind}-{path.stem}.py").write_text(corpus_source(path))
        rows = grade_class(folder, Settings(Path(tmp) / "out"), jobs=2)
    return {row.student: set(row.results.get("extra_data", {}).get("diagnoses", [])) for row in rows}


def verdict(fields: dict[str, str], named: set[str]) -> str:
    """right, wrong or none, for a case's header `fields`: its diagnosis, the other mistakes it makes
    (`also`), and the rules it breaks (`rules`, named by the rule's name: not diagnoses)."""
    expected = fields["diagnosis"]
    listed = {name.strip() for key in ("also", "rules") for name in fields.get(key, "").split(",") if name.strip()}
    named = named - listed - {rule.split(".")[-1] for rule in listed}
    if expected == "none":
        return "right" if not named else "wrong"
    if named - {expected}:
        return "wrong"
    return "right" if expected in named else "none"


def section(found: list[tuple[str, Path]], named: dict[str, set[str]]) -> str:
    from conftest import header

    rows, tally = [], {"right": 0, "wrong": 0, "none": 0}
    nameable = {"right": 0, "all": 0}
    for kind, path in found:
        expected = header(path)["diagnosis"]
        got = named.get(f"{kind}-{path.stem}", set())
        outcome = verdict(header(path), got)
        tally[outcome] += 1
        if expected != "none":
            nameable["all"] += 1
            nameable["right"] += outcome == "right"
        if outcome != "right":
            rows.append(f"| {kind}/{path.name} | {expected} | {', '.join(sorted(got)) or '–'} | {outcome} |")
    share = 100 * nameable["right"] / max(nameable["all"], 1)
    lines = [
        BEGIN,
        "## Diagnosis accuracy",
        "",
        f"`.venv/bin/python benchmarks/diagnoses.py`: {len(found)} cases of tests/corpus/{{{','.join(KINDS)}}}. "
        f"Right {tally['right']}, wrong {tally['wrong']}, none {tally['none']}; "
        f"{nameable['right']}/{nameable['all']} ({share:.0f}%) of the cases with a nameable mistake named right "
        "(target: 0 wrong, ≥ 90% right).",
        "",
    ]
    if rows:
        lines += ["| case | expected | named | outcome |", "|---|---|---|---|", *rows, ""]
    return "\n".join([*lines, END])


def write(text: str) -> None:
    old = RESULTS.read_text() if RESULTS.is_file() else ""
    if BEGIN in old and END in old:
        new = old[: old.index(BEGIN)] + text + old[old.index(END) + len(END) :]
    else:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    RESULTS.write_text(new)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--print", action="store_true", help="print the section instead of writing results.md")
    args = parser.parse_args()
    found = cases()
    text = section(found, grade_all(found))
    print(text)
    if not args.print:
        write(text)
    return 0 if ", wrong 0, " in text else 1


if __name__ == "__main__":
    sys.exit(main())
