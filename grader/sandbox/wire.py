"""Plain data to bytes and back, without pickle: a JSON header, then raw tensor buffers.

A message is `MAGIC`, the header length (4 bytes, big-endian), the UTF-8 JSON header
`{"root": node, "buffers": [byte lengths]}`, then the buffers back to back. A node is a
list whose first item is a tag (see `_encode`). Bytes from the worker are hostile:
`decode` checks every field and raises `WireError` on anything it did not expect.
"""

from __future__ import annotations

import json
import select
import socket
import struct
import time
from typing import Any

import torch

from grader.sandbox.protocol import MAX_API_CHARS, MAX_APIS, Call, Gen, GenState, LrTable, Result, Unsupported

MAGIC = b"SGW1"
MAX_MESSAGE_BYTES = 64 * 2**20
"""Default cap on one message, tensors included."""
MAX_HEADER_BYTES = 32 * 2**20
MAX_DEPTH = 32
MAX_DIMS = 16
MAX_DIM_SIZE = 2**31
MAX_NUMEL = 2**34
"""No dimension of a tensor may exceed MAX_DIM_SIZE, nor its element count MAX_NUMEL (empty ones included)."""
SHORT_STRING = 256
"""Longer strings travel as UTF-8 buffers (JSON would escape them up to 6 bytes a character)."""
MAX_REPEAT = 100_000
"""The most times one `Call` may repeat."""

DTYPES: dict[str, torch.dtype] = {
    str(d).removeprefix("torch."): d
    for d in (
        torch.bool,
        torch.uint8,
        torch.int8,
        torch.int16,
        torch.int32,
        torch.int64,
        torch.float16,
        torch.bfloat16,
        torch.float32,
        torch.float64,
        torch.complex64,
        torch.complex128,
    )
}
"""The tensor dtypes that may cross the wire, by name."""
_DTYPE_NAMES = {dtype: name for name, dtype in DTYPES.items()}

_HEAD = struct.Struct(">I")
_FRAME = struct.Struct(">Q")


class WireError(ValueError):
    """Bytes that are not a well-formed message, or a value that cannot be encoded."""


def encode(value: Any, *, max_bytes: int = MAX_MESSAGE_BYTES) -> bytes:
    """Encode plain data (and the protocol's dataclasses) as one message."""
    buffers: list[bytes] = []
    root = _encode(value, buffers, 0)
    sizes = [len(b) for b in buffers]
    header = json.dumps({"root": root, "buffers": sizes}, separators=(",", ":"), allow_nan=False).encode()
    total = len(MAGIC) + _HEAD.size + len(header) + sum(sizes)
    if len(header) > MAX_HEADER_BYTES or total > max_bytes:
        raise WireError(f"message of {total} bytes is over the cap of {max_bytes} bytes")
    return b"".join([MAGIC, _HEAD.pack(len(header)), header, *buffers])


