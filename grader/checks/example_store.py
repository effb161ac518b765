"""Hypothesis' examples for every check, recorded once per seed and kept on disk.

Recording the ~560 examples takes hypothesis about a second; reading them back takes
20 ms, which is most of a cold grade's and a self-check's budget saved. A file holds
every check's examples for one seed, under a key made of all that decides them: the
grader's source, the versions of hypothesis, torch and Python, and the seed. It is
written atomically and read with `wire.decode` (no pickle); a missing, stale or
unreadable file is simply recorded again. The sandbox hides the folder from submissions
(see `files.launch_for_grading`).

Hypothesis mixes into its draws constants found in the source of every non-library
module loaded in the process, so the same seed would give other examples (and other shrunk
counterexamples) in a process that has loaded other modules (a test file, a student's
module), or after any edit of a number in the grader. `without_local_constants` switches
that off in every process that imports this module: the draws depend on the seed, the
strategies and hypothesis alone. `record` also runs in a fresh interpreter that loads only
the grader (`python -m grader.checks.example_store SEED` writes them, wire-encoded, to its
standard output). Every process, whatever it has loaded, judges on the same examples.
"""

from __future__ import annotations

import functools
import hashlib
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import hypothesis
import torch
from hypothesis import HealthCheck, Phase, given, seed, settings

from grader.checks import answers
from grader.checks.model import Check, checks_for
from grader.files import cache_dir, write_atomically
from grader.sandbox import wire
from grader.sandbox.protocol import Gen

GRADER = Path(__file__).resolve().parents[1]
_TREE = hashlib.sha256(str(GRADER).encode()).hexdigest()[:8]
"""This grader tree's location, as a store file names it."""


def without_local_constants() -> None:
    """Stop hypothesis drawing constants from the source of the modules loaded (see above)."""
    from hypothesis.internal.conjecture import providers

    if hasattr(providers, "_get_local_constants") and hasattr(providers, "Constants"):
        providers._get_local_constants = providers.Constants
        cache = getattr(providers, "CONSTANTS_CACHE", None)
        if cache is not None:  # what was drawn from them before, if anything
            providers.CONSTANTS_CACHE = type(cache)(cache.max_size)


without_local_constants()
MAX_BYTES = 64 * 2**20


@functools.cache
def key(seed: int) -> str:
    """A digest of everything that decides the examples recorded under `seed`."""
    digest = hashlib.sha256()
    for path in sorted(GRADER.rglob("*.py")):
        digest.update(path.relative_to(GRADER).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    versions = (hypothesis.__version__, torch.__version__, platform.python_version(), str(seed))
    digest.update("\0".join(versions).encode())
    return digest.hexdigest()[:24]


def store_path(seed: int) -> Path:
    """The store of `seed` for this grader tree: trees share the cache folder (a kit and its student
    release, two checkouts) but never replace each other's files."""
    return cache_dir() / f"examples-{seed}-{_TREE}-{key(seed)}.sgw"


def load(seed: int) -> dict[str, Any] | None:
    """What is stored for `seed` (the examples by check id, the answers), or None if nothing is to be trusted."""
    try:
        stored = wire.decode(store_path(seed).read_bytes(), max_bytes=MAX_BYTES)
    except (OSError, wire.WireError):
        return None
    if not (isinstance(stored, dict) and stored.get("key") == key(seed) and _well_formed(stored)):
        return None
    return stored


def _well_formed(stored: dict) -> bool:
    answers = stored.get("answers")
    return (
        isinstance(stored.get("examples"), dict)
        and isinstance(stored.get("rehearsals"), dict)
        and isinstance(answers, list)
        and all(isinstance(entry, list) and len(entry) == 5 and isinstance(entry[0], str) for entry in answers)
    )


def save(seed: int, stored: dict[str, Any]) -> None:
    """Store the examples and answers for `seed`, replacing this tree's older files of that seed; quietly
    skip if unwritable."""
    path = store_path(seed)
    try:
        write_atomically(path, wire.encode({**stored, "key": key(seed)}, max_bytes=MAX_BYTES))
        untreed = path.parent.glob(f"examples-{seed}-{'?' * 24}.sgw")  # named before trees were
        for stale in [*path.parent.glob(f"examples-{seed}-{_TREE}-*.sgw"), *untreed]:
            if stale != path:
                stale.unlink(missing_ok=True)
    except (OSError, wire.WireError):
        pass


def record(seed: int) -> dict[str, Any]:
    """Every check's examples for `seed`, recorded by hypothesis in a fresh interpreter, and the
    oracles' answers on them (`answers.record`)."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(GRADER.parent), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run(
        [sys.executable, "-m", "grader.checks.example_store", str(seed)],
        env=env,
        cwd=GRADER.parent,
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"recording the examples failed: {done.stderr.decode(errors='replace')[-2000:]}")
    return wire.decode(done.stdout, max_bytes=MAX_BYTES)


def _record_here(seed: int) -> dict[str, Any]:
    examples = {c.id: record_examples(c, seed) for c in checks_for() if c.examples is not None}
    found, rehearsals = answers.record(examples)
    return {"examples": examples, "answers": found, "rehearsals": rehearsals}


def hypothesis_settings(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        database=None,
        deadline=None,
        derandomize=False,
        print_blob=False,
        report_multiple_bugs=False,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
    )


@functools.cache
def recorded_examples(check_: Check, seed_: int) -> tuple[Any, ...]:
    """The examples hypothesis generates for this check under this seed, in order (recorded in a
    fresh interpreter and kept on disk)."""
    if check_.examples is None:
        return (None,)
    stored = stored_examples(seed_)
    return stored[check_.id] if check_.id in stored else record_examples(check_, seed_)


@functools.cache
def stored_examples(seed_: int) -> dict[str, tuple[Any, ...]]:
    """Every check's examples for `seed_`, from the disk store or recorded now and stored; the
    oracles answer from the answers stored with them from now on (`answers.install`)."""
    stored = load(seed_)
    if stored is None:
        stored = record(seed_)
        save(seed_, stored)
    answers.install(stored["answers"], stored["rehearsals"])
    return stored["examples"]


def record_examples(check_: Check, seed_: int) -> tuple[Any, ...]:
    """Run hypothesis now (not via the store) and return the examples it generates, in order."""
    collected: list[Any] = []

    @seed(seed_)
    @hypothesis_settings(check_.max_examples)
    @given(check_.examples)
    def collect(example: Any) -> None:
        collected.append(example)

    collect()
    return tuple(collected)


TARGET_DEVICE = "<target device>"
"""Stands in an example for the device being graded: `to_device` fills it in."""


def to_device(value: Any, device: str) -> Any:
    """Move every tensor inside an example to `device`, and fill in `TARGET_DEVICE`."""
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, str) and value == TARGET_DEVICE:
        return device
    if isinstance(value, Gen) and value.device == TARGET_DEVICE:
        return Gen(value.seed, value.key, device)
    if isinstance(value, (list, tuple)):
        return type(value)(to_device(v, device) for v in value)
    if isinstance(value, dict):
        return {k: to_device(v, device) for k, v in value.items()}
    return value


if __name__ == "__main__":
    sys.stdout.buffer.write(wire.encode(_record_here(int(sys.argv[1])), max_bytes=MAX_BYTES))
