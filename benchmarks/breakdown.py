"""Where a grade's time goes: the pieces behind benchmarks/results.md, measured one by one.

    .venv/bin/python benchmarks/breakdown.py               # writes benchmarks/breakdown.md
    .venv/bin/python benchmarks/breakdown.py --out DIR

Start-up costs are measured in fresh subprocesses (median of --repeat); the checks, the
example store and the feedback page in this process, after one warm-up grade. The buggy
submission is tests/corpus/bugs/gradient__divides_by_d.py: its failing checks pay for
hypothesis' shrinking (at most 3 s each) on top of the run over the recorded examples.
"A class, by part" grades every correct and buggy submission of tests/corpus once, one after
the other in one sandbox, and splits the wall time between the parts of a grade.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from unittest import mock

from run import corpus_source  # benchmarks/run.py, beside this script

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "sgd.py"
BUGGY = ROOT / "tests" / "corpus" / "bugs" / "gradient__divides_by_d.py"
PYTHON = sys.executable

STARTUP = {
    "python itself": "pass",
    "import torch": "import torch",
    "import the grader (torch, hypothesis, rich, the checks)": "import grader.frontends.grade",
    "… and make the first torch.optim optimizer (imports torch._dynamo)": (
        "import grader.frontends.grade; grader.frontends.grade.warm_torch_optim()"
    ),
    "… the same with the garbage collector off, as `python -m grader grade` starts": (
        "import gc; gc.disable(); import grader.frontends.grade; grader.frontends.grade.warm_torch_optim()"
    ),
}


def subprocess_seconds(code: str, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run([PYTHON, "-c", code], cwd=ROOT, check=True)
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def teardown_seconds(repeat: int) -> float:
    """How long Python takes to exit once torch and torch._dynamo are loaded (`python -m grader` skips it)."""
    code = "import time, grader.frontends.grade as g; g.warm_torch_optim(); print(time.perf_counter(), flush=True)"
    runs = []
    for _ in range(repeat):
        proc = subprocess.Popen([PYTHON, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        printed = float(proc.stdout.readline())
        proc.wait()
        runs.append(time.perf_counter() - printed)
    return statistics.median(runs)


def per_step(report) -> dict[str, float]:
    seconds: dict[str, float] = defaultdict(float)
    for graded in report.graded:
        seconds[graded.check.step] += graded.outcome.seconds
    return dict(seconds)


class ExclusiveTimes:
    """Wall time per part, each part's time without that of the parts running inside it."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self._inner: list[float] = []

    def wrap(self, part: str, fn):
        def timed(*args, **kwargs):
            self._inner.append(0.0)
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                self.seconds[part] += elapsed - self._inner.pop()
                if self._inner:
                    self._inner[-1] += elapsed

        return timed


REST = "the rest of the trusted side (the runner, reading the store, the report)"


@contextlib.contextmanager
def parts(times: ExclusiveTimes):
    """Time each part of a grade, each without the parts inside it."""
    from grader.checks import runner as core
    from grader.reporters import plots
    from grader.sandbox import client, wire
    from grader.sandbox.client import SandboxedSubmission

    wrapped = {
        (core, "_shrink"): "shrinking: hypothesis' own search (the probes' calls and judging are in their parts)",
        (core, "_advance"): "judging: the checks' bodies, with the stored answers and every oracle not stored",
        (SandboxedSubmission, "_receive_results"): "waiting for the worker: the submission's calls (the floor below), "
        "the worker's decoding and encoding, the wake-ups",
        (wire, "encode"): "wire: encoding and decoding on the trusted side",
        (wire, "decode"): "wire: encoding and decoding on the trusted side",
        (client.Sandbox, "sealed_answers"): "sealing the answers (rehearsals stored, or rehearsed now)",
        (SandboxedSubmission, "_start"): "processes: starting workers",
        (SandboxedSubmission, "_drop"): "processes: stopping workers",
        (plots, "collect"): "pages: the plots' data",
    }
    with contextlib.ExitStack() as stack:
        for (owner, name), part in wrapped.items():
            stack.enter_context(mock.patch.object(owner, name, times.wrap(part, getattr(owner, name))))
        yield


def floor_seconds(files: list[Path]) -> float:
    """The floor: the submissions' own calls, every call their grades make (shrinking's too), run in
    this process with no wire, no worker and no judging around them."""
    from grader.checks.model import checks_for
    from grader.checks.runner import run_check
    from grader.sandbox import protocol
    from grader.submission import InProcessSubmission, load_module

    times = ExclusiveTimes()
    with mock.patch.object(protocol, "execute", times.wrap("floor", protocol.execute)):
        for path in files:
            source = corpus_source(path)
            submission = InProcessSubmission(load_module(source, path.name), source)
            for check in checks_for():
                run_check(check, submission)
    return times.seconds["floor"]


