"""What the trusted side asks of a submission, and the plain data it gets back.

A check never touches student code directly. It builds `Call`s from plain data,
hands them to a `Submission`, and judges the `Result`s. `execute` is the one place
that runs student functions; it runs in-process for a student's `pytest`, and
inside the sandboxed worker for grading.

Plain data is: None, bool, int, float, str, plain `torch.Tensor`, and lists, tuples
and str-keyed dicts of plain data. Two markers stand for things that are not data:
`Gen` (a seeded `torch.Generator`) and `LrTable` (a learning rate per epoch).
"""

from __future__ import annotations

import collections.abc
import itertools
import random
import sys
import types
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch
from torch.overrides import TorchFunctionMode

MAX_ITEMS = 100_000
GLOBAL_SEED = 20240917
"""A loaded submission starts the global random states (torch's, Python's, numpy's) from this seed."""
MAX_APIS, MAX_API_CHARS = 32, 120
"""The most torch functions a watched call reports, and the longest name."""
"""Iterators returned by a submission are consumed up to this many items."""


@dataclass(frozen=True)
class Gen:
    """A `torch.Generator` seeded with `seed`. Calls in one batch that share a `key` share
    one generator object, so its state carries from call to call."""

    seed: int
    key: str = "g"
    device: str = "cpu"


@dataclass(frozen=True)
class GenState:
    """A `torch.Generator`'s device and state, travelling with a call to another step's function."""

    device: str
    state: torch.Tensor


@dataclass(frozen=True)
class LrTable:
    """A learning rate given as a function of the epoch: `lr(epoch) = values[epoch]`."""

    values: tuple[float, ...]


@dataclass(frozen=True)
class Unsupported:
    """Stands for a returned object that is not plain data (e.g. a numpy array)."""

    type_name: str


@dataclass(frozen=True)
class Call:
    """Call the submission's function `fn` with these plain-data arguments; with `repeat` > 1,
    call it that many times (each with fresh copies, sharing generators by key) and get back
    the list of the values, or the first error."""

    fn: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    repeat: int = 1
    watch: bool = False
    """Send back the input tensors as the function left them (`Result.inputs`, one call only),
    so that the trusted side, not the worker, judges whether they changed (`Result.mutated`)."""


@dataclass
class Result:
    """The outcome of one `Call`: a plain value, or an error."""

    value: Any = None
    error_type: str | None = None
    error: str | None = None
    mutated: bool = False
    inputs: list | None = None
    """For a watched call: its input tensors after the call, in `tensors_in` order."""
    apis: tuple[str, ...] = ()
    """For a watched call: the torch functions it called (`ApiTrace`), as the worker says: supporting
    evidence for the rules only, since code in the worker can forge it."""

    @property
    def ok(self) -> bool:
        return self.error_type is None


class Submission(Protocol):
    """A submission that can run calls. `judging=step` means: while running, every
    contract function outside `step` is the reference one, so a bug in another step
    cannot fail this one."""

    def run(self, calls: Sequence[Call], *, judging: str | None = None) -> list[Result]: ...


def to_plain(value: Any, *, _depth: int = 0) -> Any:
    """Convert a returned value to plain data: tensor subclasses become plain detached
    tensors, iterators become lists, and anything else becomes `Unsupported`."""
    if _depth > 8:
        return Unsupported("nesting too deep")
    if type(value) is torch.Tensor:  # the common case: no subclass to strip
        return value.detach().clone()
    if type(value) is types.GeneratorType:  # the next most common: a generator function's result
        return _consumed(value, _depth)
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, torch.Tensor):
        with torch._C.DisableTorchFunctionSubclass():
            plain = value.detach().clone()
        return plain.as_subclass(torch.Tensor)
    if isinstance(value, (list, tuple)):
        items = [to_plain(v, _depth=_depth + 1) for v in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: to_plain(v, _depth=_depth + 1) for k, v in value.items()}
    if isinstance(value, collections.abc.Iterator):
        return _consumed(value, _depth)
    if type(value).__module__ == "numpy" and type(value).__name__ in ("float64", "float32", "int64", "int32"):
        return value.item()
    return Unsupported(f"{type(value).__module__}.{type(value).__qualname__}")


_ATOMS = frozenset({int, float, bool, str, type(None)})
"""Exact types that hold no tensor, generator or schedule: the common arguments, passed as they are."""


def _consumed(iterator: collections.abc.Iterator, depth: int) -> list:
    """An iterator's items (at most MAX_ITEMS), consumed as list() would, then copied."""
    items = list(itertools.islice(iterator, MAX_ITEMS))
    return [to_plain(item, _depth=depth + 1) for item in items]


def _materialise(arg: Any, generators: dict[str, torch.Generator]) -> Any:
    if type(arg) in _ATOMS:
        return arg
    if isinstance(arg, Gen):
        if arg.key not in generators:
            generators[arg.key] = torch.Generator(device=arg.device).manual_seed(arg.seed)
        return generators[arg.key]
    if isinstance(arg, LrTable):
        return _Schedule(arg.values)
    if isinstance(arg, torch.Tensor):
        return arg.clone()
    if isinstance(arg, list):
        return [_materialise(a, generators) for a in arg]
    if isinstance(arg, tuple):
        return tuple(_materialise(a, generators) for a in arg)
    return arg