def _encode(value: Any, buffers: list[bytes], depth: int) -> list:
    if depth > MAX_DEPTH:
        raise WireError("value is nested too deeply")
    d = depth + 1
    kind = type(value)
    if kind is torch.Tensor:  # the common cases first, by exact type
        return _encode_tensor(value, buffers)
    if kind is tuple:
        return ["t", [_encode(v, buffers, d) for v in value]]
    if kind is list:
        return ["l", [_encode(v, buffers, d) for v in value]]
    if kind is float:
        return ["f", value.hex()]
    if value is None:
        return ["n"]
    if isinstance(value, bool):
        return ["b", value]
    if isinstance(value, int):
        return ["i", str(value)]
    if isinstance(value, float):
        return ["f", value.hex()]
    if isinstance(value, str):
        return _encode_str(value, buffers)
    if isinstance(value, torch.Tensor):
        return _encode_tensor(value, buffers)
    if isinstance(value, torch.dtype):
        return ["dt", _dtype_name(value)]
    if isinstance(value, torch.device):
        return ["dv", str(value)]
    if type(value).__module__ == "numpy" and type(value).__name__ == "ndarray":
        return _encode_numpy(value, buffers)
    if isinstance(value, list):
        return ["l", [_encode(v, buffers, d) for v in value]]
    if isinstance(value, tuple):
        return ["t", [_encode(v, buffers, d) for v in value]]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise WireError("dict keys must be str")
        return ["d", [[k, _encode(v, buffers, d)] for k, v in value.items()]]
    if isinstance(value, Gen):
        return ["G", str(int(value.seed)), str(value.key), str(value.device)]
    if isinstance(value, GenState):
        return ["GS", str(value.device), _encode_tensor(value.state, buffers)]
    if isinstance(value, LrTable):
        return ["LR", [float(v).hex() for v in value.values]]
    if isinstance(value, Unsupported):
        return ["U", str(value.type_name)]
    if isinstance(value, Call):
        return [
            "C",
            str(value.fn),
            _encode(tuple(value.args), buffers, d),
            _encode(dict(value.kwargs), buffers, d),
            int(value.repeat),
            bool(value.watch),
        ]
    if isinstance(value, Result):
        return [
            "R",
            _encode(value.value, buffers, d),
            _opt_str(value.error_type),
            _opt_str(value.error),
            bool(value.mutated),
            _encode(value.inputs, buffers, d),
            [str(api) for api in value.apis],
        ]
    raise WireError(f"cannot encode a {type(value).__module__}.{type(value).__qualname__}")


def _encode_numpy(array: Any, buffers: list[bytes]) -> list:
    try:
        tensor = torch.from_numpy(array.copy())
    except (TypeError, ValueError) as exc:
        raise WireError(f"cannot encode a numpy array of dtype {array.dtype}") from exc
    _, name, shape, _, index = _encode_tensor(tensor, buffers)
    return ["N", name, shape, index]


def _encode_str(value: str, buffers: list[bytes]) -> list:
    if len(value) <= SHORT_STRING:
        return ["s", value]
    buffers.append(value.encode("utf-8", "surrogatepass"))
    return ["S", len(buffers) - 1]


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _dtype_name(dtype: torch.dtype) -> str:
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        raise WireError(f"tensor dtype {dtype} cannot cross the wire")
    return name