def by_part(sandbox) -> list[str]:
    """Grade the corpus' correct and buggy submissions once each and split the time by part."""
    from grader.frontends import grade as grading
    from grader.reporters import plots
    from grader.reporters.html import feedback_html

    times = ExclusiveTimes()
    files = sorted((ROOT / "tests" / "corpus" / "correct").glob("*.py")) + sorted(
        (ROOT / "tests" / "corpus" / "bugs").glob("*.py")
    )
    plots._drawn.cache_clear()
    started = time.perf_counter()
    with parts(times):
        grade = times.wrap(REST, grading.grade_source)
        page = times.wrap("pages: feedback.html and its figures (drawn once per distinct curve)", feedback_html)
        for path in files:
            page(grade(corpus_source(path), path.name, sandbox))
    total = time.perf_counter() - started
    lines = [
        "",
        f"## A class, by part ({len(files)} submissions of tests/corpus, correct and buggy, one after the other)",
        "",
        "| part | seconds per submission | share |",
        "|---|---|---|",
    ]
    for part, seconds in sorted(times.seconds.items(), key=lambda item: -item[1]):
        lines.append(f"| {part} | {seconds / len(files):.3f} | {seconds / total:.0%} |")
    lines.append(f"| **all** | **{total / len(files):.3f}** | |")
    floor = floor_seconds(files)
    lines += [
        "",
        f"The floor, the same submissions' own calls in this process (no worker, no wire, no judging): "
        f"{floor / len(files):.3f} s per submission, {floor / total:.0%} of the whole; a grade is "
        f"{total / floor:.1f}× its floor.",
    ]
    return lines


def measure(repeat: int) -> list[str]:
    from grader import DEFAULT_SEED
    from grader.checks import example_store
    from grader.checks.example_store import record_examples
    from grader.checks.model import checks_for
    from grader.contract import STEPS
    from grader.frontends import grade as grading
    from grader.reporters import plots
    from grader.reporters.html import feedback_html

    lines = ["## Start-up (fresh processes)", "", "| what | seconds |", "|---|---|"]
    for label, code in STARTUP.items():
        lines.append(f"| {label} | {subprocess_seconds(code, repeat):.2f} |")
    lines.append(
        f"| Python's exit with torch._dynamo loaded (skipped by `python -m grader`) | {teardown_seconds(repeat):.2f} |"
    )

    grading.warm_torch_optim()  # so that the next line times the zygote alone
    grading.settle_after_start_up()  # as grading processes do
    started = time.perf_counter()
    with grading.open_sandbox() as sandbox:
        zygote_s = time.perf_counter() - started
        lines.append(f"| a sandbox's zygote (imports torch, makes one optimizer), up to its hello | {zygote_s:.2f} |")
        started = time.perf_counter()
        recorded = {c.id: record_examples(c, DEFAULT_SEED) for c in checks_for() if c.examples is not None}
        record_s = time.perf_counter() - started
        started = time.perf_counter()
        example_store.load(DEFAULT_SEED)
        load_s = time.perf_counter() - started
        count = sum(len(v) for v in recorded.values())
        lines += [
            "",
            "## Hypothesis' examples",
            "",
            f"Recording all {count} examples with hypothesis: {record_s:.2f} s; reading them back from the "
            f"store ({example_store.cache_dir()}): {load_s * 1000:.0f} ms.",
        ]

        grades = {}
        for name, path in (("reference", SOLUTION), ("buggy (gradient)", BUGGY)):
            source = corpus_source(path)
            grading.grade_source(source, name, sandbox)  # warm-up: the worker code paths, the caches
            runs = []
            for _ in range(repeat):
                started = time.perf_counter()
                report = grading.grade_source(source, name, sandbox)
                runs.append((time.perf_counter() - started, report))
            grades[name] = sorted(runs, key=lambda r: r[0])[len(runs) // 2]
        class_lines = by_part(sandbox)
    lines += [
        "",
        "## One warm grade, by step (seconds; sandbox, examples and imports already there)",
        "",
        "| step | " + " | ".join(grades) + " |",
        "|---|" + "---|" * len(grades),
    ]
    steps = {name: per_step(report) for name, (_, report) in grades.items()}
    for step in STEPS:
        lines.append(f"| {step} | " + " | ".join(f"{steps[name].get(step, 0):.3f}" for name in grades) + " |")
    lines.append(
        "| **whole grade** (with plot data) | " + " | ".join(f"**{s:.2f}**" for s, _ in grades.values()) + " |"
    )
    slowest = max(((g.check.id, g.outcome.seconds) for g in grades["reference"][1].graded), key=lambda pair: pair[1])
    lines += ["", f"Slowest check of the reference: {slowest[0]}, {slowest[1]:.3f} s."]

    report = grades["reference"][1]
    drawn, shared = [], []
    for _ in range(repeat):
        plots._drawn.cache_clear()
        started = time.perf_counter()
        feedback_html(report)
        drawn.append(time.perf_counter() - started)
        started = time.perf_counter()
        feedback_html(report)
        shared.append(time.perf_counter() - started)
    lines += [
        "",
        "## Feedback page",
        "",
        f"One student's feedback.html with its {len(plots.figures(report.extra.get('plots')))} plots "
        f"(matplotlib, PNG): {statistics.median(drawn):.2f} s when its figures are drawn; "
        f"{statistics.median(shared) * 1000:.0f} ms when another page in the same process already drew the "
        "same curves (to 4 significant digits), as the correct steps of a class do.",
    ]
    return lines + class_lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    header = [
        "# Where the time goes",
        "",
        f"`python benchmarks/breakdown.py` on {time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs; "
        f"medians of {args.repeat}.",
        "",
    ]
    text = "\n".join(header + measure(args.repeat)) + "\n"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "breakdown.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
