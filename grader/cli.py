"""`python -m grader`: grade submissions, run the demo, regenerate the stubs."""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path

from rich.console import Console

from grader import DEFAULT_SEED
from grader.files import launch_for_grading
from grader.sandbox.launcher import Launch
from grader.text import for_console
from grader.verdict import GRADED

EXAMPLES = Path(__file__).with_name("examples")


class UsageError(Exception):
    """Bad input from the command line: one line, exit status 2."""


def _device(name: str) -> str:
    if name not in ("cpu", "cuda"):
        raise UsageError(f"unknown device {name!r}: use cpu or cuda")
    if name == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise UsageError("--device cuda, but no CUDA device is available here")
    return name


def _limits(args: argparse.Namespace):
    from grader.sandbox.client import Limits

    if args.call_timeout <= 0 or args.memory_gib <= 0:
        raise UsageError("--call-timeout and --memory-gib must be positive")
    return Limits(call_timeout_s=args.call_timeout, memory_bytes=int(args.memory_gib * 2**30))


def cmd_grade(args: argparse.Namespace, console: Console) -> int:
    gc.disable()  # start-up makes ~300k objects that live on; until settle_after_start_up, don't scan them
    if args.out:
        return cmd_grade_class(args, console)
    if args.scheduler:
        raise UsageError("--scheduler grades a class folder: add --out OUT_DIR")
    # the zygote starts while the grader is imported; one submission does not pay for torch._dynamo
    launched = launch_for_grading(_device(args.device), preload_optim=False)
    try:
        return cmd_grade_one(args, console, launched)
    finally:
        launched.close()


def cmd_grade_class(args: argparse.Namespace, console: Console) -> int:
    from grader.frontends.classroom import Settings, default_jobs, discover

    device = _device(args.device)
    settings = Settings(
        Path(args.out), device=device, seed=args.seed, rubric=args.rubric, force=args.force, limits=_limits(args)
    )
    roster = discover(Path(args.submission))
    jobs = args.jobs or default_jobs()
    with _transport(args.scheduler, settings, jobs) if args.scheduler else nullcontext() as transport:
        rows = _grade_with_progress(Path(args.submission), roster, settings, console, jobs=jobs, transport=transport)
    graded = [r.results["extra_data"].get("isolation") for r in rows if r.status == GRADED]
    for layers in sorted({tuple(layers) for layers in graded if layers is not None}):
        _warn_missing_layers(layers)  # once per set of layers: a cluster's nodes may differ
    print_class_summary(rows, settings.out, console, roster.skipped)
    from grader.reporters.class_report import changes_line, terminal_summary, write_class_report

    terminal_summary(rows, console)
    console.print(for_console(changes_line(rows)), soft_wrap=True, highlight=False)
    report = write_class_report(rows, settings.out, skipped=roster.skipped)
    console.print(f"class report: {for_console(report)}", soft_wrap=True, highlight=False)
    return 0


def _transport(scheduler: str, settings, jobs: int):
    """The Dask transport for `--scheduler` (a context manager); one line and exit 2 without Dask."""
    try:
        from grader.frontends.cluster import connect
    except ModuleNotFoundError as exc:
        if exc.name not in ("dask", "distributed"):
            raise
        raise UsageError("--scheduler needs Dask: pip install -e '.[cluster]' (or pip install distributed)") from None
    print(f"grading on Dask ({for_console(scheduler)}): starting each worker's sandbox", flush=True)
    return connect(scheduler, settings, jobs=jobs)


