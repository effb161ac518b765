"""The sandbox: the wire format, and hostile submissions that must not escape or hang it."""

from __future__ import annotations

import ast
import collections
import contextlib
import inspect
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import struct
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from conftest import processes_of
from hypothesis import given, settings
from hypothesis import strategies as st

from grader import reference
from grader.sandbox import isolation, oracle, rehearsal, wire
from grader.sandbox.client import Limits, Sandbox
from grader.sandbox.protocol import Call, Gen, LrTable, Result, Unsupported, execute

KIT = Path(__file__).resolve().parent.parent
HOSTILE = Path(__file__).resolve().parent / "corpus" / "hostile"
LIMITS = Limits(call_timeout_s=2, import_timeout_s=2, submission_timeout_s=30, memory_bytes=3 * 2**30 // 2)
LINUX_ROOT = sys.platform.startswith("linux") and os.geteuid() == 0
BWRAP = shutil.which("bwrap") is not None

P, T = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 2.0, 5.0])
MSE = Call("mse", (P, T))
X, W, B = torch.tensor([[1.0, 2.0], [3.0, 4.0]]), torch.tensor([1.0, -1.0]), torch.tensor(0.5)
PREDICT = Call("predict", (X, W, B))
TRAIN = Call(
    "train", (X, torch.tensor([1.0, 2.0])), {"epochs": 3, "batch_size": 1, "lr": 0.1, "generator": Gen(7, "g")}
)


def source(name: str) -> str:
    return (HOSTILE / f"{name}.py").read_text()


def no_helpers(step: str) -> dict:
    return {}


def assert_predict_ok(result: Result) -> None:
    assert result.ok, result
    assert torch.equal(result.value, X @ W + B)


def assert_mse_ok(result: Result) -> None:
    assert result.ok, result
    assert type(result.value) is torch.Tensor and result.value.item() == pytest.approx(4 / 3)


def snapshot(root: Path) -> set[str]:
    skip = {"__pycache__", ".pytest_cache", ".hypothesis", ".ruff_cache", ".git", ".venv"}
    files = set()
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in skip]
        files |= {os.path.join(folder, name) for name in names}
    return files


def foreign_files(roots: list[Path], uids: range) -> list[str]:
    """Files owned by a worker uid under `roots` (the trusted side writes as root)."""
    found = []
    for root in roots:
        for folder, dirs, names in os.walk(root):
            for name in dirs + names:
                path = os.path.join(folder, name)
                try:
                    if os.lstat(path).st_uid in uids:
                        found.append(path)
                except OSError:
                    pass
    return found


@pytest.fixture(scope="module")
def kit_snapshot() -> set[str]:
    return snapshot(KIT)


@pytest.fixture(scope="module")
def sandbox(kit_snapshot: set[str]) -> Sandbox:
    with Sandbox(LIMITS) as sb:
        yield sb
    if sb.uids:
        assert processes_of(sb.uids) == []


def run(sb: Sandbox, name: str, calls: list[Call], isolate: str | None = None) -> tuple[list[Result], float]:
    sub = sb.submission(source(name), no_helpers)
    started = time.monotonic()
    try:
        results = sub.run(calls, judging=isolate)
        return results, time.monotonic() - started
    finally:
        sub.close()


# --- wire format -------------------------------------------------------------------------


def all_values() -> list:
    tensors = [torch.arange(6).reshape(2, 3).to(dtype) for dtype in wire.DTYPES.values()]
    tensors += [torch.tensor(1).to(dtype) for dtype in wire.DTYPES.values()]
    tensors += [torch.zeros(0, 3), torch.arange(10.0)[::3], torch.randn(2, 2, dtype=torch.complex64).conj()]
    return [
        None,
        True,
        False,
        0,
        -(2**70),
        1.5,
        -0.0,
        math.inf,
        -math.inf,
        "",
        "é\x00\n",
        (),
        [],
        {},
        (1, [2.5, "x"]),
        {"a": {"b": [None]}},
        Gen(7, "k", "cpu"),
        LrTable((0.1, 0.01)),
        Unsupported("numpy.ndarray"),
        Call("mse", (P, T), {"generator": Gen(1)}),
        Call("draw", (3, Gen(2)), repeat=4),
        Result(value=P, mutated=True),
        Result(error_type="ValueError", error="bad"),
        torch.float64,
        *tensors,
    ]