class _Schedule:
    """The callable an `LrTable` stands for."""

    def __init__(self, values: tuple[float, ...]):
        self._values = values

    def __call__(self, epoch: int) -> float:
        if isinstance(epoch, bool) or not isinstance(epoch, int) or not 0 <= epoch < len(self._values):
            raise ValueError(f"lr({epoch!r}) was called, but lr is defined for epochs 0..{len(self._values) - 1}")
        return self._values[epoch]


def global_names(code: types.CodeType) -> set[str]:
    """The global names a code object (and the code nested in it) refers to."""
    return set(code.co_names).union(*(global_names(c) for c in code.co_consts if isinstance(c, types.CodeType)))


def tensors_in(value: Any) -> list[torch.Tensor]:
    if type(value) in _ATOMS:
        return []
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in tensors_in(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in tensors_in(v)]
    return []


def replace_tensors(value: Any, tensors: collections.abc.Iterator[Any]) -> Any:
    """`value` with its tensors (in `tensors_in` order) replaced by the next items of `tensors`."""
    if isinstance(value, torch.Tensor):
        return next(tensors)
    if isinstance(value, (list, tuple)):
        items = [replace_tensors(v, tensors) for v in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, dict):
        return {k: replace_tensors(v, tensors) for k, v in value.items()}
    return value


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    return bool(torch.equal(a, b)) or bool(torch.equal(a.nan_to_num(), b.nan_to_num()))


def exact_float32() -> None:
    """No TF32: float32 matmuls stay float32-exact, alike in a worker, the reference process and in-process."""
    torch.set_float32_matmul_precision("highest")


def execute(
    namespace: dict[str, Any], calls: Sequence[Call], generators: dict[str, torch.Generator] | None = None
) -> list[Result]:
    """Run each call against the functions in `namespace` (a student module's globals).

    Exceptions become error results; they never escape. Generators are shared by key
    across the batch (and across calls to `execute` that pass the same `generators`).
    Each call gets fresh copies of its tensor arguments, and the result records whether
    the function changed them."""
    generators = {} if generators is None else generators
    results = []
    for call in calls:
        fn = namespace.get(call.fn)
        if not callable(fn):
            results.append(Result(error_type="MissingFunction", error=f"there is no function named {call.fn!r}"))
            continue
        originals = tensors_in((call.args, call.kwargs))  # the function gets copies of these
        if call.repeat == 1:
            results.append(_call_once(fn, call, generators, originals))
            continue
        values, mutated = [], False
        for _ in range(call.repeat):
            result = _call_once(fn, call, generators, originals)
            if not result.ok:
                break
            values.append(result.value)
            mutated = mutated or result.mutated
        results.append(result if not result.ok else Result(value=values, mutated=mutated))
    return results


def seed_global_states() -> None:
    """Start the global random states from GLOBAL_SEED, as a submission is loaded: one that draws from
    them (though it should draw from its generator) gets the same answers, and verdict, every run."""
    try:
        torch.manual_seed(GLOBAL_SEED)
        random.seed(GLOBAL_SEED)
        numpy = sys.modules.get("numpy")
        if numpy is not None:
            numpy.random.seed(GLOBAL_SEED)
    except Exception:  # noqa: BLE001, S110 - a submission that breaks seeding only loses its own determinism
        pass


class ApiTrace(TorchFunctionMode):
    """The torch functions a call uses, by dotted name (`torch.autograd.grad`, `torch.Tensor.backward`,
    `torch.nn.functional.mse_loss`), as torch's function mode sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if len(self.names) < MAX_APIS:
            self.names.add(api_name(func))
        return func(*args, **(kwargs or {}))


def api_name(func: Any) -> str:
    """`func`'s dotted name, with tensor methods as torch.Tensor.<name>."""
    qualname = str(getattr(func, "__qualname__", getattr(func, "__name__", "?")))
    owner, _, name = qualname.rpartition(".")
    if owner in ("Tensor", "TensorBase"):
        return f"torch.Tensor.{name}"[:MAX_API_CHARS]
    return f"{getattr(func, '__module__', None) or 'torch'}.{qualname}"[:MAX_API_CHARS]


def _call_once(fn: Any, call: Call, generators: dict[str, torch.Generator], originals: list[torch.Tensor]) -> Result:
    """Call `fn` on fresh copies of `call`'s arguments; `originals`: the tensors among them. A
    watched call runs under `ApiTrace`, and sends back its inputs as it left them."""
    args = _materialise(call.args, generators)
    kwargs = {k: _materialise(v, generators) for k, v in call.kwargs.items()}
    copies = tensors_in((args, kwargs)) if originals else []  # taken now: the function may swap what its lists hold
    watched = call.watch and call.repeat == 1
    trace = ApiTrace() if watched else None
    try:
        if trace is None:
            value = to_plain(fn(*args, **kwargs))
        else:
            with trace:
                value = fn(*args, **kwargs)
            value = to_plain(value)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - student code may raise anything, SystemExit included
        return Result(error_type=type(exc).__name__, error=_one_line(exc))
    apis = tuple(sorted(trace.names)) if trace is not None else ()
    if not originals:
        return Result(value=value, apis=apis)
    inputs = [to_plain(t) for t in copies] if watched else None
    return Result(value=value, mutated=changed(originals, copies), inputs=inputs, apis=apis)


def changed(originals: list[torch.Tensor], after: list[Any]) -> bool:
    """Whether the tensors `after` a call differ from the `originals` it was given."""
    if len(after) != len(originals) or not all(type(t) is torch.Tensor for t in after):
        return True
    return not all(_same(a, b) for a, b in zip(originals, after))


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else ""
