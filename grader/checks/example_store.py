"""Hypothesis' examples for every check, recorded once per seed and kept on disk.

Recording the ~560 examples takes hypothesis about a second; reading them back takes
20 ms, which is most of a cold grade's and a self-check's budget saved. A file holds
every check's examples for one seed, under a key made of all that decides them: the
checks' and strategies' source, the wire format, the versions of hypothesis, torch and
Python, and the seed. It is written atomically and read with `wire.decode` (no pickle);
a missing, stale or unreadable file is simply recorded again. The sandbox hides the
folder from submissions (see `grading.open_sandbox`).
"""

from __future__ import annotations

import functools
import hashlib
import platform
from pathlib import Path
from typing import Any

import hypothesis
import torch

from grader.files import cache_dir, write_atomically
from grader.sandbox import wire

_SOURCES = (
    *sorted(Path(__file__).parent.glob("*.py")),
    Path(wire.__file__),
    Path(wire.__file__).with_name("protocol.py"),
)
MAX_BYTES = 64 * 2**20


@functools.cache
def key(seed: int) -> str:
    """A digest of everything that decides the examples recorded under `seed`."""
    digest = hashlib.sha256()
    for path in _SOURCES:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    versions = (hypothesis.__version__, torch.__version__, platform.python_version(), str(seed))
    digest.update("\0".join(versions).encode())
    return digest.hexdigest()[:24]


def _path(seed: int) -> Path:
    return cache_dir() / f"examples-{seed}-{key(seed)}.sgw"


def load(seed: int) -> dict[str, tuple[Any, ...]] | None:
    """The stored examples for `seed` by check id, or None if there are none to trust."""
    try:
        stored = wire.decode(_path(seed).read_bytes(), max_bytes=MAX_BYTES)
    except (OSError, wire.WireError):
        return None
    if not (isinstance(stored, dict) and stored.get("key") == key(seed) and isinstance(stored.get("examples"), dict)):
        return None
    return stored["examples"]


def save(seed: int, examples: dict[str, tuple[Any, ...]]) -> None:
    """Store the examples for `seed`, replacing older files of that seed; quietly skip if unwritable."""
    path = _path(seed)
    try:
        write_atomically(path, wire.encode({"key": key(seed), "examples": examples}, max_bytes=MAX_BYTES))
        for stale in path.parent.glob(f"examples-{seed}-*.sgw"):
            if stale != path:
                stale.unlink(missing_ok=True)
    except (OSError, wire.WireError):
        pass