def same(a: object, b: object) -> bool:
    if isinstance(a, torch.Tensor):
        return (
            type(b) is torch.Tensor
            and a.dtype == b.dtype
            and a.shape == b.shape
            and bool(torch.equal(a.resolve_conj(), b))
        )
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return type(b) is dict and list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, Call):
        return (
            isinstance(b, Call)
            and (a.fn, a.repeat) == (b.fn, b.repeat)
            and same(a.args, b.args)
            and same(a.kwargs, b.kwargs)
        )
    if isinstance(a, Result):
        return (
            isinstance(b, Result)
            and same(a.value, b.value)
            and (a.error_type, a.error, a.mutated) == (b.error_type, b.error, b.mutated)
        )
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("value", all_values(), ids=repr)
def test_wire_round_trip(value: object) -> None:
    assert same(value, wire.decode(wire.encode(value)))


def test_wire_round_trip_nan_and_float_bits() -> None:
    values = [math.nan, 5e-324, 1 / 3, torch.tensor([math.nan, -0.0, math.inf])]
    back = wire.decode(wire.encode(values))
    assert math.isnan(back[0]) and back[1] == 5e-324 and back[2] == 1 / 3
    assert torch.equal(back[3].nan_to_num(), values[3].nan_to_num()) and torch.signbit(back[3][1])


