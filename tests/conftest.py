"""Shared set-up for the kit's own tests: deterministic hypothesis, paths to corpora."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
settings.load_profile("ci")

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus"


def corpus_files(kind: str) -> list[Path]:
    return sorted((CORPUS / kind).glob("*.py"))


def corpus_source(path: Path) -> str:
    """The whole submission a corpus file stands for: a bugs, real or hostile file holds only what
    differs from the reference, so it goes on top of the reference source (the later
    definitions replace the reference ones); a correct file is a whole rewrite already."""
    from grader import reference

    text = path.read_text()
    return reference.source_with(text) if path.parent.name in ("bugs", "real", "hostile") else text


def header(path: Path) -> dict[str, str]:
    """The `key: value` lines of a corpus file's docstring (step, diagnosis, expect, …)."""
    doc = path.read_text().split('"""')[1]
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in doc.splitlines()[1:]) if v}


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


class Process(NamedTuple):
    parent: int
    start: str
    """Start time in clock ticks since boot: with the pid, it names one process (pids get reused)."""
    uid: int


def live_processes() -> dict[int, Process]:
    """Every live (non-zombie) process, as /proc lists it."""
    found = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            if fields[0] != "Z":
                found[int(entry)] = Process(int(fields[1]), fields[19], os.stat(f"/proc/{entry}").st_uid)
        except (OSError, IndexError, ValueError):
            pass
    return found


def processes_of(uids: range) -> list[int]:
    """Pids of live processes running as one of `uids`."""
    return [pid for pid, process in live_processes().items() if process.uid in uids]


@pytest.fixture(scope="session")
def graded_corpora(tmp_path_factory):
    """tests/corpus/{bugs,correct,real}, graded in one class run (see tests/golden.py): student → row."""
    from golden import grade_corpora

    return grade_corpora(tmp_path_factory.mktemp("corpora"))
