"""Hostile returned values, fed to the checks in-process: messages stay short and judging stays fast."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest
import torch

from grader.checks.expect import fmt
from grader.checks.model import Outcome, checks_for
from grader.checks.runner import run_check
from grader.frontends.grade import Report
from grader.reporters import plots
from grader.reporters.html import feedback_html
from grader.sandbox.protocol import Call, Result
from grader.text import MAX_MESSAGE_CHARS, TRUNCATED

SECONDS = 5.0
"""A generous bound on judging one check against one hostile value."""


class Hostile:
    """A submission whose every call to `fn` gives back `make(call)`; other functions are missing."""

    def __init__(self, fn: str, make: Callable[[Call], Result]):
        self.fn, self.make = fn, make

    def run(self, calls: Sequence[Call], *, judging: str | None = None) -> list[Result]:
        return [self.make(c) if c.fn == self.fn else Result(error_type="MissingFunction", error="") for c in calls]


def returning(value: Any) -> Callable[[Call], Result]:
    def make(call: Call) -> Result:
        return Result(value=[value] * call.repeat if call.repeat > 1 else value)

    return make


def judged(step: str, fn: str, make: Callable[[Call], Result]) -> list[tuple[Outcome, float]]:
    """Every check of `step` against the hostile `fn`, each with its time in seconds (not the rules:
    they read the source, and these results come with none)."""
    submission = Hostile(fn, make)
    out = []
    for check_ in (c for c in checks_for([step]) if c.rule is None):
        start = time.perf_counter()
        outcome = run_check(check_, submission, shrink_budget_s=0.2)
        out.append((outcome, time.perf_counter() - start))
    return out


def assert_bounded(results: list[tuple[Outcome, float]]) -> None:
    for outcome, seconds in results:
        assert seconds < SECONDS, (outcome.check.id, seconds)
        assert len(outcome.message) <= MAX_MESSAGE_CHARS, outcome.check.id
        assert len(outcome.feedback) <= MAX_MESSAGE_CHARS, outcome.check.id


def outcome_of(results: list[tuple[Outcome, float]], name: str) -> Outcome:
    return next(o for o, _ in results if o.check.name == name)


def test_one_batch_of_a_million_repeated_indices_is_judged_fast():
    results = judged("minibatch", "minibatches", returning([torch.zeros(10**6, dtype=torch.int64)]))
    assert_bounded(results)
    partition = outcome_of(results, "epoch_is_partition")
    assert not partition.passed and partition.diagnosis == "with_replacement"
    assert "repeats rows [0]" in partition.message


def test_a_five_million_element_batch_is_judged_fast():
    results = judged("minibatch", "minibatches", returning([torch.arange(5_000_000)]))
    assert_bounded(results)
    partition = outcome_of(results, "epoch_is_partition")
    assert not partition.passed and "outside 0.." in partition.message
    uniform = outcome_of(results, "shuffles_uniformly")
    assert not uniform.passed and "shape (5000000,)" in uniform.message


def test_a_million_batches_are_judged_on_bounded_evidence():
    results = judged("minibatch", "minibatches", returning(list(torch.arange(10**6).split(1))))
    assert_bounded(results)
    assert not any(o.passed for o, _ in results)
    assert "gives 1000000 batches" in outcome_of(results, "unshuffled_in_order").message
    repeated = judged("minibatch", "minibatches", returning([torch.zeros(1, dtype=torch.int64)] * 10**6))
    assert_bounded(repeated)
    assert outcome_of(repeated, "epoch_is_partition").diagnosis == "with_replacement"


def test_an_mse_of_five_million_elements_fails_on_its_shape():
    results = judged("mse", "mse", returning(torch.ones(5_000_000)))
    assert_bounded(results)
    assert all(not o.passed and "shape (5000000,)" in o.message for o, _ in results)


def test_a_megabyte_error_message_is_cut():
    huge = Result(error_type="ValueError", error="x" * 2**20)
    results = judged("mse", "mse", lambda call: huge)
    assert_bounded(results)
    assert all(not o.passed and "raised ValueError" in o.message and TRUNCATED in o.message for o, _ in results)


def test_a_huge_error_type_and_unsupported_value_are_cut():
    results = judged("predict", "predict", lambda call: Result(error_type="E" * 2**20, error="boom"))
    assert_bounded(results)
    assert all(not o.passed for o, _ in results)


def test_a_million_entry_history_fails_fast():
    def make(call: Call) -> Result:
        X = call.args[0]
        return Result(value=(torch.zeros(X.shape[1], dtype=X.dtype), torch.zeros((), dtype=X.dtype), [0.5] * 10**6))

    results = judged("train", "train", make)
    assert_bounded(results)
    assert "history has 1000000 entries" in outcome_of(results, "keeps_contract").message


@pytest.mark.parametrize(
    "value",
    [
        torch.arange(5_000_000),
        torch.zeros(3000, 3000),
        torch.zeros(50, 50, 50, 50),
        list(range(10**6)),
        [[list(range(1000))] * 1000] * 10,
        "s" * 2**20,
        {f"k{i}": torch.zeros(10**5) for i in range(1000)},
        functools.reduce(lambda inner, _: {str(i): inner for i in range(6)}, range(30), {}),
        10**100_000,
    ],
    ids=["5M", "3000x3000", "4-D", "list", "nested", "string", "dict", "deep-dict", "bigint"],
)
def test_fmt_is_short_and_converts_only_what_it_shows(value, monkeypatch):
    converted = []
    tolist = torch.Tensor.tolist

    def counting(self: torch.Tensor) -> Any:
        converted.append(self.numel())
        return tolist(self)

    monkeypatch.setattr(torch.Tensor, "tolist", counting)
    start = time.perf_counter()
    text = fmt(value, 12)
    assert time.perf_counter() - start < 1.0
    assert len(text) <= MAX_MESSAGE_CHARS
    assert max(converted, default=0) <= 12


def test_fmt_summarises_like_torch_print_options():
    assert fmt(torch.arange(5_000_000)) == "[0, 1, 2, …, 4999997, 4999998, 4999999] (shape (5000000,))"
    assert fmt(torch.tensor([1.0, 2.5])) == "[1, 2.5]"
    assert fmt(list(range(8))) == "[0, 1, 2, …, 5, 6, 7] (8 items)"
    assert fmt([1, 2]) == "[1, 2]"


def test_outcome_text_is_bounded_wherever_it_is_set():
    check_ = checks_for(["mse"])[0]
    outcome = Outcome(check=check_, passed=False, message="m" * 2**20, hint="Drop the square root.")
    assert len(outcome.message) == MAX_MESSAGE_CHARS and outcome.message.endswith(TRUNCATED)
    assert len(outcome.feedback) <= MAX_MESSAGE_CHARS and outcome.feedback.endswith("\nDrop the square root.")
    outcome.message = "x" * 10**5
    assert len(outcome.message) == MAX_MESSAGE_CHARS


def test_feedback_page_bounds_the_load_error_and_name():
    report = Report(submission="n" * 10**5, graded=[], seed=0, device="cpu", layers=[], load_error="<e>" * 2**18)
    html = feedback_html(report, plot_data={})
    assert len(html) < 20_000 and TRUNCATED in html


def test_plots_keep_a_bounded_number_of_points():
    def make(call: Call) -> Result:
        X = call.args[0]
        return Result(value=(torch.zeros(X.shape[1], dtype=X.dtype), torch.zeros(()), [0.5] * 10**6))

    start = time.perf_counter()
    (result,) = Hostile("train", make).run([plots._train_call()[0]])
    history, error = plots._student_history(result)
    assert error is None and len(history) == plots.MAX_POINTS
    assert len(plots._xy([1.0] * 10**6)[0]) == plots.MAX_POINTS
    assert len(plots._error(Result(error_type="E", error="x" * 2**20))) <= plots.MAX_NOTE_CHARS
    assert time.perf_counter() - start < SECONDS
