"""Shared set-up for the kit's own tests: deterministic hypothesis, paths to corpora."""

from __future__ import annotations

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
