"""Where the grader keeps its cache, and writing files so that readers see the old content or the new,
never half (standard library only)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from grader.sandbox import launcher


def write_atomically(path: Path, content: str | bytes) -> None:
    """Write `content` to `path` via a temporary file and `os.replace`, readable like any new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content.encode() if isinstance(content, str) else content)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; results and feedback are for sharing
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cache_dir() -> Path:
    """`$SGD_GRADER_CACHE`, else `$XDG_CACHE_HOME/sgd-grader`, else `~/.cache/sgd-grader`."""
    if os.environ.get("SGD_GRADER_CACHE"):
        return Path(os.environ["SGD_GRADER_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sgd-grader"


def launch_for_grading(device: str = "cpu", *, preload_optim: bool = True) -> launcher.Launch:
    """A zygote whose workers cannot see the grader, the solutions, the tests or the grader's cache.
    `preload_optim` (see `launcher.launch`) pays off over many submissions, not for one."""
    from grader.sandbox import launcher  # here: the student release has this module but not the launcher

    store = cache_dir()
    try:
        store.mkdir(parents=True, exist_ok=True)  # a path is hidden only if it exists when the zygote starts
    except OSError:
        pass
    return launcher.launch([str(store)], device, preload_optim=preload_optim)
