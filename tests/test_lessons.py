"""The lesson notebooks in exercises/lessons/.

With the reference solution, every notebook runs headless top to bottom in a real kernel,
in under a minute, saves its figures (non-blank PNGs) and prints final numbers in sane
ranges. With the stubs (every function body raises NotImplementedError), every notebook
stops at its first unfinished step with a one-line hint, not a traceback wall.

Run: pytest tests/test_lessons.py -m lessons -s   (-s shows each notebook's wall time)
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.lessons

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

from nbclient.exceptions import CellExecutionError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LESSONS = ROOT / "exercises" / "lessons"
REFERENCE = ROOT / "solutions" / "sgd.py"
TIME_LIMIT_S = 60.0

FIGURES = {
    "01_parabola": ["01_parabola_steps", "01_bowl", "01_learning_rates"],
    "02_roller_coaster": ["02_data_and_guess", "02_fit_progress", "02_mse_vs_rmse"],
    "03_three_or_seven": ["03_digits", "03_training", "03_weights"],
    "04_learning_rates": ["04_learning_rates", "04_gd_vs_sgd", "04_momentum", "04_schedules"],
    "05_ten_outputs": ["05_negative_gradient", "05_weights_and_confusion"],
}
NOTEBOOKS = list(FIGURES)
NEEDS_SKLEARN = {"03_three_or_seven", "05_ten_outputs"}
# The first step each notebook uses, hence where it stops on the untouched stubs.
FIRST_STEP = {
    "01_parabola": ("sgd_step", "step"),
    "02_roller_coaster": ("init_params", "init"),
    "03_three_or_seven": ("init_params", "init"),
    "04_learning_rates": ("train", "train"),  # every run of lesson 4 is the student's train
    "05_ten_outputs": ("init_params", "init"),
}


# ----------------------------------------------------------------------------- helpers


def make_stub(path: Path, only: set[str] | None = None) -> Path:
    """A copy of solutions/sgd.py whose function bodies (or those in `only`) just raise."""
    tree = ast.parse(REFERENCE.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and (only is None or node.name in only):
            docstring = node.body[:1] if ast.get_docstring(node) is not None else []
            node.body = docstring + [ast.parse('raise NotImplementedError("not implemented yet")').body[0]]
    path.write_text(ast.unparse(tree), encoding="utf-8")
    return path


def skip_without_sklearn(name: str) -> None:
    if name in NEEDS_SKLEARN:
        pytest.importorskip("sklearn")


class Run:
    """One headless execution of a notebook (`env`: extra environment variables for its kernel)."""

    def __init__(self, name: str, submission: Path, figures: Path, env: dict[str, str] | None = None):
        self.name, self.figures = name, figures
        self.nb = nbformat.read(LESSONS / f"{name}.ipynb", as_version=4)
        client = nbclient.NotebookClient(
            self.nb,
            timeout=300,
            kernel_name="python3",
            resources={"metadata": {"path": str(LESSONS)}},
        )
        self.error: CellExecutionError | None = None
        with pytest.MonkeyPatch.context() as mp:  # the kernel inherits this environment
            mp.setenv("SGD_SUBMISSION", str(submission))
            mp.setenv("LESSON_FIGURES", str(figures))
            for key, value in (env or {}).items():
                mp.setenv(key, value)
            start = time.perf_counter()
            try:
                client.execute()
            except CellExecutionError as exc:
                self.error = exc
            self.seconds = time.perf_counter() - start
        label = "reference" if submission == REFERENCE else str(submission)
        print(f"\n{name}: {self.seconds:.1f} s wall ({label})")

    def images(self) -> int:
        """How many PNG images the notebook's outputs show."""
        return sum(
            "image/png" in o.get("data", {})
            for c in self.nb.cells
            for o in c.get("outputs", [])
            if o.get("output_type") in ("display_data", "execute_result")
        )

    @property
    def stdout(self) -> str:
        return "".join(
            out.get("text", "")
            for cell in self.nb.cells
            for out in cell.get("outputs", [])
            if out.get("output_type") == "stream" and out.get("name") == "stdout"
        )

    def number(self, pattern: str) -> float:
        match = re.search(pattern, self.stdout)
        assert match, f"{self.name}: no line matching {pattern!r} in the printed output:\n{self.stdout}"
        return float(match.group(1))

    def error_outputs(self) -> list[dict]:
        return [o for c in self.nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
    """Execute each notebook with the reference solution once, on first use."""
    runs: dict[str, Run] = {}

    def get(name: str) -> Run:
        skip_without_sklearn(name)
        if name not in runs:
            # MPLBACKEND=Agg, as on servers and CI images: the figures must show inline all the same
            runs[name] = Run(name, REFERENCE, tmp_path_factory.mktemp(f"figures_{name}"), env={"MPLBACKEND": "Agg"})
        return runs[name]

    return get


@pytest.fixture(scope="module")
def stub(tmp_path_factory) -> Path:
    return make_stub(tmp_path_factory.mktemp("stub") / "sgd.py")


# ----------------------------------------------------------------------------- notebooks as committed


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_committed_without_outputs(name):
    nb = nbformat.read(LESSONS / f"{name}.ipynb", as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)
    assert nb.cells[0].cell_type == "markdown"
    source = "\n".join(c.source for c in code)
    assert "load_sgd()" in source and "need(" in source and "savefig(" in source


# ----------------------------------------------------------------------------- reference run


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_runs_with_reference_and_saves_figures(name, reference_run, record_property):
    import matplotlib.image as mpimg
    import numpy as np

    run = reference_run(name)
    record_property("wall_s", round(run.seconds, 2))
    assert run.error is None, f"{name} failed with the reference solution:\n{run.error}"
    assert run.seconds < TIME_LIMIT_S, f"{name} took {run.seconds:.1f} s"
    for figure in FIGURES[name]:
        png = run.figures / f"{figure}.png"
        assert png.is_file(), f"{name} did not save {png.name}"
        assert png.stat().st_size > 5_000, f"{png.name} is suspiciously small"
        pixels = mpimg.imread(png)[..., :3]
        assert float(np.std(pixels)) > 0.05, f"{png.name} looks blank"
    saved = {p.stem for p in run.figures.glob("*.png")}
    assert saved == set(FIGURES[name]), f"unexpected figures: {saved ^ set(FIGURES[name])}"
    # shown inline too, one image per figure, although the kernel's backend is Agg
    assert run.images() == len(FIGURES[name])
    shown = "".join(str(o.get("data", {}).get("text/plain", "")) for c in run.nb.cells for o in c.get("outputs", []))
    assert "<Figure size" not in shown


def test_parabola_numbers(reference_run):
    run = reference_run("01_parabola")
    assert abs(run.number(r"after 30 steps: θ = (-?[\d.]+)") + 1) < 0.01
    assert run.number(r"→  after 25 steps \(.*\), L = ([\d.]+)") < 1e-3
    assert run.number(r"lr=0.1: L after 10 steps = ([\d.]+)") < 0.5
    assert run.number(r"lr=1.0: L after 10 steps = ([\d.]+)") == pytest.approx(16.0)
    assert run.number(r"lr=1.1: L after 10 steps = ([\d.]+)") > 100


def test_roller_coaster_numbers(reference_run):
    run = reference_run("02_roller_coaster")
    assert "gradients agree: True" in run.stdout
    fitted = [run.number(rf"fitted: .*{k}=(-?[\d.]+)") for k in "abc"]
    exact = [run.number(rf"exact least squares: .*{k}=(-?[\d.]+)") for k in "abc"]
    true = [run.number(rf"true curve: .*{k}=(-?[\d.]+)") for k in "abc"]
    assert true == pytest.approx([0.75, -14.25, 68.688], abs=1e-3)
    assert fitted == pytest.approx(exact, abs=0.1)  # SGD found the least-squares fit
    assert fitted == pytest.approx(true, abs=5.0)  # which is near the curve behind the noise
    assert abs(fitted[0] - 0.75) < 0.1 and abs(fitted[1] + 14.25) < 1.5
    # the RMSE gradient is the MSE gradient over 2·RMSE
    rmse_auto = run.number(r"gradient of RMSE \(autograd\):\s+\[(-?[\d.e-]+)")
    rmse_hand = run.number(r"mse_grad / \(2·RMSE\):\s+\[(-?[\d.e-]+)")
    assert rmse_auto == pytest.approx(rmse_hand, rel=1e-3)


def test_three_or_seven_accuracy(reference_run):
    run = reference_run("03_three_or_seven")
    assert run.number(r"3-vs-7 validation accuracy: ([\d.]+)") >= 0.95


def test_learning_rates_numbers(reference_run):
    run = reference_run("04_learning_rates")
    low = run.number(r"lr=0.005 \(too low, crawls\): excess loss after 30 epochs = ([\d.]+)")
    good = run.number(r"lr=0.1 \(good\): excess loss after 30 epochs = ([\d.]+)")
    bouncy = run.number(r"lr=0.7 \(high, bouncy\): excess loss after 30 epochs = ([\d.]+)")
    assert good < bouncy < low or good < low < bouncy
    assert "lr=1.2 (too high, diverges): diverged" in run.stdout
    full = run.number(r"time per update: full batch ([\d.]+) ms")
    mini = run.number(r"time per update: .*minibatch ([\d.]+) ms")
    assert full > 3 * mini
    assert run.number(r"after 5 epochs: .*minibatch excess = ([\d.]+)") < run.number(
        r"after 5 epochs: full batch excess = ([\d.]+)"
    )
    assert run.number(r"full batch after 300 epochs: excess = (-?[\d.]+)") < 1e-3
    assert run.number(r"excess after 5 epochs: .*momentum ([\d.]+)") < run.number(
        r"excess after 5 epochs: plain ([\d.]+)"
    )
    constant = run.number(r"constant 0.3: excess loss after 30 epochs = ([\d.]+)")
    assert run.number(r"exponential .*: excess loss after 30 epochs = ([\d.]+)") < constant / 3
    assert run.number(r"linear .*: excess loss after 30 epochs = ([\d.]+)") < constant


def test_learning_rates_trains_with_train_only():
    """Lesson 4 asks its questions of the student's `train` (lr as a number or a function of the epoch,
    beta for momentum): it has no training loop of its own that could stand in for `train`."""
    nb = nbformat.read(LESSONS / "04_learning_rates.ipynb", as_version=4)
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "sgd.train(" in source
    for piece in ("sgd.minibatches(", "sgd.mse_grad(", "sgd.sgd_step(", "sgd.momentum_step(", "zeros_like"):
        assert piece not in source, piece


def test_ten_outputs_accuracy(reference_run):
    run = reference_run("05_ten_outputs")
    # a linear least-squares classifier on 8×8 digits: exact least squares gets ~0.92
    assert run.number(r"10-digit validation accuracy: ([\d.]+)") >= 0.88
    assert "weights that matter most right now" in run.stdout


# ----------------------------------------------------------------------------- stub run


def assert_one_line_stop(run: Run, function: str, step: str, submission: Path) -> None:
    assert run.error is not None, f"{run.name} ran through on stubs"
    hint = (
        f"⏸ Step '{step}' is not done yet: implement {function} in {submission}, "
        f"then re-run this notebook. Check it with: pytest exercises -m {step}"
    )
    assert run.error.ename == "StepNotDone"
    assert hint in str(run.error)
    # what the student sees: the hint alone, not a traceback wall. nbclient's message is
    # "An error occurred ... cell:\n----\n<cell source>\n----\n\n<rendered error>"
    rendered = str(run.error).split("------------------")[-1].strip()
    assert len(rendered.splitlines()) <= 3, rendered
    assert rendered == hint
    (error,) = run.error_outputs()
    assert error["traceback"] == [hint]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_stops_with_one_line_hint_on_stubs(name, stub, tmp_path):
    skip_without_sklearn(name)
    run = Run(name, stub, tmp_path / "figures")
    function, step = FIRST_STEP[name]
    assert_one_line_stop(run, function, step, stub)


def test_stops_at_first_unfinished_step(tmp_path):
    """Only mse_grad missing: lesson 2 runs init, predict and loss, then stops at 'gradient'."""
    submission = make_stub(tmp_path / "sgd.py", only={"mse_grad"})
    run = Run("02_roller_coaster", submission, tmp_path / "figures")
    assert_one_line_stop(run, "mse_grad", "gradient", submission)
    assert "loss of the random guess: mse =" in run.stdout
    assert (tmp_path / "figures" / "02_data_and_guess.png").is_file()


# ----------------------------------------------------------------------------- lesson_support


@pytest.fixture
def support(monkeypatch, tmp_path):
    monkeypatch.delenv("SGD_SUBMISSION", raising=False)
    monkeypatch.setenv("LESSON_FIGURES", str(tmp_path / "figures"))
    spec = importlib.util.spec_from_file_location("lesson_support_under_test", LESSONS / "lesson_support.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_submission_path(support, monkeypatch, tmp_path):
    assert support.submission_path() == ROOT / "exercises" / "sgd.py"
    monkeypatch.setenv("SGD_SUBMISSION", "solutions/sgd.py")  # relative to the repository root
    monkeypatch.chdir(tmp_path)
    assert support.submission_path() == REFERENCE
    monkeypatch.setenv("SGD_SUBMISSION", str(tmp_path / "mine.py"))
    assert support.submission_path() == tmp_path / "mine.py"


def test_need_passes_on_reference(support, monkeypatch):
    monkeypatch.setenv("SGD_SUBMISSION", str(REFERENCE))
    sgd = support.load_sgd()
    support.need(*support.FUNCTION_STEP)
    assert sgd.mse.__module__ == "student_sgd"


def test_need_raises_one_line_hint(support, monkeypatch, tmp_path):
    monkeypatch.setenv("SGD_SUBMISSION", str(make_stub(tmp_path / "sgd.py", only={"mse_grad"})))
    support.load_sgd()
    support.need("predict", "mse")
    with pytest.raises(support.StepNotDone) as info:
        support.need("train")  # train itself is done; it calls the missing mse_grad
    rendered = info.value._render_traceback_()
    assert len(rendered) == 1 and "\n" not in rendered[0]
    assert "Step 'gradient' is not done yet: implement mse_grad in" in rendered[0]
    assert rendered[0].endswith("pytest exercises -m gradient")
    with pytest.raises(ValueError):
        support.need("no_such_function")


def test_default_submission_hint_names_exercises_sgd(support):
    if not (ROOT / "exercises" / "sgd.py").is_file():
        pytest.skip("exercises/sgd.py not generated yet")
    support.load_sgd()
    try:
        support.need("predict")
    except support.StepNotDone as exc:
        assert "implement predict in exercises/sgd.py, then re-run this notebook" in exc.message


def test_missing_submission_is_one_line(support, monkeypatch, tmp_path):
    monkeypatch.setenv("SGD_SUBMISSION", str(tmp_path / "nowhere" / "sgd.py"))
    with pytest.raises(support.LessonStop) as info:
        support.load_sgd()
    assert len(info.value._render_traceback_()) == 1


def test_savefig_writes_png(support, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.plot([0, 1], [1, 0])
    path = support.savefig("line")
    assert path == tmp_path / "figures" / "line.png" and path.stat().st_size > 1000


def test_steps_match_the_contract(support):
    contract = ROOT / "grader" / "contract.py"
    if not contract.is_file():
        pytest.skip("no grader/contract.py")
    spec = importlib.util.spec_from_file_location("contract_under_test", contract)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert support.FUNCTION_STEP == module.FUNCTION_STEP


def test_figures_are_git_ignored():
    assert "figures/" in (LESSONS / ".gitignore").read_text().split()
    assert os.path.isfile(LESSONS / "lesson_support.py")