plain = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=5)
    | st.builds(torch.tensor, st.lists(st.floats(-1e6, 1e6, width=32), max_size=4)),
    lambda inner: (
        st.lists(inner, max_size=3) | st.tuples(inner, inner) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(derandomize=True, max_examples=150, deadline=None)
@given(plain)
def test_wire_round_trip_plain_data(value: object) -> None:
    assert same(value, wire.decode(wire.encode(value)))
    assert wire.is_plain(value)


def test_wire_refuses_what_is_not_data() -> None:
    deep: list = []
    for _ in range(40):
        deep = [deep]
    for value in [object(), {1: 2}, torch.zeros(2, dtype=torch.float8_e4m3fn), deep]:
        with pytest.raises(wire.WireError):
            wire.encode(value)
    with pytest.raises(wire.WireError):
        wire.encode(torch.zeros(1000), max_bytes=1000)


def test_wire_decodes_on_cpu_when_device_is_missing() -> None:
    message = forged({"root": ["T", "float32", [1], "cuda:7", 0], "buffers": [4]}, struct.pack("<f", 2.0))
    value = wire.decode(message)
    assert value.device.type in ("cpu", "cuda") and value.item() == 2.0


def forged(header: object, body: bytes = b"", *, raw_header: bytes | None = None) -> bytes:
    head = raw_header if raw_header is not None else json.dumps(header).encode()
    return wire.MAGIC + struct.pack(">I", len(head)) + head + body


def tensor_header(
    dtype: str = "float32", shape: object = (2,), device: str = "cpu", index: object = 0, buffers: object = (8,)
) -> dict:
    return {"root": ["T", dtype, list(shape), device, index], "buffers": list(buffers)}


MALFORMED = {
    "empty": b"",
    "bad magic": b"XXXX" + bytes(10),
    "header longer than message": wire.MAGIC + struct.pack(">I", 2**31) + b"{}",
    "not json": forged(None, raw_header=b"{not json"),
    "not utf-8": forged(None, raw_header=b'{"root": ["s", "\xff"], "buffers": []}'),
    "NaN constant": forged(None, raw_header=b'{"root": ["f", NaN], "buffers": []}'),
    "deep json": forged(None, raw_header=b"[" * 200_000 + b"]" * 200_000),
    "deep nodes": forged({"root": json.loads('["l", [' * 40 + '["n"]' + "]]" * 40), "buffers": []}),
    "extra key": forged({"root": ["n"], "buffers": [], "x": 1}),
    "unknown tag": forged({"root": ["pickle", "cos\nsystem"], "buffers": []}),
    "bad int": forged({"root": ["i", "12a"], "buffers": []}),
    "huge int": forged({"root": ["i", "9" * 5000], "buffers": []}),
    "bad float": forged({"root": ["f", "nope"], "buffers": []}),
    "int not str": forged({"root": ["i", 3], "buffers": []}),
    "dict int key": forged({"root": ["d", [[1, ["n"]]]], "buffers": []}),
    "dict duplicate key": forged({"root": ["d", [["a", ["n"]], ["a", ["n"]]]], "buffers": []}),
    "bad dtype": forged(tensor_header(dtype="object"), bytes(8)),
    "shape vs buffer": forged(tensor_header(shape=(2**40,)), bytes(8)),
    "negative dim": forged(tensor_header(shape=(-2,)), bytes(8)),
    "float dim": forged(tensor_header(shape=(2.0,)), bytes(8)),
    "too many dims": forged(tensor_header(shape=(1,) * 40, buffers=(4,)), bytes(4)),
    "buffer index out of range": forged(tensor_header(index=3), bytes(8)),
    "buffer used twice": forged({"root": ["l", [["T", "float32", [2], "cpu", 0]] * 2], "buffers": [8]}, bytes(8)),
    "unused buffer": forged({"root": ["n"], "buffers": [8]}, bytes(8)),
    "buffers longer than message": forged(tensor_header(buffers=(8000,)), bytes(8)),
    "trailing bytes": forged(tensor_header(), bytes(9)),
    "bool bytes not 0/1": forged(tensor_header(dtype="bool", buffers=(2,)), b"\x01\x07"),
    "bad device": forged(tensor_header(device="gpu!!"), bytes(8)),
    "Call args not tuple": forged({"root": ["C", "mse", ["l", []], ["d", []]], "buffers": []}),
    "Result bad mutated": forged({"root": ["R", ["n"], None, None, "yes"], "buffers": []}),
    "Gen bad seed": forged({"root": ["G", "x", "g", "cpu"], "buffers": []}),
}


@pytest.mark.parametrize("data", MALFORMED.values(), ids=MALFORMED.keys())
def test_wire_malformed_bytes_raise_wire_error(data: bytes) -> None:
    with pytest.raises(wire.WireError):
        wire.decode(data)


def test_wire_truncated_and_corrupted_messages_raise_wire_error_or_decode() -> None:
    good = wire.encode([MSE, Result(value=P), {"x": [1.5, "s"]}])
    for end in range(len(good)):
        with pytest.raises(wire.WireError):
            wire.decode(good[:end])
    rng = random.Random(0)
    for _ in range(500):
        bad = bytearray(good)
        for _ in range(rng.randint(1, 4)):
            bad[rng.randrange(len(bad))] = rng.randrange(256)
        try:
            wire.decode(bytes(bad))
        except wire.WireError:
            pass


def test_wire_message_size_cap() -> None:
    with pytest.raises(wire.WireError):
        wire.decode(wire.encode(torch.zeros(1000)), max_bytes=1000)


def test_recv_frame_refuses_huge_lengths_and_times_out_on_trickles() -> None:
    a, b = socket.socketpair()
    with a, b:
        a.sendall(struct.pack(">Q", 2**62))
        with pytest.raises(wire.WireError):
            wire.recv_frame(b, deadline=time.monotonic() + 1)
        a.sendall(struct.pack(">Q", 100) + b"x")
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            wire.recv_frame(b, deadline=time.monotonic() + 0.2)
        assert time.monotonic() - started < 1
        a.close()
        with pytest.raises(EOFError):
            wire.recv_frame(b, deadline=time.monotonic() + 1)


# --- the sandbox with ordinary submissions ----------------------------------------------

REFERENCE = """import torch


def mse(preds, targets):
    return ((preds - targets) ** 2).mean()


def predict(X, w, b):
    return X @ w + b


def draw(n, generator):
    return torch.randn(n, generator=generator)


def shout():
    print("hello")
    raise ValueError("nope")
"""


def test_layers_are_reported(sandbox: Sandbox) -> None:
    """The layers in force are what this machine offers: bubblewrap wherever it is installed and not
    switched off (SGD_NO_BWRAP=1), seccomp wherever pyseccomp finds libseccomp, own uids as root."""
    layers = set(sandbox.layers)
    assert "rlimit" in layers
    assert ("bwrap" in layers) == (BWRAP and os.environ.get(isolation.NO_BWRAP) != "1")
    assert ("seccomp" in layers) == isolation._seccomp_available()
    if LINUX_ROOT:
        assert {"own-uid", "no-new-privs", "netns"} <= layers
        assert "bwrap" in layers or "mountns" in layers


def test_repeated_call_is_the_list_of_single_calls_or_the_first_error() -> None:
    namespace: dict = {}
    exec(REFERENCE, namespace)
    once = execute(namespace, [Call("draw", (3, Gen(5, "a")))] * 4)
    (repeated,) = execute(namespace, [Call("draw", (3, Gen(5, "a")), repeat=4)])
    assert repeated.ok and len(repeated.value) == 4 and not repeated.mutated
    assert all(torch.equal(r.value, v) for r, v in zip(once, repeated.value))
    (failed,) = execute(namespace, [Call("shout", repeat=3)])
    assert (failed.error_type, failed.error) == ("ValueError", "nope")


@pytest.mark.parametrize("repeat", [0, -1, wire.MAX_REPEAT + 1])
def test_wire_refuses_a_call_repeated_out_of_range(repeat: int) -> None:
    message = forged({"root": ["C", "mse", ["t", []], ["d", []], repeat], "buffers": []})
    with pytest.raises(wire.WireError):
        wire.decode(message)


def test_runs_calls_like_execute_does(sandbox: Sandbox) -> None:
    draws = [Call("draw", (3, Gen(5))), Call("draw", (3, Gen(5))), Call("draw", (2,), {"generator": Gen(5, "h")})]
    draws.append(Call("draw", (2, Gen(6, "r")), repeat=5))
    calls = [MSE, PREDICT, *draws, Call("shout"), Call("missing")]
    namespace: dict = {}
    exec(REFERENCE, namespace)
    expected = execute(namespace, calls)
    sub = sandbox.submission(REFERENCE, no_helpers)
    got = sub.run(calls)
    assert sub.import_error is None and sub.output == "hello\n"
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert same(e, g), (g, e)
    assert sub.run([MSE])[0].ok  # the worker is reused
    sub.close()


def test_isolate_replaces_other_steps_with_helpers(sandbox: Sandbox) -> None:
    helpers = {"predict": {"mse": lambda preds, targets: torch.tensor(-1.0)}}
    sub = sandbox.submission(REFERENCE, helpers.__getitem__)
    assert sub.run([MSE], judging="predict")[0].value.item() == -1.0
    assert_mse_ok(sub.run([MSE])[0])
    sub.close()


def test_import_errors_are_reported(sandbox: Sandbox) -> None:
    for src, expected in [
        ("def mse(:\n", "SyntaxError"),
        ("x = 1\nraise KeyError('k')\n", "line 2"),
        ("import sys\nsys.exit(1)\n", "SystemExit"),
    ]:
        sub = sandbox.submission(src, no_helpers)
        results = sub.run([MSE, PREDICT])
        assert [r.error_type for r in results] == ["ImportError"] * 2
        assert expected in sub.import_error
        assert sub.run([MSE])[0].error_type == "ImportError"
        sub.close()


def test_round_trip_speed(sandbox: Sandbox) -> None:
    started = time.monotonic()
    sub = sandbox.submission(REFERENCE, no_helpers)
    assert sub.run([MSE])[0].ok
    ready = time.monotonic() - started
    started = time.monotonic()
    assert all(r.ok for r in sub.run([MSE] * 100))
    hundred = time.monotonic() - started
    sub.close()
    print(
        f"zygote start {sandbox.start_seconds:.2f} s, fork to first result {ready * 1000:.0f} ms, "
        f"100 calls {hundred * 1000:.0f} ms"
    )
    assert ready < 2 and hundred < 2


def test_submission_time_budget() -> None:
    with Sandbox(Limits(call_timeout_s=1, import_timeout_s=2, submission_timeout_s=1.5)) as sb:
        sub = sb.submission(source("infinite_loop"), no_helpers)
        first = sub.run([MSE])
        assert first[0].error_type == "Timeout"
        second = sub.run([MSE, PREDICT])
        assert [r.error_type for r in second] == ["Timeout", "NotRun"]
        assert [r.error_type for r in sub.run([PREDICT])] == ["Timeout"]


# --- hostile submissions ------------------------------------------------------------------


def test_infinite_loop_times_out(sandbox: Sandbox) -> None:
    sub = sandbox.submission(source("infinite_loop"), no_helpers)
    results = sub.run([MSE, PREDICT])
    assert [r.error_type for r in results] == ["Timeout", "NotRun"]
    assert_predict_ok(sub.run([PREDICT])[0])
    sub.close()


def test_sleep_at_import_is_an_import_error(sandbox: Sandbox) -> None:
    results, took = run(sandbox, "sleep_at_import", [MSE, PREDICT])
    assert [r.error_type for r in results] == ["ImportError"] * 2
    assert "timed out" in results[0].error and took < LIMITS.import_timeout_s + 2


@pytest.mark.parametrize(
    "name, error_types",
    [
        ("memory_growth", {"MemoryError", "RuntimeError", "WorkerCrashed"}),
        ("recursion", {"RecursionError"}),
        ("system_exit", {"SystemExit"}),
        ("huge_tensor", {"RuntimeError", "MemoryError", "WireError", "WorkerCrashed"}),
    ],
)
def test_errors_in_one_function_leave_the_others_working(sandbox: Sandbox, name: str, error_types: set) -> None:
    with contextlib.ExitStack() as stack:
        if name == "memory_growth":  # touching 1.5 GiB page by page takes 1-3 s here: time to reach the cap
            sandbox = stack.enter_context(Sandbox(replace(LIMITS, call_timeout_s=20)))
        sub = sandbox.submission(source(name), no_helpers)
        mse, predict = sub.run([MSE, PREDICT])
        assert not mse.ok and mse.error_type in error_types, mse
        if mse.error_type == "WorkerCrashed":
            predict = sub.run([PREDICT])[0]
        assert_predict_ok(predict)
        sub.close()


@pytest.mark.parametrize("name, status", [("os_exit", "exit code 0"), ("segfault", "SIGSEGV")])
def test_crashes_are_reported(sandbox: Sandbox, name: str, status: str) -> None:
    sub = sandbox.submission(source(name), no_helpers)
    results = sub.run([MSE, PREDICT])
    assert [r.error_type for r in results] == ["WorkerCrashed", "NotRun"]
    assert status in results[0].error
    assert_predict_ok(sub.run([PREDICT])[0])
    sub.close()


@pytest.mark.skipif(not LINUX_ROOT, reason="per-worker uids need root on Linux")
@pytest.mark.parametrize("name", ["fork_flood", "ignore_signals"])
def test_process_floods_and_signal_ignorers_are_killed(sandbox: Sandbox, name: str) -> None:
    sub = sandbox.submission(source(name), no_helpers)
    assert sub.run([MSE])[0].error_type == "Timeout"
    assert processes_of(sandbox.uids) == []
    assert_predict_ok(sub.run([PREDICT])[0])
    sub.close()
    assert processes_of(sandbox.uids) == []


@pytest.mark.skipif(not LINUX_ROOT, reason="per-worker uids need root on Linux")
def test_double_forked_daemon_dies_with_the_sandbox() -> None:
    with Sandbox(LIMITS) as sb:
        sub = sb.submission(source("daemon"), no_helpers)
        assert_mse_ok(sub.run([MSE])[0])
        time.sleep(0.2)
        assert len(processes_of(sb.uids)) >= 2  # the worker and its daemon
    assert processes_of(sb.uids) == []


def _killed_or_gone(pid: int) -> bool:
    """Whether `pid` is gone, a zombie, exiting (PF_EXITING) or holding a pending SIGKILL: it runs no
    more code of its own."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        status = dict(line.split(":\t", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    except (OSError, ValueError):
        return True
    pending = int(status.get("SigPnd", "0"), 16) | int(status.get("ShdPnd", "0"), 16)
    return stat[0] in "ZX" or bool(int(stat[6]) & 0x4) or bool(pending & (1 << (signal.SIGKILL - 1)))


@pytest.mark.skipif(not LINUX_ROOT, reason="per-worker uids need root on Linux")
def test_the_next_steps_worker_starts_once_every_process_of_the_last_one_is_killed(sandbox: Sandbox) -> None:
    """Between steps the trusted side waits for the zygote's "killed" (kill(-1) as the worker's uid), not for
    the kernel to tear the processes down; closing the submission waits until they are all gone."""
    sub = sandbox.submission(source("daemon"), no_helpers)
    assert_mse_ok(sub.run([MSE], judging="mse")[0])
    time.sleep(0.2)
    last = processes_of(sandbox.uids)
    assert len(last) >= 2  # the worker and its daemon
    assert_predict_ok(sub.run([PREDICT], judging="predict")[0])
    assert all(_killed_or_gone(pid) for pid in last)
    sub.close()
    assert processes_of(sandbox.uids) == []


def test_monkeypatched_torch_stays_in_the_worker(sandbox: Sandbox) -> None:
    equal, allclose, eq = torch.equal, torch.allclose, torch.Tensor.__eq__
    (result,) = run(sandbox, "monkeypatch_torch", [MSE])[0]
    assert (torch.equal, torch.allclose, torch.Tensor.__eq__) == (equal, allclose, eq)
    assert result.ok and type(result.value) is torch.Tensor and result.value.item() == 0.0
    assert not torch.equal(result.value, torch.tensor(4 / 3))


def test_tensor_subclass_arrives_as_plain_tensor(sandbox: Sandbox) -> None:
    (result,) = run(sandbox, "tensor_subclass", [MSE])[0]
    assert type(result.value) is torch.Tensor and result.value.item() == 42.0
    assert not torch.equal(result.value, torch.tensor(4 / 3)) and not (result.value == 1.0)


def test_patched_random_stays_in_the_worker(sandbox: Sandbox) -> None:
    (result,) = run(sandbox, "patch_random", [Call("draw", (3, Gen(0)))])[0]
    assert torch.equal(result.value, torch.zeros(3))
    assert not torch.equal(torch.randn(3, generator=torch.Generator().manual_seed(0)), torch.zeros(3))


def test_returns_nan(sandbox: Sandbox) -> None:
    tensor, number = run(sandbox, "returns_nan", [MSE, Call("mse_float", (P, T))])[0]
    assert torch.isnan(tensor.value) and math.isnan(number.value)


def test_reduce_payload_is_never_unpickled(sandbox: Sandbox) -> None:
    marker = Path("/tmp/sgd-hostile-reduce-marker")
    marker.unlink(missing_ok=True)
    (result,) = run(sandbox, "reduce_payload", [MSE])[0]
    assert result.ok and isinstance(result.value, Unsupported)
    assert not marker.exists()


def test_fake_results_files_go_nowhere(sandbox: Sandbox, tmp_path: Path) -> None:
    before = set(Path("/tmp").iterdir())
    (result,) = run(sandbox, "fake_results", [MSE])[0]
    assert_mse_ok(result)
    assert not any(p.name == "results.json" for p in set(Path("/tmp").iterdir()) - before)
    assert not (KIT / "results.json").exists() and not (KIT / "grader" / "results.json").exists()


def test_solutions_are_out_of_reach(sandbox: Sandbox) -> None:
    (result, peek, mse), _ = run(
        sandbox, "read_solutions", [Call("probe", (str(KIT),)), Call("peek", (str(KIT / "pyproject.toml"),)), MSE]
    )
    assert result.value == {"imported": [], "found": []}, result
    if "bwrap" in sandbox.layers:  # bubblewrap shows the worker nothing of the kit
        assert peek.value.startswith("unreadable"), peek
    assert_mse_ok(mse)


def solution_patterns(source: str) -> list[str]:
    """A regular expression for each of the 16 longest solution lines absent from `source`, whose own
    text never matches it (few enough for the worker to scan its memory within a call's limit)."""
    lines = sorted((line for line in reference.solution_lines() if line not in source), key=len)[-16:]
    return [f"[{line[0]}]{re.escape(line[1:])}" for line in lines]


@pytest.fixture(scope="module")
def patient_sandbox() -> Sandbox:
    """A sandbox whose calls may take 30 s: a worker scanning all of its memory takes a few."""
    with Sandbox(replace(LIMITS, call_timeout_s=30, step_timeout_s=60)) as sb:
        yield sb


def test_a_worker_holds_nothing_of_the_reference(patient_sandbox: Sandbox) -> None:
    sandbox = patient_sandbox
    hostile = source("search_process")
    sub = sandbox.submission(hostile, reference.helpers)
    found, quoted, mse = sub.run(
        [Call("search", (solution_patterns(hostile),)), Call("quote_helpers"), MSE], judging="mse"
    )
    assert found.value == [], found
    assert quoted.ok and not [
        line for line in reference.solution_lines() if any(line in q for q in quoted.value.values())
    ]
    assert_mse_ok(mse)
    sub.close()
    sealed = sandbox.submission(hostile, reference.helpers, reference.own)  # sealed answers to TRAIN in its memory
    _, found = sealed.run([TRAIN, Call("search", (solution_patterns(hostile),))], judging="train")
    assert found.value == [], found
    sealed.close()
    planted = sandbox.submission(reference.SOLUTION.read_text() + "\n" + hostile, reference.helpers)
    (found,) = planted.run([Call("search", (solution_patterns(hostile),))], judging="mse")
    assert found.value and found.value[0].startswith("memory:"), "the search must find the solution when it is there"
    planted.close()


def test_mutation_is_judged_against_the_trusted_copies(sandbox: Sandbox) -> None:
    params, grads = [torch.ones(3), torch.zeros(())], [torch.full((3,), 2.0), torch.tensor(1.0)]
    call = Call("sgd_step", (params, grads, 0.5))
    (watched, unwatched), _ = run(sandbox, "mutate_and_hide", [replace(call, watch=True), call])
    assert watched.mutated and watched.inputs is None
    assert not unwatched.mutated  # what the worker itself says: the hidden change fools it
    assert torch.equal(params[0], torch.ones(3))  # the trusted side's copies are its own


def host_ipc() -> tuple[str, str]:
    """The host's System V shared-memory segments and message queues, as the kernel lists them."""
    return Path("/proc/sysvipc/shm").read_text(), Path("/proc/sysvipc/msg").read_text()


@pytest.mark.skipif(not (isolation.LINUX and os.geteuid() == 0), reason="workers get namespaces of their own as root")
def test_workers_share_no_channel(sandbox: Sandbox) -> None:
    assert set(isolation.WORKER_LAYERS) <= set(sandbox.layers)
    before = host_ipc(), set(os.listdir("/tmp")), set(os.listdir("/dev/shm"))
    (planted,), _ = run(sandbox, "leave_state", [Call("plant")])
    assert planted.value == {"shm": True, "msg": True, "tmp": True, "dev_shm": True}, planted
    (seen, mse), _ = run(sandbox, "leave_state", [Call("look"), MSE])
    assert seen.value == {"shm": False, "msg": False, "tmp": False, "dev_shm": False}, seen
    assert_mse_ok(mse)
    assert (host_ipc(), set(os.listdir("/tmp")), set(os.listdir("/dev/shm"))) == before


def test_no_network_even_on_loopback(sandbox: Sandbox) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.5)
        (result, mse), _ = run(sandbox, "connect_loopback", [Call("probe", (listener.getsockname()[1],)), MSE])
        assert result.ok and result.value.startswith("refused"), result
        with pytest.raises(TimeoutError):
            listener.accept()
    assert_mse_ok(mse)


