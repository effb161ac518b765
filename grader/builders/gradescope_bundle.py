"""The Gradescope autograder: build its zip, and grade one submission inside Gradescope's container.

`python -m grader gradescope-bundle OUT.zip` writes the zip to upload: `setup.sh` and
`run_autograder` (from grader/autograder/) at its root, and the kit's source needed to grade.
In the container, `run_autograder` calls `python -m grader.builders.gradescope_bundle`, which finds
the upload in `$AUTOGRADER_ROOT/submission`, runs `python -m grader grade` on it, and writes
`$AUTOGRADER_ROOT/results/results.json`: always, and always valid, whatever fails.

This module uses the standard library only (and grader.submission's reader, which does too), so
that it can report even a broken install. The upload is read, never followed (see `find_upload`).
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import subprocess
import sys
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

from grader.files import write_atomically

KIT = Path(__file__).resolve().parents[2]
TEMPLATES = KIT / "grader" / "autograder"
SCRIPTS = ("setup.sh", "run_autograder")
SOURCE_PATHS = ("grader", "solutions", "exercises/sgd.py", "pyproject.toml", "README.md")
"""What grading needs: the grader, the reference, the stubs (for signatures), and what `pip install -e` reads."""
SKIPPED = {"__pycache__", ".pytest_cache", ".hypothesis", ".ipynb_checkpoints"}
UPLOAD_NAMES = ("sgd.py", "sgd.ipynb")
DEFAULT_ROOT = "/autograder"
DEFAULT_TIMEOUT_S = 540.0
"""Below Gradescope's default 10-minute limit, so that a hang still ends in a results.json."""
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


# --- building the zip ----------------------------------------------------------------


def bundle_files(kit: Path = KIT) -> list[tuple[str, Path]]:
    """(name in the zip, file on disk) for everything the bundle holds, sorted by name."""
    files = [(name, TEMPLATES / name) for name in SCRIPTS]
    for relative in SOURCE_PATHS:
        path = kit / relative
        if path.is_file():
            files.append((relative, path))
        elif path.is_dir():
            for file in path.rglob("*"):
                inside = file.relative_to(kit)
                if file.is_file() and not SKIPPED & set(inside.parts) and file.suffix != ".pyc":
                    if inside.parent.as_posix() == "grader/autograder" and file.name in SCRIPTS:
                        continue  # already at the root of the zip
                    files.append((inside.as_posix(), file))
        else:
            raise FileNotFoundError(f"the bundle needs {path}, which is missing")
    return sorted(files)


def build_bundle(out: str | Path, kit: Path = KIT) -> Path:
    """Write the Gradescope autograder zip to `out`; identical sources give an identical zip."""
    out = Path(out)
    files = bundle_files(kit)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name, path in files:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            executable = name in SCRIPTS or os.access(path, os.X_OK)
            info.external_attr = (0o100755 if executable else 0o100644) << 16
            bundle.writestr(info, path.read_bytes())
    return out


# --- grading inside Gradescope's container -------------------------------------------


def find_upload(folder: Path) -> tuple[Path | None, str]:
    """The one sgd.py / sgd.ipynb anywhere in `folder`, or (None, why not) for a student to read.

    The upload is walked without following links and the file checked as the grader reads it: a
    sgd.py that is a symbolic link (to the bundle's solution, say), a FIFO or a device is refused."""
    found = sorted(_candidates(folder)) if stat.S_ISDIR(_mode(folder)) else []
    if not found:
        return None, "No sgd.py or sgd.ipynb was found in your submission. Upload your sgd.py (or sgd.ipynb)."
    if len(found) > 1:
        names = ", ".join(p.relative_to(folder).as_posix() for p in found)
        return None, f"Your submission holds more than one sgd.py / sgd.ipynb ({names}). Upload exactly one of them."
    from grader.submission import SubmissionError, locate

    try:
        return locate(found[0]), ""
    except SubmissionError as exc:
        shown = found[0].relative_to(folder).as_posix()
        why = str(exc).replace(str(found[0]), shown)
        return None, f"Your upload could not be read: {why}. Upload the file itself."


def _mode(path: Path) -> int:
    try:
        return os.lstat(path).st_mode
    except OSError:
        return 0


def _candidates(folder: Path) -> list[Path]:
    """Every entry named sgd.py / sgd.ipynb under `folder`, of any kind but a real folder; links
    are listed, never followed, and hidden folders and __MACOSX are not searched."""
    found = []
    for where, folders, files in os.walk(folder, followlinks=False):
        folders[:] = [f for f in folders if not f.startswith(".") and f != "__MACOSX"]
        for name in {*folders, *files} & set(UPLOAD_NAMES):
            if not stat.S_ISDIR(_mode(Path(where) / name)):
                found.append(Path(where) / name)
    return found


def read_metadata(path: Path) -> dict[str, Any]:
    """What matters of Gradescope's submission_metadata.json; {} if absent or unreadable."""
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(meta, dict):
        return {}
    assignment = meta.get("assignment") if isinstance(meta.get("assignment"), dict) else {}
    users = [u for u in meta.get("users") or [] if isinstance(u, dict)]
    summary: dict[str, Any] = {
        "submission_id": meta.get("id"),
        "created_at": meta.get("created_at"),
        "users": [{k: u[k] for k in ("id", "email", "name") if k in u} for u in users],
        "assignment_total_points": assignment.get("total_points"),
    }
    late = _after(meta.get("created_at"), assignment.get("due_date"))
    if late is not None:
        summary["late"] = late
    return {k: v for k, v in summary.items() if v not in (None, [])}


