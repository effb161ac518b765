"""Shared set-up for the kit's own tests: deterministic hypothesis, paths to corpora."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
settings.load_profile("ci")

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus"


def corpus_files(kind: str) -> list[Path]:
    return sorted((CORPUS / kind).glob("*.py"))


def header(path: Path) -> dict[str, str]:
    """The `key: value` lines of a corpus file's docstring (step, diagnosis, expect, …)."""
    doc = path.read_text().split('"""')[1]
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in doc.splitlines()[1:]) if v}


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


def processes_of(uids: range) -> list[int]:
    """Pids of live (non-zombie) processes running as one of `uids`."""
    pids = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and os.stat(f"/proc/{entry}").st_uid in uids:
                if Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                    pids.append(int(entry))
        except (OSError, IndexError):
            pass
    return pids
