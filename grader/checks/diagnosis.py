"""Diagnoses from all the evidence: a mistake is named only when it explains every example a check ran.

A check body judges one example at a time. Where it knows what a mistake would return, it says so
with `observe` (judged lazily, only if the check fails); where it recognises a mistake itself, it
raises `Failure(..., diagnosis=id)`. The runner keeps one `Record` per example, the shrinking
search's included, and `diagnose` names the one mistake that fits them all: every failing example
shows it, and no passing example contradicts it. One shrunk example can never decide, since
shrinking drives toward inputs where different mistakes coincide.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from grader.checks.model import Failure

Judgement = tuple[str, bool, bool]
"""(mistake id, fits: the answer is what the mistake gives, shows: that differs from the right answer)."""


@dataclass
class Record:
    """One example a check ran: its failure (None if it passed) and what it observed about mistakes."""

    failure: Failure | None = None
    observed: list[Callable[[], Iterable[Judgement]]] = field(default_factory=list)
    apis: set[tuple[str, str]] = field(default_factory=set)
    """(function, torch function) pairs its watched calls reported (`Result.apis`)."""
    _judged: dict[str, tuple[bool, bool]] | None = None

    def judgements(self) -> dict[str, tuple[bool, bool]]:
        """Mistake id → (fits, shows), over everything the example observed."""
        if self._judged is None:
            self._judged = {}
            for judge in self.observed:
                for mistake, fits, shows in judge():
                    was_fit, was_shown = self._judged.get(mistake, (True, False))
                    self._judged[mistake] = (was_fit and fits, was_shown or shows)
        return self._judged

    def supports(self, mistake: str) -> bool:
        """Whether this failing example shows `mistake`: its answer is the mistake's, and wrong."""
        if self.failure is not None and self.failure.diagnosis == mistake:
            return True
        return self.judgements().get(mistake, (False, False)) == (True, True)

    def singles_out(self, mistake: str) -> bool:
        """Whether this failing example shows `mistake` and no other mistake it judged."""
        others = set(self.judgements()) - {mistake}
        return self.supports(mistake) and not any(self.supports(other) for other in others)

    def contradicts(self, mistake: str) -> bool:
        """Whether this example rules `mistake` out."""
        if self.failure is not None:
            return not self.supports(mistake)
        fits, _ = self.judgements().get(mistake, (True, False))
        return not fits


_CURRENT: list[Record] = []


@contextlib.contextmanager
def recording(record: Record) -> Iterator[None]:
    """While the body judges one example, `observe` adds to `record`."""
    _CURRENT.append(record)
    try:
        yield
    finally:
        _CURRENT.pop()


def observe(judge: Callable[[], Iterable[Judgement]]) -> None:
    """Note what `judge()` says about each mistake on the example being judged (outside a run: nothing)."""
    if _CURRENT:
        _CURRENT[-1].observed.append(judge)


def diagnose(records: list[Record]) -> str | None:
    """The one mistake that every failing example shows and no example contradicts, if there is one."""
    failing = [r for r in records if r.failure is not None]
    candidates = {m for r in failing for m in r.judgements()} | {r.failure.diagnosis for r in failing}
    named = [m for m in sorted(candidates - {None}) if not any(r.contradicts(m) for r in records)]
    return named[0] if failing and len(named) == 1 else None


def shown(records: list[Record], mistake: str | None, preferred: Record | None) -> Record | None:
    """The failing example to show: `preferred` (the shrunk one) when it singles `mistake` out, else
    the failing example with the shortest message that does (or, failing that, that shows it)."""
    failing = [r for r in records if r.failure is not None]
    if mistake is None:
        return preferred or (failing[0] if failing else None)
    for fits in (Record.singles_out, Record.supports):
        if preferred is not None and fits(preferred, mistake):
            return preferred
        candidates = [r for r in failing if fits(r, mistake)]
        if candidates:
            return min(candidates, key=lambda r: len(r.failure.message))
    return preferred
