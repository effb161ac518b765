"""Speed must not change a verdict: every corpus, graded now, reads as tests/corpus/verdicts.json
recorded (each check's status, score and message with its shrunk counterexample, the mistakes and
rule findings named). To change what students read on purpose, re-record with
`.venv/bin/python tests/golden.py` and say why in the commit."""

from __future__ import annotations

import json

import pytest
from golden import GOLDEN, verdict


@pytest.fixture(scope="module")
def recorded() -> dict[str, dict]:
    return json.loads(GOLDEN.read_text())


def test_every_corpus_case_is_recorded(graded_corpora, recorded):
    assert sorted(graded_corpora) == sorted(recorded)


def test_verdicts_are_as_recorded(graded_corpora, recorded):
    changed = {}
    for student, row in graded_corpora.items():
        now, then = json.loads(json.dumps(verdict(row))), recorded.get(student)
        if now != then:
            changed[student] = [(a, b) for a, b in zip(now["tests"], (then or {}).get("tests", [])) if a != b] or (
                now,
                then,
            )
    assert not changed, changed