def _grade_with_progress(folder: Path, roster, settings, console: Console, **how) -> list:
    """`grade_class` under a progress bar that advances as each student is done."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from grader.frontends.classroom import grade_class

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("grading", total=len(roster.students))

        def advance(name: str, results: dict, cached: bool) -> None:
            description = f"grading ({for_console(name)}{', unchanged' if cached else ''})"
            bar.update(task, advance=1, description=description)

        rows = grade_class(folder, settings, progress=advance, roster=roster, **how)
        bar.update(task, description="graded")
    return rows


def _warn_missing_layers(layers: Sequence[str] | None) -> None:
    from grader.sandbox.isolation import missing_layers_warning

    warning = missing_layers_warning(layers) if layers is not None else None
    if warning:
        print(warning, file=sys.stderr)


def print_class_summary(rows: Sequence, out: Path, console: Console, skipped: Sequence = ()) -> None:
    """Counts, mean points per step, each student not graded with why, and each entry skipped.
    Students' names and messages are shown as plain text, never as markup or escape sequences."""
    from statistics import mean

    from grader.contract import STEPS

    graded = [r for r in rows if r.status == GRADED]
    where = for_console(out / "grades.csv")
    console.print(f"{len(rows)} students, {len(graded)} graded; grades in {where}", soft_wrap=True, highlight=False)
    if graded:
        per_step = "  ".join(f"{s} {mean(r.step_points()[s] for r in graded):.1f}" for s in STEPS)
        console.print(f"mean points per step: {per_step}", soft_wrap=True)
    for row in rows:
        if row.status != GRADED:
            console.print(
                f"[yellow]{for_console(row.student)}[/]: {row.status}: {for_console(row.results.get('output', ''))}",
                soft_wrap=True,
                highlight=False,
            )
    for entry in skipped:
        console.print(
            f"skipped {for_console(entry.entry)}: {for_console(entry.reason)}", soft_wrap=True, highlight=False
        )


def cmd_export(args: argparse.Namespace, console: Console) -> int:
    from grader.reporters.lms import export

    done = export(
        Path(args.out), args.to, Path(args.roster), args.assignment, assignment_id=args.assignment_id, key=args.key
    )
    for student in done.absent:
        console.print(f"{for_console(student)}: in the roster, no submission: exported as 0", highlight=False)
    for student in done.unlisted:
        console.print(f"{for_console(student)}: graded, not in the roster: left out", highlight=False)
    console.print(f"wrote {for_console(done.path)}: import it into {args.to.capitalize()}", highlight=False)
    return 0


def cmd_grade_one(args: argparse.Namespace, console: Console, launched: Launch) -> int:
    from grader.contract import interface_problems
    from grader.frontends.classroom import is_class_folder
    from grader.frontends.grade import (
        grade_source,
        open_sandbox,
        settle_after_start_up,
        syntax_error,
    )
    from grader.reporters.console import print_report
    from grader.reporters.gradescope import write_results
    from grader.rubric import load_rubric
    from grader.submission import read_source

    if is_class_folder(Path(args.submission)) and any(Path(args.submission).iterdir()):
        raise UsageError(
            f"{args.submission} holds no sgd.py or sgd.ipynb (to grade it as a class folder, add --out OUT_DIR)"
        )
    limits = _limits(args)
    load_rubric(args.rubric)
    source, file = read_source(args.submission)
    problems = [] if syntax_error(source, file.name) else interface_problems(source)
    with open_sandbox(launched.device, limits, launched) as sandbox:
        _warn_missing_layers(sandbox.layers)
        settle_after_start_up()
        report = grade_source(
            source,
            str(file),
            sandbox,
            seed=args.seed,
            public_only=args.public_only,
            rubric_path=args.rubric,
            with_plots=bool(args.html),  # only the feedback page shows them
        )
    print_report(report, console)
    if args.json:
        write_results(report, args.json)
    if args.html:
        from grader.reporters.html import write_feedback

        write_feedback(report, args.html)
    problem = report.load_error or (problems[0] if problems else None)
    if problem:
        console.print(f"[red]error:[/] {for_console(file)}: {for_console(problem)}", highlight=False, soft_wrap=True)
        return 1
    return 0