def test_print_flood_is_capped(sandbox: Sandbox) -> None:
    sub = sandbox.submission(source("print_flood"), no_helpers)
    result = sub.run([MSE])[0]
    assert result.error_type in (None, "Timeout")
    assert sub.output.startswith("imported\nxxx") and len(sub.output.encode()) <= LIMITS.output_bytes
    sub.close()


def test_deleting_files_fails(sandbox: Sandbox, tmp_path: Path) -> None:
    kit, other = tmp_path / "kit", tmp_path / "other_student"
    for folder in (kit, other):
        folder.mkdir()
        (folder / "sgd.py").write_text("x = 1\n")
    (result,) = run(sandbox, "delete_files", [Call("wipe", ([str(kit), str(other)],))])[0]
    assert result.ok
    assert (kit / "sgd.py").exists() and (other / "sgd.py").exists()
    assert (KIT / "solutions" / "sgd.py").exists() and (KIT / "tests").exists()


@pytest.mark.parametrize("fn", ["mse", "not_plain", "length_bomb"])
def test_forged_frames_are_wire_errors(sandbox: Sandbox, fn: str) -> None:
    sub = sandbox.submission(source("forge_wire"), no_helpers)
    started = time.monotonic()
    results = sub.run([Call(fn, (P, T)), PREDICT])
    assert [r.error_type for r in results] == ["WireError", "NotRun"], results
    assert time.monotonic() - started < LIMITS.call_timeout_s + 1
    assert_predict_ok(sub.run([PREDICT])[0])
    sub.close()


