"""The check model: what a check is, what it yields and gets back, and how it says what went wrong.

A check is a generator function over one example. It yields a list of `Call`s, gets back
the list of returned values, may yield again (for multi-step checks), and judges by raising
`Failure`. `@check` registers it; `checks_for` lists the registered checks in step order.

    @check("mse", "equals torch.nn.functional.mse_loss", examples=pairs())
    def matches_mse_loss(ex):
        preds, targets = ex
        (got,) = yield [Call("mse", (preds, targets))]
        expect_close(got, F.mse_loss(preds, targets), ...)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hypothesis import strategies as st

from grader.sandbox.protocol import Call
from grader.text import MAX_MESSAGE_CHARS, bounded

if TYPE_CHECKING:
    from grader.checks.rules import Rule

__all__ = [
    "Call",
    "Check",
    "Failure",
    "Mistake",
    "Outcome",
    "Raw",
    "check",
    "checks_for",
    "diagnoses",
    "filled",
    "mistakes",
]

CheckBody = Callable[[Any], Generator[list[Call], list[Any], None]]


class Failure(AssertionError):
    """A check's verdict on one example: what went wrong, and, when recognised, why."""

    def __init__(
        self, message: str, *, diagnosis: str | None = None, hint: str | None = None, ratio: float | None = None
    ):
        message = bounded(message)
        super().__init__(message)
        self.message = message
        self.diagnosis = diagnosis
        self.hint = hint
        self.ratio = ratio
        """The answer as a multiple of the right one, where it is one."""


class NotImplementedYet(Failure):
    """The function still raises NotImplementedError: the step is not started."""


class Unrecoverable(Failure):
    """The worker timed out or crashed: no point searching for a smaller example."""


DIAGNOSES: dict[str, dict[str, str]] = {}
"""Every mistake a check can name, declared by its step's module: step → {diagnosis id → what the
student is told} (`…` stands for the values a message quotes). The class report reads it."""


def diagnoses(step: str, **messages: str) -> dict[str, str]:
    """Register the mistakes that `step`'s checks can name, as id=message; returns the messages."""
    DIAGNOSES.setdefault(step, {}).update(messages)
    return messages


def filled(message: str, *values: object) -> str:
    """A registered message as the student is told it: each `…` in turn replaced by one of `values`."""
    parts = message.split("…")
    if len(parts) != len(values) + 1:
        raise ValueError(f"{message!r} has {len(parts) - 1} blanks for {len(values)} values")
    return "".join(part + str(value) for part, value in zip(parts, values)) + parts[-1]


@dataclass(frozen=True)
class Mistake:
    """A common wrong answer: `wrong(*inputs)` computes what the mistake would return."""

    id: str
    message: str
    wrong: Callable[..., Any]


def mistakes(step: str, *found: Mistake) -> tuple[Mistake, ...]:
    """Register a step's `Mistake`s as its diagnoses; returns them."""
    diagnoses(step, **{mistake.id: mistake.message for mistake in found})
    return found


@dataclass(frozen=True)
class Check:
    step: str
    name: str
    title: str
    body: CheckBody
    examples: st.SearchStrategy | None
    max_examples: int
    points: float
    hidden: bool
    uses_reference: bool = False
    rule: Rule | None = None
    """Set for a rule's check (`checks.rules`): judged from the source, never by running `body`."""

    @property
    def id(self) -> str:
        return f"{self.step}.{self.name}"


@dataclass
class Outcome:
    check: Check
    passed: bool
    message: str = ""
    diagnosis: str | None = None
    hint: str | None = None
    not_implemented: bool = False
    seconds: float = 0.0
    apis: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    """(function, torch function) pairs the worker says its watched calls used: supporting evidence."""
    findings: list[dict] = dataclasses.field(default_factory=list)
    """A rule's evidence: {step, function, api, line, evidence} each (results.json's extra_data.policy)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("message", "hint") and isinstance(value, str):
            value = bounded(value)  # every way an outcome gets its text: no check can forget the bound
        super().__setattr__(name, value)

    @property
    def feedback(self) -> str:
        """The message and the hint, at most `MAX_MESSAGE_CHARS` together (the hint is kept whole)."""
        if not self.hint:
            return self.message
        if not self.message:
            return self.hint
        return bounded(self.message, max(MAX_MESSAGE_CHARS - len(self.hint) - 1, 0)) + "\n" + self.hint


REGISTRY: list[Check] = []
HIDDEN_PACKAGE = "grader.checks.hidden"
"""Where hidden checks are declared: the student release is the kit without this package."""


def check(
    step: str,
    title: str,
    *,
    points: float,
    hidden: bool = False,
    examples: st.SearchStrategy | None = None,
    max_examples: int = 25,
    uses_reference: bool = False,
) -> Callable[[CheckBody], CheckBody]:
    """Register a check of `step`, worth `points` by default (rubric.toml may override them and
    the visibility). A hidden check, and every check that uses the reference, lives in
    grader/checks/hidden/, which the student release leaves out. With `examples=None` the body
    runs once with `None`."""

    def register(body: CheckBody) -> CheckBody:
        if (hidden or uses_reference) and not body.__module__.startswith(HIDDEN_PACKAGE):
            raise TypeError(
                f"{step}.{body.__name__} is hidden: declare it in grader/checks/hidden/{step}.py, "
                "the folder the student release leaves out"
            )
        REGISTRY.append(
            Check(
                step=step,
                name=body.__name__,
                title=title,
                body=body,
                examples=examples,
                max_examples=max_examples,
                points=float(points),
                hidden=hidden or uses_reference,
                uses_reference=uses_reference,
            )
        )
        return body

    return register


def checks_for(steps: Iterable[str] | None = None) -> list[Check]:
    """Registered checks, in step order, optionally of some steps only."""
    from grader import checks as _  # noqa: F401 - importing registers every step's checks
    from grader.contract import STEPS

    wanted = set(steps) if steps is not None else set(STEPS)
    chosen = [c for c in REGISTRY if c.step in wanted]
    return sorted(chosen, key=lambda c: STEPS.index(c.step))


class Raw(list):
    """Yield `Raw([...calls])` to get back the `Result`s themselves (e.g. to see `mutated`); its
    calls are watched (`Call.watch`), so `mutated` is judged by the trusted side."""

    def __init__(self, calls: Iterable[Call] = ()) -> None:
        super().__init__(dataclasses.replace(call, watch=True) for call in calls)
