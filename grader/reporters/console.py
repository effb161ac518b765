"""The per-step table printed after grading. Text from a submission (its messages, its file's
name) is shown as plain text: never as rich markup, never as terminal escape sequences."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from grader.contract import STEPS
from grader.frontends.grade import Report
from grader.text import for_console
from grader.verdict import DONE, FAILING, NOT_STARTED, step_status


def step_rows(report: Report) -> list[tuple[str, float, float, str, str]]:
    """(step, points, max points, `verdict.step_status`, first line of feedback) for each step."""
    rows = []
    for step in STEPS:
        graded = [g for g in report.graded if g.check.step == step]
        if not graded:
            continue
        status = step_status(g.outcome for g in graded)
        if status == DONE:  # a rule may still have found something it could not verify
            note = next((g.outcome.message.splitlines()[0] for g in graded if g.outcome.message), "")
        elif status == NOT_STARTED:
            note = "not implemented yet"
        else:
            first = next(g for g in graded if not g.outcome.passed)
            note = first.outcome.hint or (
                "(a hidden check failed)" if first.entry.hidden else first.outcome.message.splitlines()[0]
            )
        rows.append((step, sum(g.score for g in graded), sum(g.entry.points for g in graded), status, note))
    return rows


def print_report(report: Report, console: Console | None = None) -> None:
    console = console or Console()
    title = f"{for_console(report.submission)}: {report.score:g} / {report.max_score:g}"
    table = Table(title=title, title_justify="left")
    table.add_column("step")
    table.add_column("points", justify="right")
    table.add_column("status")
    table.add_column("feedback", overflow="fold")
    colours = {DONE: "green", FAILING: "red", NOT_STARTED: "yellow"}
    for step, points, max_points, status, note in step_rows(report):
        table.add_row(step, f"{points:g}/{max_points:g}", f"[{colours[status]}]{status}[/]", for_console(note))
    console.print(table)
    if report.load_error:
        console.print(f"[red]Could not load the submission:[/] {for_console(report.load_error)}", highlight=False)


def print_side_by_side(reports: list[Report], console: Console | None = None) -> None:
    """One table, one column of points per submission, and the last one's feedback."""
    console = console or Console()
    table = Table(title="side by side", title_justify="left")
    table.add_column("step")
    for report in reports:
        table.add_column(f"{for_console(report.submission)}\n{report.score:g} / {report.max_score:g}", justify="right")
    table.add_column(f"feedback for {for_console(reports[-1].submission)}", overflow="fold")
    rows = [step_rows(r) for r in reports]
    for cells in zip(*rows):
        points = [f"{'[green]' if c[3] == DONE else '[red]'}{c[1]:g}/{c[2]:g}[/]" for c in cells]
        table.add_row(cells[0][0], *points, for_console(cells[-1][4]))
    console.print(table)