def _encode_tensor(tensor: torch.Tensor, buffers: list[bytes]) -> list:
    name = _dtype_name(tensor.dtype)
    if type(tensor) is torch.Tensor and tensor.is_cpu and _is_plain_strided(tensor):
        t = tensor.detach()
        if t.dtype in _NUMPY_DTYPES:  # the common case: numpy writes the bytes in one go
            buffers.append(t.numpy().tobytes() if t.numel() else b"")
            return ["T", name, list(t.shape), "cpu", len(buffers) - 1]
    else:
        with torch._C.DisableTorchFunctionSubclass():
            t = tensor.detach()
            if t.layout != torch.strided:
                t = t.to_dense()
            t = t.resolve_conj().resolve_neg().to("cpu").contiguous().as_subclass(torch.Tensor)
    if not t.numel():
        buffers.append(b"")
    elif t.dtype in _NUMPY_DTYPES:
        buffers.append(t.numpy().tobytes())
    else:
        buffers.append(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return ["T", name, list(t.shape), str(tensor.device), len(buffers) - 1]


def _is_plain_strided(t: torch.Tensor) -> bool:
    return t.layout == torch.strided and t.is_contiguous() and not t.is_conj() and not t.is_neg()


def decode(data: bytes | bytearray | memoryview, *, max_bytes: int = MAX_MESSAGE_BYTES) -> Any:
    """Decode one message, checking everything; raise `WireError` if it is malformed."""
    view = memoryview(data).cast("B")
    if len(view) > max_bytes:
        raise WireError(f"message of {len(view)} bytes is over the cap of {max_bytes} bytes")
    if len(view) < len(MAGIC) + _HEAD.size or bytes(view[: len(MAGIC)]) != MAGIC:
        raise WireError("not a wire message (bad magic)")
    (header_len,) = _HEAD.unpack_from(view, len(MAGIC))
    start = len(MAGIC) + _HEAD.size
    if header_len > MAX_HEADER_BYTES or start + header_len > len(view):
        raise WireError("header length out of range")
    try:
        header = json.loads(bytes(view[start : start + header_len]).decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise WireError(f"header is not valid JSON: {str(exc)[:100]}") from None
    if not isinstance(header, dict) or set(header) != {"root", "buffers"}:
        raise WireError("header must have exactly 'root' and 'buffers'")
    sizes = header["buffers"]
    if not isinstance(sizes, list) or not all(type(s) is int and s >= 0 for s in sizes):
        raise WireError("'buffers' must be a list of byte counts")
    offsets, pos = [], start + header_len
    for size in sizes:
        offsets.append(pos)
        pos += size
    if pos != len(view):
        raise WireError(f"buffers add up to {pos} bytes but the message has {len(view)}")
    reader = _Reader(view, sizes, offsets, data if type(data) is bytearray else None)
    try:
        value = reader.node(header["root"], 0)
    except WireError:
        raise
    except (Exception, RecursionError) as exc:  # noqa: BLE001 - whatever torch or Python make of forged fields
        raise WireError(f"malformed message ({type(exc).__name__}: {str(exc)[:100]})") from None
    if not all(reader.used):
        raise WireError("message has unused buffers")
    return value


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed")


class _Reader:
    def __init__(self, view: memoryview, sizes: list[int], offsets: list[int], writable: bytearray | None) -> None:
        self.view, self.sizes, self.offsets = view, sizes, offsets
        self._writable = writable
        """The message as one bytearray, which the tensors read from (the received one, or one copy)."""
        self.used = [False] * len(sizes)

    def node(self, node: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise WireError("value is nested too deeply")
        if type(node) is not list or not node or type(node[0]) is not str:
            raise WireError(f"malformed node {_short(node)}")
        found = _NODES.get(node[0])
        if found is None or len(node) != len(found[0]) + 1:
            raise WireError(f"unknown or malformed node {_short(node)}")
        kinds, read = found
        fields = node[1:]
        for field, allowed in zip(fields, kinds):
            if type(field) not in allowed:
                raise WireError(f"unknown or malformed node {_short(node)}")
        return read(self, depth + 1, *fields)

    def _none(self, d: int) -> None:
        return None

    def _plain(self, d: int, value: Any) -> Any:
        return value

    def _int(self, d: int, text: str) -> int:
        return _int(text)

    def _float(self, d: int, text: str) -> float:
        return _float(text)

    def _dtype(self, d: int, name: str) -> torch.dtype:
        return _dtype(name)

    def _torch_device(self, d: int, name: str) -> torch.device:
        if len(name) > 40:
            raise WireError("device name too long")
        return torch.device(name)

    def _long_str(self, d: int, index: int) -> str:
        return bytes(self._buffer(index)).decode("utf-8", "surrogatepass")

    def _numpy(self, d: int, dtype_name: str, shape: list, index: int) -> Any:
        return self._tensor(d, dtype_name, shape, "cpu", index).numpy()

    def _gen_state(self, d: int, device: str, state: list) -> GenState:
        tensor = self.node(state, d)
        if not isinstance(tensor, torch.Tensor) or tensor.dtype != torch.uint8 or tensor.dim() != 1:
            raise WireError("malformed generator state")
        return GenState(device, tensor.cpu())

    def _buffer(self, index: int) -> memoryview:
        if not 0 <= index < len(self.sizes) or self.used[index]:
            raise WireError("buffer index out of range or used twice")
        self.used[index] = True
        start = self.offsets[index]
        return self.view[start : start + self.sizes[index]]

    def _list(self, d: int, items: list) -> list:
        return [self.node(v, d) for v in items]

    def _tuple(self, d: int, items: list) -> tuple:
        return tuple([self.node(v, d) for v in items])

    def _dict(self, d: int, pairs: list) -> dict:
        out = {}
        for pair in pairs:
            if not (type(pair) is list and len(pair) == 2 and type(pair[0]) is str) or pair[0] in out:
                raise WireError("malformed dict entry")
            out[pair[0]] = self.node(pair[1], d)
        return out

    def _gen(self, d: int, seed: str, key: str, device: str) -> Gen:
        return Gen(seed=_int(seed), key=key, device=device)

    def _lr_table(self, d: int, values: list) -> LrTable:
        if not all(type(v) is str for v in values):
            raise WireError("malformed LrTable")
        return LrTable(tuple(_float(v) for v in values))

    def _unsupported(self, d: int, type_name: str) -> Unsupported:
        return Unsupported(type_name)

    def _call(self, d: int, fn: str, args_node: list, kwargs_node: list, repeat: int, watch: bool) -> Call:
        args, kwargs = self.node(args_node, d), self.node(kwargs_node, d)
        if type(args) is not tuple or type(kwargs) is not dict or not 1 <= repeat <= MAX_REPEAT:
            raise WireError("malformed Call")
        return Call(fn, args, kwargs, repeat, watch)

    def _result(
        self, d: int, value: list, error_type: str | None, error: str | None, mutated: bool, inputs: list, apis: list
    ) -> Result:
        after = self.node(inputs, d)
        if not (after is None or type(after) is list):
            raise WireError("malformed Result")
        if len(apis) > MAX_APIS or not all(type(a) is str and len(a) <= MAX_API_CHARS for a in apis):
            raise WireError("malformed Result: its apis")
        return Result(self.node(value, d), error_type, error, mutated, after, tuple(apis))

    def _tensor(self, d: int, dtype_name: str, shape: list, device: str, index: int) -> torch.Tensor:
        dtype = _dtype(dtype_name)
        if len(shape) > MAX_DIMS:
            raise WireError(f"bad tensor shape {_short(shape)}")
        numel, bound = 1, 1  # bound: the element count with empty dimensions counted as 1
        for size in shape:
            if type(size) is not int or not 0 <= size <= MAX_DIM_SIZE:
                raise WireError(f"bad tensor shape {_short(shape)}")
            numel, bound = numel * size, bound * max(size, 1)
        if bound > MAX_NUMEL:
            raise WireError(f"tensor shape {_short(shape)} is too large")
        buffer = self._buffer(index)
        if numel * _ITEMSIZE[dtype] != len(buffer):
            raise WireError(f"tensor of shape {shape} and dtype {dtype_name} != {len(buffer)} bytes")
        if not len(buffer):
            tensor = torch.empty(shape, dtype=dtype)
        elif dtype == torch.bool:
            raw = torch.frombuffer(bytearray(buffer), dtype=torch.uint8)
            if bool((raw > 1).any()):
                raise WireError("bool tensor holds bytes other than 0 and 1")
            tensor = raw.view(torch.bool).reshape(shape)
        else:  # a view of the message's own bytes: no copy per tensor
            if self._writable is None:
                self._writable = bytearray(self.view)
            offset = self.offsets[index]
            tensor = torch.frombuffer(self._writable, dtype=dtype, count=numel, offset=offset)
            tensor = tensor if len(shape) == 1 else tensor.reshape(shape)
        if device == "cpu":
            return tensor
        target = _device(device)
        return tensor.to(target) if target is not None else tensor


_STR, _OPT_STR = (str,), (str, type(None))
_NODE_FIELDS: dict[str, tuple[tuple[type, ...], ...]] = {
    "n": (),
    "b": ((bool,),),
    "i": (_STR,),
    "f": (_STR,),
    "s": (_STR,),
    "T": (_STR, (list,), _STR, (int,)),
    "dt": (_STR,),
    "dv": (_STR,),
    "S": ((int,),),
    "N": (_STR, (list,), (int,)),
    "GS": (_STR, (list,)),
    "l": ((list,),),
    "t": ((list,),),
    "d": ((list,),),
    "G": (_STR, _STR, _STR),
    "LR": ((list,),),
    "U": (_STR,),
    "C": (_STR, (list,), (list,), (int,), (bool,)),
    "R": ((list,), _OPT_STR, _OPT_STR, (bool,), (list,), (list,)),
}
"""The exact field types of each node, after its tag."""
_NODE_READERS = {
    "n": "_none",
    "b": "_plain",
    "i": "_int",
    "f": "_float",
    "s": "_plain",
    "T": "_tensor",
    "dt": "_dtype",
    "dv": "_torch_device",
    "S": "_long_str",
    "N": "_numpy",
    "GS": "_gen_state",
    "l": "_list",
    "t": "_tuple",
    "d": "_dict",
    "G": "_gen",
    "LR": "_lr_table",
    "U": "_unsupported",
    "C": "_call",
    "R": "_result",
}
_NODES = {tag: (_NODE_FIELDS[tag], getattr(_Reader, name)) for tag, name in _NODE_READERS.items()}
"""Each tag's field types and its reader."""
_NUMPY_DTYPES = {d for d in DTYPES.values() if d not in (torch.bfloat16,)}
"""The dtypes whose tensors `numpy()` can hold."""
_ITEMSIZE = {dtype: torch.empty((), dtype=dtype).element_size() for dtype in DTYPES.values()}


def _int(text: str) -> int:
    if len(text) > 400:
        raise WireError("integer too long")
    try:
        return int(text, 10)
    except ValueError:
        raise WireError(f"bad integer {text[:40]!r}") from None


def _float(text: str) -> float:
    if len(text) > 40:
        raise WireError("float too long")
    try:
        return float.fromhex(text)
    except (ValueError, OverflowError):
        raise WireError(f"bad float {text!r}") from None


def _dtype(name: str) -> torch.dtype:
    if name not in DTYPES:
        raise WireError(f"dtype {name[:40]!r} is not allowed")
    return DTYPES[name]


def _device(name: str) -> torch.device | None:
    """The device to move a decoded tensor to, or None to keep it on the CPU."""
    if name == "cpu":
        return None
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError, TypeError):
        raise WireError(f"bad device {name[:40]!r}") from None
    if device.type == "cuda" and torch.cuda.is_available():
        index = 0 if device.index is None else device.index
        return device if index < torch.cuda.device_count() else None
    if device.type == "mps" and torch.backends.mps.is_available():
        return device
    return None


def _short(node: Any) -> str:
    return repr(node)[:60]


def is_plain(value: Any, *, depth: int = 0) -> bool:
    """True for plain data (and `Unsupported` markers): what a `Result.value` may hold."""
    if depth > MAX_DEPTH:
        return False
    if type(value) is torch.Tensor:  # the common cases first
        return True
    if isinstance(value, (list, tuple)):
        return all([type(v) is torch.Tensor or is_plain(v, depth=depth + 1) for v in value])
    if value is None or isinstance(value, (bool, int, float, str, Unsupported)):
        return True
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_plain(v, depth=depth + 1) for k, v in value.items())
    return False


def send_frame(sock: socket.socket, payload: bytes, *, deadline: float | None = None) -> None:
    """Send one length-prefixed message; raise `TimeoutError` past `deadline` (`time.monotonic`)."""
    sock.settimeout(None if deadline is None else max(deadline - time.monotonic(), 0.001))
    try:
        if len(payload) <= 2**20:  # one send, one wake-up of the peer
            sock.sendall(_FRAME.pack(len(payload)) + payload)
        else:
            sock.sendall(_FRAME.pack(len(payload)))
            sock.sendall(payload)
    finally:
        sock.settimeout(None)


def recv_frame(sock: socket.socket, *, deadline: float | None = None, max_bytes: int = MAX_MESSAGE_BYTES) -> bytearray:
    """Receive one length-prefixed message. Raise `TimeoutError` past `deadline`,
    `EOFError` if the peer closed, `WireError` if the length is over `max_bytes`."""
    (size,) = _FRAME.unpack(_recv_exact(sock, _FRAME.size, deadline))
    if size > max_bytes:
        raise WireError(f"message of {size} bytes is over the cap of {max_bytes} bytes")
    return _recv_exact(sock, size, deadline)


def _recv_exact(sock: socket.socket, size: int, deadline: float | None) -> bytearray:
    buf = bytearray(size)
    view, got = memoryview(buf), 0
    while got < size:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([sock], [], [], remaining)[0]:
                raise TimeoutError("receive timed out")
        n = sock.recv_into(view[got:], min(size - got, 2**20))
        if n == 0:
            raise EOFError("peer closed the connection")
        got += n
    return buf
