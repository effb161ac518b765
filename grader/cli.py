"""`python -m grader`: grade submissions, run the demo, regenerate the stubs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from grader.checks.core import DEFAULT_SEED

EXAMPLES = Path(__file__).with_name("examples")


class UsageError(Exception):
    """Bad input from the command line: one line, exit status 2."""


def _device(name: str) -> str:
    import torch

    if name not in ("cpu", "cuda"):
        raise UsageError(f"unknown device {name!r}: use cpu or cuda")
    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda, but no CUDA device is available here")
    return name


def cmd_grade(args: argparse.Namespace, console: Console) -> int:
    from grader.contract import interface_problems
    from grader.grading import grade_source, open_sandbox, syntax_error
    from grader.reporters.console import print_report
    from grader.reporters.gradescope import write_results
    from grader.rubric import load_rubric
    from grader.submission import read_source

    device = _device(args.device)
    load_rubric(args.rubric)
    source, file = read_source(args.submission)
    problems = [] if syntax_error(source, file.name) else interface_problems(source)
    with open_sandbox(device) as sandbox:
        report = grade_source(
            source, str(file), sandbox, seed=args.seed, public_only=args.public_only, rubric_path=args.rubric
        )
    print_report(report, console)
    if args.json:
        write_results(report, args.json)
    problem = report.load_error or (problems[0] if problems else None)
    if problem:
        console.print(f"[red]error:[/] {file}: {problem}", highlight=False, soft_wrap=True)
        return 1
    return 0


def cmd_demo(args: argparse.Namespace, console: Console) -> int:
    from grader import reference
    from grader.grading import grade_source, open_sandbox
    from grader.reporters.console import print_side_by_side
    from grader.submission import read_source

    reports = []
    with open_sandbox(_device(args.device)) as sandbox:
        console.print(f"Isolation layers active: {', '.join(sorted(sandbox.layers)) or 'none'}")
        for label, path in (("reference", reference.SOLUTION), ("buggy example", EXAMPLES / "buggy_sgd.py")):
            source, _ = read_source(path)
            reports.append(grade_source(source, label, sandbox))
    print_side_by_side(reports, console)
    return 0


def cmd_stubs(args: argparse.Namespace, console: Console) -> int:
    from grader.stubs import write_stubs

    console.print(f"wrote {write_stubs()}")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m grader", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("grade", help="grade one submission (a folder with sgd.py/sgd.ipynb, or the file)")
    grade.add_argument("submission")
    grade.add_argument("--json", metavar="RESULTS.json", help="write Gradescope-format results here")
    grade.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    grade.add_argument("--seed", type=int, default=DEFAULT_SEED, help="hypothesis seed (default %(default)s)")
    grade.add_argument("--public-only", action="store_true", help="run only the public checks")
    grade.add_argument("--rubric", help="a rubric TOML file (default: grader/rubric.toml)")
    grade.set_defaults(run=cmd_grade)
    demo = commands.add_parser("demo", help="grade the reference solution and a buggy example, side by side")
    demo.add_argument("--device", default="cpu")
    demo.set_defaults(run=cmd_demo)
    stubs = commands.add_parser("stubs", help="regenerate exercises/sgd.py from solutions/sgd.py")
    stubs.set_defaults(run=cmd_stubs)
    return top


def main(argv: list[str] | None = None) -> int:
    from grader.rubric import RubricError
    from grader.sandbox.client import SandboxError
    from grader.submission import SubmissionError

    args = parser().parse_args(argv)
    console = Console(stderr=False)
    try:
        return args.run(args, console)
    except (UsageError, SubmissionError, RubricError, SandboxError) as exc:
        Console(stderr=True).print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        return 2
    except KeyboardInterrupt:
        Console(stderr=True).print("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