def cmd_demo(args: argparse.Namespace, console: Console) -> int:
    from grader import reference
    from grader.frontends.grade import grade_source, open_sandbox
    from grader.reporters.console import print_side_by_side
    from grader.submission import read_source

    reports = []
    with open_sandbox(_device(args.device)) as sandbox:
        console.print(f"Isolation layers active: {', '.join(sorted(sandbox.layers)) or 'none'}")
        buggy = reference.source_with(read_source(EXAMPLES / "buggy_sgd.py")[0])  # only what differs from it
        for label, source in (("reference", read_source(reference.SOLUTION)[0]), ("buggy example", buggy)):
            reports.append(grade_source(source, label, sandbox))
    print_side_by_side(reports, console)
    return 0


def cmd_stubs(args: argparse.Namespace, console: Console) -> int:
    from grader.builders.stubs import write_stubs

    console.print(f"wrote {write_stubs()}")
    return 0


def cmd_notebook(args: argparse.Namespace, console: Console) -> int:
    from grader.builders.notebook import write_notebook

    console.print(f"wrote {write_notebook()}")
    return 0


def cmd_course(args: argparse.Namespace, console: Console) -> int:
    from grader.builders.notebook import write_course

    folder = write_course(Path(args.dir))
    console.print(
        f"wrote an nbgrader course in {folder}. With this kit's .venv/bin first on PATH, run there:\n"
        "  nbgrader db student add STUDENT\n  nbgrader generate_assignment sgd\n"
        "  (collect submissions in submitted/STUDENT/sgd/sgd.ipynb, each with a timestamp.txt)\n"
        "  nbgrader autograde sgd\n  nbgrader generate_feedback sgd\n  nbgrader export",
        soft_wrap=True,
    )
    return 0


def cmd_gradescope_bundle(args: argparse.Namespace, console: Console) -> int:
    from grader.builders.gradescope_bundle import build_bundle

    try:
        out = build_bundle(args.out)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None
    console.print(f"wrote {out}: upload it to Gradescope as the autograder", soft_wrap=True)
    return 0


def cmd_release(args: argparse.Namespace, console: Console) -> int:
    from grader.builders.release import ReleaseError, build_release

    try:
        out = build_release(args.out_dir, force=args.force)
    except ReleaseError as exc:
        raise UsageError(str(exc)) from None
    console.print(f"wrote the student release to {out}", soft_wrap=True)
    return 0


