"""Finding and reading a submission, and running it in this process (for `pytest`).

A submission is read, never followed: the file (and a submission folder) must be real, not a
symbolic link, and the file a regular one, not a FIFO, device, socket or /proc file; at most
`PY_LIMIT` bytes of a .py and `NOTEBOOK_LIMIT` of a .ipynb are read. A folder holding both
sgd.py and sgd.ipynb is graded by its sgd.py. Every refusal is one line, in `SubmissionError`.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import stat
import sys
import types
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader import reference

if TYPE_CHECKING:  # the sandbox protocol needs torch; reading a submission must not
    from grader.sandbox.protocol import Call, Result

NAMES = ("sgd.py", "sgd.ipynb")
"""What a submission folder is graded by, in order: sgd.py wins over sgd.ipynb."""
PY_LIMIT = 4 * 2**20
NOTEBOOK_LIMIT = 32 * 2**20
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_KINDS = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISDIR, "a folder"),
)


class Unloadable:
    """A submission that could not be loaded: every call fails with the same one-line reason."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def run(self, calls: Sequence[Call], *, judging: str | None = None) -> list[Result]:
        from grader.sandbox.protocol import Result  # here: the protocol imports torch

        return [Result(error_type="ImportError", error=self.reason) for _ in calls]


class SubmissionError(Exception):
    """A submission that cannot be read at all; the message is one line for the user."""