def test_results_over_the_message_cap_fail_cleanly() -> None:
    with Sandbox(Limits(call_timeout_s=5, message_bytes=2**20)) as sb:
        sub = sb.submission(source("huge_tensor"), no_helpers)
        small, big, predict = sub.run([Call("medium", (2**10,)), Call("medium", (8 * 2**20,)), PREDICT])
        assert small.ok and big.error_type == "WireError" and "cap" in big.error
        assert_predict_ok(predict)


@pytest.mark.skipif(not LINUX_ROOT, reason="the namespace fallback needs root on Linux")
def test_degraded_mode_without_bubblewrap(tmp_path: Path) -> None:
    hidden = KIT / "exercises"
    with Sandbox(LIMITS, hidden_paths=[str(hidden)], bubblewrap=False) as sb:
        assert "bwrap" not in sb.layers and {"mountns", "netns", "own-uid"} <= set(sb.layers)
        assert ("seccomp" in sb.layers) == isolation._seccomp_available()
        calls = [
            Call("probe", (str(KIT),)),
            Call("peek", (str(hidden / "sgd.py"),)),
            Call("peek", (str(KIT / "pyproject.toml"),)),
        ]
        (probe, secret, readme), _ = run(sb, "read_solutions", calls)
        # Without bubblewrap only the declared paths are hidden: other copies on the machine may show.
        assert probe.value["imported"] == [], probe
        assert not [p for p in probe.value["found"] if p.startswith(str(hidden) + "/")], probe
        assert secret.value.startswith("unreadable")
        # Other kit files stay readable, unless the kit lives under /tmp: the private /tmp covers it all.
        assert readme.value.startswith("unreadable") == str(KIT).startswith("/tmp/")
        before = set(Path("/tmp").iterdir())
        assert_mse_ok(run(sb, "fake_results", [MSE])[0][0])
        assert not any(p.name == "results.json" for p in set(Path("/tmp").iterdir()) - before)
        sub = sb.submission(source("daemon"), no_helpers)
        assert_mse_ok(sub.run([MSE])[0])
        results, _ = run(sb, "fork_flood", [MSE])
        assert results[0].error_type == "Timeout"
    assert processes_of(sb.uids) == []