def _after(when: Any, due: Any) -> bool | None:
    """Whether the ISO timestamp `when` is after `due`; None when either is missing or unreadable."""
    try:
        return datetime.fromisoformat(str(when)) > datetime.fromisoformat(str(due))
    except (TypeError, ValueError):
        return None


def zero_results(message: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A valid results.json that gives no points and says why."""
    return {"score": 0, "output": message, "tests": [], "extra_data": dict(extra or {})}


def is_valid(results: Any) -> bool:
    """Whether `results` has the shape Gradescope needs: a numeric score (or tests with scores)."""
    if not isinstance(results, dict) or not isinstance(results.get("tests", []), list):
        return False
    score = results.get("score")
    if score is None:
        return all(isinstance(t, dict) and isinstance(t.get("score"), (int, float)) for t in results.get("tests", []))
    return isinstance(score, (int, float)) and not isinstance(score, bool)


def _error_line(text: str) -> str:
    """The grader's one-line `error: …` message, if it printed one."""
    lines = [line.strip() for line in text.splitlines() if line.strip().startswith("error:")]
    return lines[-1].removeprefix("error:").strip() if lines else ""


def _tail(text: str, limit: int = 2000) -> str:
    text = text.strip()
    return text if len(text) <= limit else "…" + text[-limit:]


def grade_upload(upload: Path, source: Path, python: str, timeout_s: float) -> dict[str, Any]:
    """Run `python -m grader grade` on `upload` and return its results, or a zero that says what failed."""
    with tempfile.TemporaryDirectory(prefix="sgd-grade-") as scratch:
        out = Path(scratch) / "results.json"
        command = [python, "-m", "grader", "grade", str(upload), "--json", str(out)]
        command += ["--device", os.environ.get("GRADER_DEVICE", "cpu")]
        try:
            done = subprocess.run(
                command, cwd=source, capture_output=True, text=True, errors="replace", timeout=timeout_s, check=False
            )
        except subprocess.TimeoutExpired as exc:
            print(exc.stdout or "", exc.stderr or "", sep="\n")
            return zero_results(f"Grading took longer than {timeout_s:.0f} s and was stopped.")
        except OSError as exc:
            return zero_results(f"The autograder could not start the grader ({exc}). Please tell your instructor.")
        print(done.stdout, end="")
        print(done.stderr, end="", file=sys.stderr)
        try:
            results = json.loads(out.read_text(encoding="utf-8")) if done.returncode in (0, 1) else None
        except (OSError, ValueError):
            results = None
    if not is_valid(results):
        problem = _error_line(done.stderr) or _error_line(done.stdout) or _tail(done.stderr)
        return zero_results(
            f"The grader could not grade your submission (exit status {done.returncode}): {problem}",
            {"grader_status": done.returncode},
        )
    if done.returncode == 1:
        problem = _error_line(done.stdout) or _error_line(done.stderr)
        if problem and problem not in results.get("output", ""):
            results["output"] = "\n".join(p for p in (results.get("output", ""), f"Problem: {problem}") if p)
    return results


def autograde(
    root: str | Path = DEFAULT_ROOT, python: str = sys.executable, timeout_s: float = DEFAULT_TIMEOUT_S
) -> dict[str, Any]:
    """Grade the submission under `root` (Gradescope's layout) and write root/results/results.json."""
    root = Path(root)
    meta: dict[str, Any] = {}
    try:
        meta = read_metadata(root / "submission_metadata.json")
        upload, why = find_upload(root / "submission")
        if upload is None:
            results = zero_results(why)
        else:
            results = grade_upload(upload, root / "source", python, timeout_s)
            shown = upload.relative_to(root / "submission").as_posix()
            results["output"] = "\n".join(p for p in (f"Graded {shown}.", results.get("output", "")) if p)
            results.setdefault("extra_data", {})["upload"] = shown
    except Exception as exc:  # noqa: BLE001 - whatever broke, the student still gets a results.json
        results = zero_results(f"The autograder failed ({type(exc).__name__}: {exc}). Please tell your instructor.")
    if meta:
        results.setdefault("extra_data", {})["gradescope"] = meta
    write_json(root / "results" / "results.json", results)
    return results


def write_json(path: Path, document: dict[str, Any]) -> None:
    """Write `document` to `path` atomically."""
    write_atomically(path, json.dumps(document, indent=2, ensure_ascii=True) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Entry point of `run_autograder`: grade, or (`--validate FILE`) check a results.json."""
    top = argparse.ArgumentParser(
        prog="python -m grader.builders.gradescope_bundle", description=__doc__.splitlines()[0]
    )
    top.add_argument("--root", default=os.environ.get("AUTOGRADER_ROOT", DEFAULT_ROOT))
    top.add_argument("--python", default=os.environ.get("GRADER_PYTHON") or sys.executable)
    top.add_argument("--timeout", type=float, default=float(os.environ.get("GRADER_TIMEOUT_S", DEFAULT_TIMEOUT_S)))
    top.add_argument("--validate", metavar="RESULTS.json", help="exit 0 if this is a valid results.json, else 1")
    args = top.parse_args(argv)
    if args.validate:
        try:
            return 0 if is_valid(json.loads(Path(args.validate).read_text(encoding="utf-8"))) else 1
        except (OSError, ValueError):
            return 1
    results = autograde(args.root, args.python, args.timeout)
    print(f"score: {results['score']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
