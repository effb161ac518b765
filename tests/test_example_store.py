"""The example store: what hypothesis recorded, read back exactly, trusted only under its key, hidden from workers."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest
import torch

from grader import DEFAULT_SEED, reference
from grader.checks import answers, example_store
from grader.checks.example_store import recorded_examples
from grader.checks.model import checks_for
from grader.checks.runner import run_check
from grader.frontends.grade import open_sandbox
from grader.reporters import plots
from grader.sandbox import rehearsal, wire
from grader.sandbox.protocol import Call
from grader.submission import in_process


def identical(a: object, b: object) -> bool:
    if isinstance(a, torch.Tensor):
        return (
            type(b) is torch.Tensor
            and (a.dtype, a.shape, a.requires_grad) == (b.dtype, b.shape, b.requires_grad)
            and torch.equal(a.reshape(-1).view(torch.uint8), b.reshape(-1).view(torch.uint8))
        )
    if isinstance(a, dict):
        return type(b) is dict and a.keys() == b.keys() and all(identical(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(identical(x, y) for x, y in zip(a, b))
    if isinstance(a, float):
        return type(b) is float and a.hex() == b.hex()
    return type(a) is type(b) and a == b


def test_every_process_judges_on_the_examples_of_a_fresh_recording() -> None:
    """Recorded in a fresh interpreter, the examples do not depend on what this process has loaded
    (hypothesis draws constants from loaded modules' source), and they are stored exactly."""
    checks = [c for c in checks_for() if c.examples is not None]
    fresh = example_store.record(DEFAULT_SEED)["examples"]
    assert sum(len(examples) for examples in fresh.values()) > 500
    for check in checks:
        assert identical(recorded_examples(check, DEFAULT_SEED), fresh[check.id]), check.id


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SGD_GRADER_CACHE", str(tmp_path / "store"))
    return tmp_path / "store"


def stored(examples: dict, answers: list | None = None) -> dict:
    return {"examples": examples, "answers": answers or [], "rehearsals": {}}


def test_round_trip_under_the_key_of_its_seed(store: Path) -> None:
    examples = {"mse.x": ((torch.tensor([1.5, -0.0]), 3, "cpu"),), "init.y": (None,)}
    answer = ["0" * 32, "grader.checks.mse.torch_mse", [torch.ones(2), torch.zeros(2)], {}, torch.tensor(1.0)]
    assert example_store.load(1) is None
    example_store.save(1, stored(examples, [answer]))
    assert identical(example_store.load(1)["examples"]["mse.x"], examples["mse.x"])
    assert identical(example_store.load(1)["answers"], [answer])
    assert example_store.load(2) is None and example_store.key(1) != example_store.key(2)
    example_store.save(1, stored({"mse.x": ()}))  # a newer store of the same seed replaces the older file
    assert len(list(store.glob("examples-1-*"))) == 1 and example_store.load(1)["examples"] == {"mse.x": ()}


def test_another_trees_store_of_the_same_seed_is_left_alone(store: Path) -> None:
    """A kit and its student release (or two checkouts) share the cache folder: saving one's store
    keeps the other's, so neither records its examples again after the other ran."""
    store.mkdir(parents=True)
    other = store / "examples-5-00000000-0123456789abcdef01234567.sgw"
    other.write_bytes(b"another tree's store")
    (store / "examples-5-0123456789abcdef01234567.sgw").write_bytes(b"named before trees were")
    example_store.save(5, stored({"mse.x": (1,)}))
    example_store.save(5, stored({"mse.x": (2,)}))
    assert other.read_bytes() == b"another tree's store"
    assert sorted(store.glob("examples-5-*")) == sorted([other, example_store.store_path(5)])


@pytest.mark.parametrize("damage", ["truncate", "other key", "not a dict"])
def test_a_damaged_or_foreign_store_is_not_trusted(store: Path, damage: str) -> None:
    example_store.save(3, stored({"mse.x": (1,)}))
    (path,) = store.glob("examples-3-*")
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:-3])
    elif damage == "other key":
        path.write_bytes(wire.encode({**stored({"mse.x": (2,)}), "key": "0" * 24}))
    else:
        path.write_bytes(wire.encode([1, 2]))
    assert example_store.load(3) is None


def test_an_unwritable_store_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("SGD_GRADER_CACHE", str(blocker / "store"))
    example_store.save(4, stored({"mse.x": (1,)}))
    assert example_store.load(4) is None


def test_stored_answers_equal_a_fresh_computation() -> None:
    """Every stored answer is what its oracle computes now from the stored arguments, under the
    digest of those arguments; and a fresh recording stores the same answers and rehearsals."""
    example_store.stored_examples(DEFAULT_SEED)
    entries = example_store.load(DEFAULT_SEED)
    assert len(entries["answers"]) > 400 and entries["rehearsals"]
    for key, name, args, kwargs, value in entries["answers"]:
        assert answers.digest(name, tuple(args), kwargs) == key, name
        assert same_answer(answers.ORACLES[name](*args, **kwargs), value), name
    fresh = example_store.record(DEFAULT_SEED)
    assert [e[:2] for e in fresh["answers"]] == [e[:2] for e in entries["answers"]]  # digests: the same arguments
    assert all(same_answer(a[4], b[4]) for a, b in zip(fresh["answers"], entries["answers"]))
    assert fresh["rehearsals"].keys() == entries["rehearsals"].keys()
    for key, packed in fresh["rehearsals"].items():
        assert rehearsal.unpack(packed) == rehearsal.unpack(entries["rehearsals"][key]), key


def same_answer(a: object, b: object) -> bool:
    """Bit for bit; but a float64 tensor to 1e-12 relative: a multithreaded BLAS (lstsq) may sum in
    another order from one call to the next."""
    if isinstance(a, torch.Tensor) and a.dtype == torch.float64 and isinstance(b, torch.Tensor):
        return a.shape == b.shape and b.dtype == a.dtype and torch.allclose(a, b, rtol=1e-12, atol=0.0)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same_answer(x, y) for x, y in zip(a, b))
    return identical(a, b)


def test_grading_the_reference_runs_no_oracle(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the store loaded, a correct submission's grade (its plots too) asks every oracle for a stored answer."""
    example_store.stored_examples(DEFAULT_SEED)
    monkeypatch.setattr(answers, "computed", collections.Counter())
    submission = in_process(reference.SOLUTION)
    for check in checks_for():
        assert run_check(check, submission).passed, check.id
    plots.collect(submission)
    assert not answers.computed, answers.computed


PEEK = """
def peek(path):
    try:
        with open(path, "rb") as f:
            return f"read {len(f.read(20))} bytes"
    except OSError as exc:
        return f"unreadable: {exc}"
"""


def test_workers_cannot_read_the_store() -> None:
    recorded_examples(checks_for()[0], DEFAULT_SEED)  # the store exists
    path = example_store.store_path(DEFAULT_SEED)
    with open_sandbox() as sandbox:
        sub = sandbox.submission(PEEK, lambda step: {})
        (result,) = sub.run([Call("peek", (str(path),))])
        sub.close()
    if {"bwrap", "mountns"} & set(sandbox.layers):  # without either, nothing can be hidden
        assert result.value.startswith("unreadable"), result
