"""Shared helpers for the lesson notebooks.

- `load_sgd()` imports the student's `sgd.py` (default: `exercises/sgd.py`, next to this
  folder; override with the environment variable `SGD_SUBMISSION=path/to/sgd.py`).
- `need("mse", ...)` checks that the named functions are implemented; if one is not, it
  stops the notebook with a one-line hint instead of a traceback.
- `savefig("name")` saves the current figure as PNG into `LESSON_FIGURES` (default:
  `lessons/figures/`) and shows that PNG inline, whatever matplotlib backend the kernel runs.

The same file serves the kit (exercises/lessons/, grader/ two folders up) and the student
release (lessons/, grader/ one folder up): hints name the `pytest` command of the layout.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any

import torch

LESSONS_DIR = Path(__file__).resolve().parent
RELEASE = (LESSONS_DIR.parent / "grader").is_dir()
"""True in the student release (lessons/ beside sgd.py and grader/), False in the kit."""
REPO_ROOT = LESSONS_DIR.parent if RELEASE else LESSONS_DIR.parents[1]
DEFAULT_SUBMISSION = LESSONS_DIR.parent / "sgd.py"
DEFAULT_FIGURES = LESSONS_DIR / "figures"
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from grader.contract import FUNCTION_STEP  # noqa: E402 - which step each function belongs to


def check_command(step: str) -> str:
    """The command that checks one step: its step name is also its pytest marker."""
    return f"pytest -m {step}" if RELEASE else f"pytest exercises -m {step}"


class LessonStop(Exception):
    """Stops a lesson notebook; IPython shows only the one-line message, no traceback."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def _render_traceback_(self) -> list[str]:
        return [self.message]


class StepNotDone(LessonStop):
    """A function of the student's sgd.py still raises NotImplementedError."""

    def __init__(self, function: str, path: Path):
        self.function = function
        self.step = FUNCTION_STEP.get(function, function)
        super().__init__(
            f"⏸ Step '{self.step}' is not done yet: implement {function} in {_show(path)}, "
            f"then re-run this notebook. Check it with: {check_command(self.step)}"
        )


def _show(path: Path) -> str:
    """`path` relative to the repository root when it lies inside it."""
    try:
        return path.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


def submission_path() -> Path:
    """Where the student's sgd.py is: $SGD_SUBMISSION, or exercises/sgd.py."""
    given = os.environ.get("SGD_SUBMISSION", "").strip()
    if not given:
        return DEFAULT_SUBMISSION
    path = Path(given).expanduser()
    if path.is_absolute():
        return path
    for base in (Path.cwd(), REPO_ROOT, LESSONS_DIR):
        if (base / path).is_file():
            return (base / path).resolve()
    return (Path.cwd() / path).resolve()


_loaded: ModuleType | None = None


def load_sgd() -> ModuleType:
    """Import (afresh, so that edits count) the student's sgd.py and return the module."""
    global _loaded
    path = submission_path()
    if not path.is_file():
        raise LessonStop(f"⏸ No sgd.py at {_show(path)}: create it, or point SGD_SUBMISSION at your sgd.py.")
    spec = importlib.util.spec_from_file_location("student_sgd", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["student_sgd"] = module
    spec.loader.exec_module(module)
    _loaded = module
    return module


def _probes(sgd: ModuleType) -> dict[str, Callable[[], Any]]:
    """A tiny, valid call of each function, to see whether it is implemented."""
    X = torch.tensor([[0.0, 1.0], [1.0, 2.0], [2.0, 0.5]])
    y = torch.tensor([1.0, 2.0, 0.0])
    w, b = torch.tensor([0.5, -0.5]), torch.tensor(0.1)
    one, two = torch.ones(2), torch.full((2,), 2.0)
    return {
        "init_params": lambda: sgd.init_params(2, generator=torch.Generator().manual_seed(0)),
        "predict": lambda: sgd.predict(X, w, b),
        "mse": lambda: sgd.mse(y, y + 1),
        "mse_grad": lambda: sgd.mse_grad(X, y, w, b),
        "sgd_step": lambda: sgd.sgd_step([one], [two], 0.1),
        "minibatches": lambda: list(sgd.minibatches(3, 2, shuffle=False)),
        "momentum_step": lambda: sgd.momentum_step([one], [two], [one], 0.1, 0.9),
        "exponential_decay": lambda: sgd.exponential_decay(1.0, 0.5, 2),
        "step_decay": lambda: sgd.step_decay(1.0, 0.5, 2, 3),
        "linear_decay": lambda: sgd.linear_decay(1.0, 0.0, 4, 1),
        "cosine_decay": lambda: sgd.cosine_decay(1.0, 0.0, 4, 1),
        "train": lambda: sgd.train(X, y, epochs=1, batch_size=2, lr=0.01, generator=torch.Generator().manual_seed(0)),
    }


def _culprit(tb: TracebackType | None, path: Path, default: str) -> str:
    """The innermost function of the submission that raised (e.g. train → mse_grad)."""
    name = default
    target = os.path.normcase(str(path.resolve()))
    while tb is not None:
        code = tb.tb_frame.f_code
        if os.path.normcase(os.path.abspath(code.co_filename)) == target:
            if code.co_name in FUNCTION_STEP:
                name = code.co_name
        tb = tb.tb_next
    return name


def need(*functions: str) -> None:
    """Stop with a one-line hint unless every named function of sgd.py is implemented.

    Each function is called once on a tiny input; only NotImplementedError counts as
    "not done" (any other error will show up, with its traceback, where it is used).
    """
    sgd = _loaded if _loaded is not None else load_sgd()
    path = Path(sgd.__file__)
    probes = _probes(sgd)
    for name in functions:
        if name not in probes:
            raise ValueError(f"unknown function {name!r}; expected one of {sorted(probes)}")
        if not callable(getattr(sgd, name, None)):
            raise LessonStop(f"⏸ {_show(path)} has no function {name}: add it, then re-run this notebook.")
        try:
            probes[name]()
        except NotImplementedError as exc:
            raise StepNotDone(_culprit(exc.__traceback__, path, name), path) from None
        except Exception:  # a bug, not a missing step: let the lesson show it where it bites
            pass


def figures_dir() -> Path:
    """$LESSON_FIGURES, or exercises/lessons/figures/; created if missing."""
    folder = Path(os.environ.get("LESSON_FIGURES", "").strip() or DEFAULT_FIGURES).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def savefig(name: str, fig: Any = None) -> Path:
    """Save `fig` (default: the current figure) as <figures>/<name>.png and show it.

    In a notebook the saved PNG itself is displayed and the figure closed, so it shows
    inline whatever backend the kernel started with (e.g. MPLBACKEND=Agg on a server)."""
    import matplotlib
    import matplotlib.pyplot as plt

    fig = fig if fig is not None else plt.gcf()
    path = figures_dir() / f"{name}.png"
    fig.savefig(path, dpi=100, bbox_inches="tight")
    if _in_kernel():
        from IPython.display import Image, display

        display(Image(filename=str(path)))
        plt.close(fig)
    elif matplotlib.get_backend().lower() == "agg":
        plt.close(fig)  # headless script: nothing to show
    else:
        plt.show()
    return path


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None