def test_kit_is_unchanged(kit_snapshot: set[str]) -> None:
    """Nothing the sandbox ran deleted a file of the kit, or left a file of its own in it or in /tmp
    (the kit may be edited while the tests run, so modified files are not compared)."""
    assert kit_snapshot <= snapshot(KIT)
    assert foreign_files([KIT, Path("/tmp")], range(1_000_000, 2**32 - 1)) == []


def test_a_sealed_answer_opens_only_with_its_request() -> None:
    answers = {b"request one": b"answer one", b"request two": b"the second answer " * 40}
    table = rehearsal.seal(answers, rehearsal.new_salt())
    sealed = rehearsal.Sealed()
    sealed.load(wire.decode(wire.encode(table)))
    assert all(sealed.open(request) == answer for request, answer in answers.items())
    assert sealed.open(b"request three") is None and sealed.open(b"request one ") is None
    assert b"answer" not in table["blob"].numpy().tobytes()
    resealed = rehearsal.seal(answers, rehearsal.new_salt())  # a new salt: nothing in common
    assert not set(resealed["blob"].numpy().tobytes().split()) & set(table["blob"].numpy().tobytes().split())


@pytest.mark.parametrize(
    "table",
    [None, {}, {"salt": torch.zeros(16, dtype=torch.uint8)}, "garbage", {"salt": 1, "ids": 2, "sizes": 3, "blob": 4}],
)
def test_a_malformed_table_opens_nothing(table: object) -> None:
    sealed = rehearsal.Sealed()
    sealed.load(rehearsal.seal({b"request": b"answer"}, b"s" * 16))
    sealed.load(table)
    assert sealed.open(b"request") is None


