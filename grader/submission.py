"""Finding and reading a submission, and running it in this process (for `pytest`)."""

from __future__ import annotations

import json
import re
import sys
import types
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from grader import reference
from grader.sandbox.protocol import Call, Result, execute

NAMES = ("sgd.py", "sgd.ipynb")


class SubmissionError(Exception):
    """A submission that cannot be read at all; the message is one line for the user."""


def locate(path: str | Path) -> Path:
    """The submission file: `path` itself, or the sgd.py / sgd.ipynb inside the folder `path`."""
    path = Path(path)
    if not path.exists():
        raise SubmissionError(f"no such file or folder: {path}")
    if path.is_dir():
        for name in NAMES:
            if (path / name).is_file():
                return path / name
        raise SubmissionError(f"{path} holds no sgd.py or sgd.ipynb")
    if path.suffix not in (".py", ".ipynb"):
        raise SubmissionError(f"{path} is neither a .py file nor a .ipynb notebook")
    return path


_NOT_PYTHON = re.compile(r"^\s*(%|!)")
_FUTURE = re.compile(r"^from __future__ import [\w, ]+$", flags=re.M)


def notebook_code(text: str) -> str:
    """The code cells of a notebook as one script, without IPython magics and shell lines."""
    try:
        cells = json.loads(text)["cells"]
    except (ValueError, KeyError, TypeError) as exc:
        raise SubmissionError(f"not a readable notebook ({exc})") from exc
    chunks = []
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        lines = source if isinstance(source, list) else source.splitlines(keepends=True)
        text = "".join(lines)
        if text.lstrip().startswith("%%"):  # a cell magic: the whole cell is not Python
            continue
        chunks.append("\n".join(line for line in text.splitlines() if not _NOT_PYTHON.match(line)))
    script = "\n\n".join(chunks) + "\n"
    # Each cell may start with `from __future__ import ...`; in one script they must come first.
    futures = sorted(set(_FUTURE.findall(script)))
    return "".join(f"{line}\n" for line in futures) + _FUTURE.sub("", script)


def read_source(path: str | Path) -> tuple[str, Path]:
    """(Python source, file it came from) for a submission file or folder."""
    file = locate(path)
    try:
        text = file.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise SubmissionError(f"cannot read {file}: {exc.strerror}") from exc
    return (notebook_code(text) if file.suffix == ".ipynb" else text), file


def load_module(source: str, filename: str = "sgd.py") -> types.ModuleType:
    """Execute a submission's source as the module `sgd`, in this process."""
    module = types.ModuleType("sgd")
    module.__file__ = filename
    code = compile(source, filename, "exec")
    exec(code, module.__dict__)  # noqa: S102 - the student's own code, on the student's own machine
    return module


class InProcessSubmission:
    """Runs calls directly against a loaded module: fast, and fine for self-checks.

    With `isolate=step`, the module's other contract functions are swapped for the
    reference ones during the calls (when the reference is available)."""

    def __init__(self, module: types.ModuleType):
        self.module = module

    def run(self, calls: Sequence[Call], *, isolate: str | None = None) -> list[Result]:
        with self._isolated(isolate):
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
    return InProcessSubmission(load_module(source, str(file)))