def one_line(text: object, limit: int = 300) -> str:
    """The first line of `text`, at most `limit` characters."""
    lines = str(text).strip().splitlines() or [""]
    line = lines[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"


def refusal(mode: int) -> str | None:
    """Why a file of this mode (from lstat or fstat) is not read, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    return next((kind for test, kind in _KINDS if test(mode)), "not a regular file")


def _pseudo_devices() -> set[int]:
    """The st_dev of /proc and /sys: files there are regular only in name."""
    devices = set()
    for folder in ("/proc", "/sys"):
        try:
            devices.add(os.stat(folder).st_dev)
        except OSError:
            pass
    return devices


def _limit(name: str) -> int:
    return NOTEBOOK_LIMIT if name.endswith(".ipynb") else PY_LIMIT


def _why_not(st: os.stat_result) -> str | None:
    """Why a file with this stat (not followed) is not read, or None."""
    if st.st_dev in _pseudo_devices():
        return "a /proc or /sys file"
    return refusal(st.st_mode)


def _open(name: str, shown: Path, dir_fd: int | None) -> int:
    """An fd of the regular file `name` (relative to `dir_fd`), or SubmissionError saying why not."""
    try:
        before = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError as exc:
        raise SubmissionError(f"cannot read {shown}: {exc.strerror}") from None
    if why := _why_not(before):
        raise SubmissionError(f"{shown} is {why}: not read")
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        raise SubmissionError(f"cannot read {shown}: {exc.strerror}") from None
    after = os.fstat(fd)
    if refusal(after.st_mode) or (after.st_dev, after.st_ino) != (before.st_dev, before.st_ino):
        os.close(fd)
        raise SubmissionError(f"{shown} changed while it was opened: not read")
    return fd


def _read_fd(fd: int, shown: Path) -> bytes:
    """At most the file's cap; a larger file is refused."""
    limit = _limit(shown.name)
    chunks, size = [], 0
    while size <= limit:
        chunk = os.read(fd, min(limit + 1 - size, 2**20))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise SubmissionError(f"{shown} is larger than {limit // 2**20} MiB: not read")
    return b"".join(chunks)


@contextmanager
def _opened(path: str | Path) -> Iterator[tuple[int, Path]]:
    """(fd, file) of the submission at `path`: the file itself, or the sgd.py / sgd.ipynb in the folder."""
    path = Path(path)
    try:
        st = os.lstat(path)
    except OSError:
        raise SubmissionError(f"no such file or folder: {path}") from None
    why = _why_not(st)
    if stat.S_ISDIR(st.st_mode) and why == "a folder":
        fd, file = _open_in_folder(path)
    elif why:
        raise SubmissionError(f"{path} is {why}: not read")
    elif path.suffix not in (".py", ".ipynb"):
        raise SubmissionError(f"{path} is neither a .py file nor a .ipynb notebook")
    else:
        fd, file = _open(str(path), path, None), path
    try:
        yield fd, file
    finally:
        os.close(fd)


def _open_in_folder(folder: Path) -> tuple[int, Path]:
    try:
        dir_fd = os.open(folder, _DIR_FLAGS)
    except OSError as exc:
        raise SubmissionError(f"cannot read {folder}: {exc.strerror}") from None
    try:
        for name in NAMES:
            try:
                os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            except FileNotFoundError:
                continue
            return _open(name, folder / name, dir_fd), folder / name
    finally:
        os.close(dir_fd)
    raise SubmissionError(f"{folder} holds no sgd.py or sgd.ipynb")


def locate(path: str | Path) -> Path:
    """The submission file: `path` itself, or the sgd.py (else sgd.ipynb) inside the folder `path`;
    checked as `read_bytes` checks it, but not read."""
    with _opened(path) as (_, file):
        return file


def read_bytes(path: str | Path) -> tuple[bytes, Path]:
    """(bytes, file) of the submission at `path`, read safely and within its cap (see the module)."""
    with _opened(path) as (fd, file):
        try:
            return _read_fd(fd, file), file
        except OSError as exc:
            raise SubmissionError(f"cannot read {file}: {exc.strerror}") from None


def decode(data: bytes, file: Path) -> str:
    """The Python source in `data`: decoded as import does (BOM, coding cookie), or a notebook's code."""
    try:
        return notebook_code(data) if file.suffix == ".ipynb" else importlib.util.decode_source(data)
    except SubmissionError as exc:
        raise SubmissionError(f"{file}: {exc}") from None
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        raise SubmissionError(f"{file} cannot be decoded: {one_line(exc)}") from None


_NOT_PYTHON = re.compile(r"^\s*(%|!)")
_FUTURE = re.compile(r"^from __future__ import [\w, ]+$", flags=re.M)


def _cells(document: str | bytes) -> list[dict]:
    """A notebook's cells, or SubmissionError: not JSON, or not shaped like a notebook."""
    if isinstance(document, bytes):
        document = document.removeprefix(b"\xef\xbb\xbf")
    else:
        document = document.removeprefix("\ufeff")
    try:
        cells = json.loads(document)["cells"]
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise SubmissionError(f"not a readable notebook ({one_line(exc)})") from None
    if not isinstance(cells, list) or not all(isinstance(c, dict) for c in cells):
        raise SubmissionError("not a readable notebook (its cells are not a list of cells)")
    return cells


def _cell_text(cell: dict) -> str:
    source = cell.get("source", "")
    lines = source if isinstance(source, list) else [source]
    if not all(isinstance(line, str) for line in lines):
        raise SubmissionError("not a readable notebook (a cell's source is not text)")
    return "".join(lines)


def notebook_code(document: str | bytes) -> str:
    """The code cells of a notebook (its JSON, a UTF-8 BOM allowed) as one script, without
    IPython magics and shell lines."""
    chunks = []
    for cell in _cells(document):
        if cell.get("cell_type") != "code":
            continue
        text = _cell_text(cell)
        if text.lstrip().startswith("%%"):  # a cell magic: the whole cell is not Python
            continue
        chunks.append("\n".join(line for line in text.splitlines() if not _NOT_PYTHON.match(line)))
    script = "\n\n".join(chunks) + "\n"
    # Each cell may start with `from __future__ import ...`; in one script they must come first.
    futures = sorted(set(_FUTURE.findall(script)))
    return "".join(f"{line}\n" for line in futures) + _FUTURE.sub("", script)


def read_source(path: str | Path) -> tuple[str, Path]:
    """(Python source, file it came from) for a submission file or folder (sgd.py wins over sgd.ipynb)."""
    data, file = read_bytes(path)
    return decode(data, file), file


def load_module(source: str, filename: str = "sgd.py") -> types.ModuleType:
    """Execute a submission's source as the module `sgd`, in this process."""
    from grader.sandbox.protocol import seed_global_states

    module = types.ModuleType("sgd")
    module.__file__ = filename
    code = compile(source, filename, "exec")
    seed_global_states()
    exec(code, module.__dict__)  # noqa: S102 - the student's own code, on the student's own machine
    return module


class InProcessSubmission:
    """Runs calls directly against a loaded module: fast, and fine for self-checks.

    With `judging=step`, the module's other contract functions are swapped for the
    reference ones during the calls (when the reference is available)."""

    def __init__(self, module: types.ModuleType, source: str | None = None):
        self.module = module
        self.source = source
        """The code it was loaded from, which the rules read (None: not known)."""

    def run(self, calls: Sequence[Call], *, judging: str | None = None) -> list[Result]:
        from grader.sandbox.protocol import execute

        with self._isolated(judging):
            return execute(self.module.__dict__, calls)

    @contextmanager
    def _isolated(self, step: str | None) -> Iterator[None]:
        if step is None or not reference.available():
            yield
            return
        namespace: dict[str, Any] = self.module.__dict__
        replaced = reference.helpers(step)
        saved = {name: namespace[name] for name in replaced if name in namespace}
        namespace.update(replaced)
        try:
            yield
        finally:
            for name in replaced:
                namespace.pop(name, None)
            namespace.update(saved)


def in_process(path: str | Path) -> InProcessSubmission:
    """Load the submission at `path` into this process."""
    source, file = read_source(path)
    sys.dont_write_bytecode = True
    return InProcessSubmission(load_module(source, str(file)), source)