def test_rehearsal_records_what_the_reference_asks_and_the_answers_it_gets() -> None:
    helpers = reference.helpers("train")
    answers = rehearsal.rehearse(reference.own("train"), helpers, [TRAIN], wire.MAX_MESSAGE_BYTES)
    asked = collections.Counter(wire.decode(request)["fn"] for request in answers)
    assert asked["init_params"] == 1 and asked["minibatches"] == 3 and asked["mse_grad"] == 6, asked
    assert all(answer == oracle.respond(helpers, request) for request, answer in answers.items())


def logged_helpers(log: Path) -> Callable[[str], dict]:
    """reference.helpers, each call noted in `log` with the pid that answered it."""

    def note() -> None:
        with log.open("a") as f:
            f.write(f"{os.getpid()}\n")

    def logged(fn: Callable) -> Callable:
        if inspect.isgeneratorfunction(fn):

            def generator(*args: object, **kwargs: object) -> object:
                note()
                yield from fn(*args, **kwargs)

            return generator

        def plain(*args: object, **kwargs: object) -> object:
            note()
            return fn(*args, **kwargs)

        return plain

    return lambda step: {name: logged(fn) for name, fn in reference.helpers(step).items()}


def test_a_correct_train_is_answered_without_round_trips(sandbox: Sandbox, tmp_path: Path) -> None:
    log = tmp_path / "asked"
    helpers = logged_helpers(log)
    log.write_text("")
    expected = execute(vars(reference.reference()), [TRAIN])[0]
    solution = sandbox.submission(reference.SOLUTION.read_text(), helpers, reference.own)
    (got,) = solution.run([TRAIN], judging="train")
    solution.close()
    assert got.ok and all(torch.equal(g, e) for g, e in zip(got.value[:2], expected.value[:2]))
    assert got.value[2] == expected.value[2]
    answered_by = collections.Counter(log.read_text().split())
    assert set(answered_by) == {str(os.getpid())}, "the rehearsal asks here; the reference process is never asked"
    by_keywords = reference.SOLUTION.read_text().replace(
        "mse_grad(X[rows], y[rows], *params)", "mse_grad(X=X[rows], y=y[rows], w=params[0], b=params[1])"
    )
    assert by_keywords != reference.SOLUTION.read_text()
    log.write_text("")
    other = sandbox.submission(by_keywords, helpers, reference.own)
    (got,) = other.run([TRAIN], judging="train")
    other.close()
    assert got.ok and got.value[2] == expected.value[2]
    answered_by = collections.Counter(log.read_text().split())
    assert sum(n for pid, n in answered_by.items() if pid != str(os.getpid())) == 6, "its 6 requests by keyword"