def cmd_rubric(args: argparse.Namespace, console: Console) -> int:
    from rich.table import Table

    from grader.checks.model import checks_for
    from grader.rubric import load_rubric

    rubric = load_rubric(args.rubric)
    table = Table(title=f"rubric: {sum(e.points for e in rubric.values()):g} points", title_justify="left")
    for column in ("check", "points", "visibility", "title"):
        table.add_column(column, justify="right" if column == "points" else "left", no_wrap=column != "title")
    for check in checks_for():
        entry = rubric[check.id]
        mark = " *" if entry.overridden else ""
        table.add_row(check.id, f"{entry.points:g}{mark}", entry.visibility, check.title)
    console.print(table)
    console.print("* overridden by the rubric file; the others are the checks' own defaults")
    console.print("done by hand: a rule, judged from the source (0 points: flag only)")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m grader", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("grade", help="grade one submission (a folder with sgd.py/sgd.ipynb, or the file)")
    grade.add_argument("submission", help="sgd.py / sgd.ipynb, a folder holding one, or (with --out) a class folder")
    grade.add_argument("--json", metavar="RESULTS.json", help="write Gradescope-format results here")
    grade.add_argument("--html", metavar="FEEDBACK.html", help="write the feedback page (with plots) here")
    grade.add_argument(
        "--out",
        metavar="OUT_DIR",
        help="grade a class folder: results, grades.csv, changes.csv here (overrides.csv read)",
    )
    grade.add_argument("--jobs", type=int, default=0, help="parallel workers for a class (default: core count)")
    grade.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT|local[:N]",
        help="grade a class on Dask: an existing scheduler, or a local cluster of N workers (the cluster extra)",
    )
    grade.add_argument("--force", action="store_true", help="regrade students whose submission did not change")
    grade.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    grade.add_argument("--seed", type=int, default=DEFAULT_SEED, help="hypothesis seed (default %(default)s)")
    grade.add_argument("--public-only", action="store_true", help="run only the public checks")
    grade.add_argument("--rubric", help="a rubric TOML file (default: grader/rubric.toml)")
    grade.add_argument("--call-timeout", type=float, default=10.0, help="seconds per call (default %(default)s)")
    grade.add_argument("--memory-gib", type=float, default=2.0, help="memory cap per worker (default %(default)s)")
    grade.set_defaults(run=cmd_grade)
    demo = commands.add_parser("demo", help="grade the reference solution and a buggy example, side by side")
    demo.add_argument("--device", default="cpu")
    demo.set_defaults(run=cmd_demo)
    stubs = commands.add_parser("stubs", help="regenerate exercises/sgd.py from solutions/sgd.py")
    stubs.set_defaults(run=cmd_stubs)
    notebook = commands.add_parser("notebook", help="regenerate exercises/sgd.ipynb from solutions/sgd.py")
    notebook.set_defaults(run=cmd_notebook)
    course = commands.add_parser("course", help="write an nbgrader course folder for this exercise")
    course.add_argument("dir", metavar="DIR")
    course.set_defaults(run=cmd_course)
    bundle = commands.add_parser("gradescope-bundle", help="build the Gradescope autograder zip")
    bundle.add_argument("out", metavar="OUT.zip")
    bundle.set_defaults(run=cmd_gradescope_bundle)
    release = commands.add_parser("release", help="write what students get: stubs, public checks, lessons")
    release.add_argument("out_dir", metavar="OUT_DIR")
    release.add_argument("--force", action="store_true", help="replace a previous release in OUT_DIR")
    release.set_defaults(run=cmd_release)
    export = commands.add_parser("export", help="write a graded class's grades as a Canvas or Moodle import file")
    export.add_argument("out", metavar="OUT_DIR", help="a class's output folder (with grades.csv)")
    export.add_argument("--to", required=True, choices=("canvas", "moodle"), help="the LMS")
    export.add_argument("--roster", required=True, metavar="ROSTER.csv", help="folder names → LMS identities")
    export.add_argument("--assignment", required=True, help="the assignment's name in the LMS")
    export.add_argument("--assignment-id", default="", help="Canvas: the assignment's id (else Canvas creates it)")
    export.add_argument("--key", default="email", choices=("email", "id_number"), help="Moodle: identify users by")
    export.set_defaults(run=cmd_export)
    rubric = commands.add_parser("rubric", help="list every check's points and visibility, overrides applied")
    rubric.add_argument("--rubric", help="a rubric TOML file of overrides (default: grader/rubric.toml)")
    rubric.set_defaults(run=cmd_rubric)
    return top


def _input_errors() -> tuple[type[Exception], ...]:
    """The errors that mean bad input rather than a bug: one line on stderr, exit status 2.
    (Imported only when needed: `grade` starts its sandbox before it imports torch.)"""
    from grader.overrides import OverrideError
    from grader.reporters.lms import ExportError
    from grader.rubric import RubricError
    from grader.sandbox.client import SandboxError
    from grader.submission import SubmissionError

    errors = (UsageError, SubmissionError, RubricError, SandboxError, OverrideError, ExportError)
    cluster = sys.modules.get("grader.frontends.cluster")  # imported only for --scheduler
    return (*errors, cluster.ClusterError) if cluster else errors


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    console = Console(stderr=False)
    try:
        return args.run(args, console)
    except Exception as exc:
        if not isinstance(exc, _input_errors()):
            raise
        Console(stderr=True).print(f"[red]error:[/] {for_console(exc)}", highlight=False, soft_wrap=True)
        return 2
    except KeyboardInterrupt:
        Console(stderr=True).print("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
