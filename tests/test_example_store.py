"""The example store: what hypothesis recorded, read back exactly, trusted only under its key, hidden from workers."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from grader import DEFAULT_SEED
from grader.checks import example_store
from grader.checks.example_store import recorded_examples
from grader.checks.model import checks_for
from grader.frontends.grade import open_sandbox
from grader.sandbox import wire
from grader.sandbox.protocol import Call


def identical(a: object, b: object) -> bool:
    if isinstance(a, torch.Tensor):
        return (
            type(b) is torch.Tensor
            and (a.dtype, a.shape, a.requires_grad) == (b.dtype, b.shape, b.requires_grad)
            and torch.equal(a.reshape(-1).view(torch.uint8), b.reshape(-1).view(torch.uint8))
        )
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(identical(x, y) for x, y in zip(a, b))
    if isinstance(a, float):
        return type(b) is float and a.hex() == b.hex()
    return type(a) is type(b) and a == b


def test_every_process_judges_on_the_examples_of_a_fresh_recording() -> None:
    """Recorded in a fresh interpreter, the examples do not depend on what this process has loaded
    (hypothesis draws constants from loaded modules' source), and they are stored exactly."""
    checks = [c for c in checks_for() if c.examples is not None]
    fresh = example_store.record(DEFAULT_SEED)
    assert sum(len(examples) for examples in fresh.values()) > 500
    for check in checks:
        assert identical(recorded_examples(check, DEFAULT_SEED), fresh[check.id]), check.id


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SGD_GRADER_CACHE", str(tmp_path / "store"))
    return tmp_path / "store"


def test_round_trip_under_the_key_of_its_seed(store: Path) -> None:
    examples = {"mse.x": ((torch.tensor([1.5, -0.0]), 3, "cpu"),), "init.y": (None,)}
    assert example_store.load(1) is None
    example_store.save(1, examples)
    assert identical(example_store.load(1)["mse.x"], examples["mse.x"])
    assert example_store.load(2) is None and example_store.key(1) != example_store.key(2)
    example_store.save(1, {"mse.x": ()})  # a newer store of the same seed replaces the older file
    assert len(list(store.glob("examples-1-*"))) == 1 and example_store.load(1) == {"mse.x": ()}


@pytest.mark.parametrize("damage", ["truncate", "other key", "not a dict"])
def test_a_damaged_or_foreign_store_is_not_trusted(store: Path, damage: str) -> None:
    example_store.save(3, {"mse.x": (1,)})
    (path,) = store.glob("examples-3-*")
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:-3])
    elif damage == "other key":
        path.write_bytes(wire.encode({"key": "0" * 24, "examples": {"mse.x": (2,)}}))
    else:
        path.write_bytes(wire.encode([1, 2]))
    assert example_store.load(3) is None


def test_an_unwritable_store_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("SGD_GRADER_CACHE", str(blocker / "store"))
    example_store.save(4, {"mse.x": (1,)})
    assert example_store.load(4) is None


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
    (path,) = example_store.cache_dir().glob(f"examples-{DEFAULT_SEED}-{example_store.key(DEFAULT_SEED)}.sgw")
    with open_sandbox() as sandbox:
        sub = sandbox.submission(PEEK, lambda step: {})
        (result,) = sub.run([Call("peek", (str(path),))])
        sub.close()
    if {"bwrap", "mountns"} & set(sandbox.layers):  # without either, nothing can be hidden
        assert result.value.startswith("unreadable"), result