def test_a_checks_own_call_to_another_step_is_answered_without_round_trips(sandbox: Sandbox, tmp_path: Path) -> None:
    """A check of momentum may call sgd_step itself (zero_beta_is_sgd does): its proxy's request is
    rehearsed with the batch, as the reference's own calls to other steps are."""
    log = tmp_path / "asked"
    log.write_text("")
    step = Call("sgd_step", ([torch.tensor([1.0, 2.0])], [torch.tensor([0.5, -0.5])], 0.1))
    solution = sandbox.submission(reference.SOLUTION.read_text(), logged_helpers(log), reference.own)
    (got,) = solution.run([step], judging="momentum")
    solution.close()
    assert got.ok and torch.equal(got.value[0], torch.tensor([0.95, 2.05]))
    assert set(log.read_text().split()) == {str(os.getpid())}, "rehearsed here; the reference process is never asked"


def test_the_sandbox_imports_nothing_of_the_grader_outside_it() -> None:
    """grader/sandbox/ stands alone: what it needs of the grader (the reference) comes in as arguments."""
    outside = []
    for path in sorted((KIT / "grader" / "sandbox").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            outside += [
                f"{path.name}: {n}" for n in names if n.split(".")[0] == "grader" and not n.startswith("grader.sandbox")
            ]
    assert outside == []
