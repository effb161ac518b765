"""The class report: OUT_DIR/report.html and a terminal summary, for the instructor.

It shows how the class scored at each step and how often each diagnosed mistake fired: which
steps and which misconceptions to teach again. Rows come from `classroom.Row`s (student +
results.json content), from graded `Report`s, or are `StudentSummary`s already; a row's status is
`grader.verdict`'s, as results.json records it or as the Report has it.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from grader.checks.model import DIAGNOSES, checks_for
from grader.checks.rules import RULES, STATIC, UNVERIFIED
from grader.contract import STEPS
from grader.files import write_atomically
from grader.overrides import override_points
from grader.reporters.page import escaped, page, png
from grader.text import for_console
from grader.verdict import GRADED, status_of, submission_status


@dataclass
class StudentSummary:
    """One student's grade, per step, with the mistakes the checks diagnosed."""

    student: str
    total: float
    max: float
    steps: dict[str, tuple[float, float]] = field(default_factory=dict)
    """step → (points, max points)"""
    diagnoses: list[str] = field(default_factory=list)
    """"step: id" where the step is known, else "id"."""
    status: str = GRADED
    """A `verdict` submission status: graded, not loadable, not gradable, crashed."""
    problem: str = ""
    hints: dict[str, str] = field(default_factory=dict)
    """diagnosis → the hint students saw for it, where known."""
    policy: list[dict] = field(default_factory=list)
    """What the rules found (results.json's extra_data.policy): {step, function, api, line, evidence, rule}."""

    @property
    def graded(self) -> bool:
        return self.status == GRADED


RULE_NAMES = frozenset(rule.name for rule in RULES)

# --- the diagnosis catalogue --------------------------------------------------------------------


def catalogue() -> dict[str, dict[str, str]]:
    """Every diagnosis the checks can name, from the registry: id → {step: message}."""
    checks_for()  # importing the checks registers their diagnoses
    found: dict[str, dict[str, str]] = {}
    for step, messages in DIAGNOSES.items():
        for ident, message in messages.items():
            found.setdefault(ident, {})[step] = message
    return found


def _message(key: str, hints: dict[str, str]) -> str:
    if hints.get(key):
        return hints[key]
    step, _, ident = key.rpartition(": ")
    known = catalogue().get(ident, {})
    if step in known:
        return known[step]
    return " / ".join(sorted({m for m in known.values() if m}))


# --- rows -------------------------------------------------------------------------------------


def summary_from_results(student: str, results: dict, status: str | None = None) -> StudentSummary:
    """A student's summary from the content of their results.json; its status is the one recorded there
    (`verdict.status_of`) unless `status` is given."""
    tests = results.get("tests") or []
    output = str(results.get("output") or "")
    status = status or status_of(results)
    steps: dict[str, list[float]] = {}
    for test in tests:
        tags = test.get("tags") or ["?"]
        entry = steps.setdefault(str(tags[0]), [0.0, 0.0])
        entry[0] += float(test.get("score") or 0.0)
        entry[1] += float(test.get("max_score") or 0.0)
    for step, added in override_points(results).items():
        steps.setdefault(step, [0.0, 0.0])[0] += added
    lost = {s for s, (points, top) in steps.items() if points < top}
    extra = results.get("extra_data") or {}
    policy = [f for f in extra.get("policy") or [] if isinstance(f, dict) and isinstance(f.get("rule"), str)]
    diagnoses = sorted({f["rule"].replace(".", ": ", 1) for f in policy if f.get("evidence") == STATIC})
    for ident in extra.get("diagnoses") or []:
        where = sorted(set(catalogue().get(ident, {})) & lost)
        if ident not in RULE_NAMES:  # a rule's step is in its finding, even when it costs nothing
            diagnoses.append(f"{where[0]}: {ident}" if len(where) == 1 else str(ident))
    total_max = extra.get("max_score", sum(top for _, top in steps.values()))
    return StudentSummary(
        student=student,
        total=float(results.get("score") or 0.0),
        max=float(total_max or 0.0),
        steps={s: (points, top) for s, (points, top) in steps.items()},
        diagnoses=diagnoses,
        status=status,
        problem="" if status == GRADED else output,
        policy=policy,
    )


def summary_from_report(report: Any, student: str | None = None) -> StudentSummary:
    """A student's summary from a graded `grading.Report` (diagnoses with their steps and hints)."""
    steps: dict[str, tuple[float, float]] = {}
    diagnoses: list[str] = []
    hints: dict[str, str] = {}
    for g in report.graded:
        points, top = steps.get(g.check.step, (0.0, 0.0))
        steps[g.check.step] = (points + g.score, top + g.entry.points)
        if g.outcome.diagnosis:
            key = f"{g.check.step}: {g.outcome.diagnosis}"
            if key not in diagnoses:
                diagnoses.append(key)
            if g.outcome.hint:
                hints.setdefault(key, g.outcome.hint)
    return StudentSummary(
        student=student or Path(report.submission).stem,
        total=report.score,
        max=report.max_score,
        steps=steps,
        diagnoses=diagnoses,
        status=submission_status(report),
        problem=f"Could not load the submission: {report.load_error}" if report.load_error else "",
        hints=hints,
        policy=[finding for g in report.graded for finding in g.outcome.findings],
    )


def as_summaries(rows: Iterable[Any]) -> list[StudentSummary]:
    """StudentSummary for each row: a StudentSummary, a classroom.Row (.student, .results), a Report,
    or a dict with "student" and "results"."""
    out = []
    for row in rows:
        if isinstance(row, StudentSummary):
            out.append(row)
        elif hasattr(row, "graded") and hasattr(row, "submission"):
            out.append(summary_from_report(row))
        elif isinstance(row, dict):
            out.append(summary_from_results(str(row["student"]), row["results"], row.get("status")))
        else:
            out.append(summary_from_results(str(row.student), row.results, getattr(row, "status", None)))
    return out


# --- statistics -------------------------------------------------------------------------------


def _steps_of(summaries: Sequence[StudentSummary]) -> list[str]:
    seen = {s for row in summaries for s in row.steps}
    return [s for s in STEPS if s in seen] + sorted(seen - set(STEPS))


def step_stats(rows: Iterable[Any]) -> list[dict]:
    """Per step over the graded students: max, mean, median, and how many got full / some / no points."""
    graded = [r for r in as_summaries(rows) if r.graded]
    stats = []
    for step in _steps_of(graded):
        points = [r.steps.get(step, (0.0, 0.0))[0] for r in graded]
        top = max((r.steps.get(step, (0.0, 0.0))[1] for r in graded), default=0.0)
        full = sum(p >= top - 1e-9 and top > 0 for p in points)
        none = sum(p <= 1e-9 for p in points)
        stats.append(
            {
                "step": step,
                "max": top,
                "mean": statistics.fmean(points) if points else 0.0,
                "median": statistics.median(points) if points else 0.0,
                "full": full,
                "partial": len(points) - full - none,
                "none": none,
            }
        )
    return stats


def diagnosis_counts(rows: Iterable[Any]) -> list[tuple[str, int, str]]:
    """(diagnosis, number of students, message), most frequent first, over the graded students."""
    counts: Counter[str] = Counter()
    hints: dict[str, str] = {}
    for row in as_summaries(rows):
        if row.graded:
            counts.update(set(row.diagnoses))
            for key, hint in row.hints.items():
                hints.setdefault(key, hint)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [(key, n, _message(key, hints)) for key, n in ranked]


def rule_counts(rows: Iterable[Any]) -> list[tuple[str, int]]:
    """(rule id, number of graded students it fired for, on static evidence), for every rule."""
    graded = [r for r in as_summaries(rows) if r.graded]
    fired = Counter(rule for r in graded for rule in {f["rule"] for f in r.policy if f.get("evidence") == STATIC})
    return [(rule.id, fired[rule.id]) for rule in RULES]


def unverified(rows: Iterable[Any]) -> list[tuple[str, dict]]:
    """(student, finding) for everything a rule could not verify: for the instructor to read."""
    return [(r.student, f) for r in as_summaries(rows) for f in r.policy if f.get("evidence") == UNVERIFIED]


# --- the page ---------------------------------------------------------------------------------


def _figures(summaries: Sequence[StudentSummary]) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    stats = step_stats(summaries)
    graded = [r for r in summaries if r.graded]
    images = {}
    if stats:
        fig, ax = plt.subplots(figsize=(8, 0.42 * len(stats) + 1.2))
        names = [s["step"] for s in stats][::-1]
        left = [0] * len(stats)
        for key, colour, label in (
            ("full", "#2b8a3e", "full points"),
            ("partial", "#fab005", "some points"),
            ("none", "#e03131", "no points"),
        ):
            widths = [s[key] for s in stats][::-1]
            ax.barh(names, widths, left=left, color=colour, label=label)
            left = [a + b for a, b in zip(left, widths)]
        for y, s in enumerate(stats[::-1]):
            ax.text(len(graded) + 0.1, y, f"mean {s['mean']:.1f} / {s['max']:g}", va="center", fontsize=8)
        ax.set_xlim(0, len(graded) * 1.28 + 0.5)
        ax.set_xlabel("students")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_title("Points per step", fontsize=10)
        ax.legend(loc="lower right", fontsize=8, ncols=3, bbox_to_anchor=(1, 1.06), frameon=False)
        ax.grid(axis="x", alpha=0.3)
        images["steps"] = png(fig, tight=True)
    if graded:
        fig, ax = plt.subplots(figsize=(8, 2.8))
        top = max(r.max for r in graded) or 1.0
        percents = [100 * r.total / (r.max or top) for r in graded]
        ax.hist(percents, bins=[i * 10 for i in range(11)], color="#1c7ed6", edgecolor="white")
        ax.set(xlabel="total score (% of the maximum)", ylabel="students", xlim=(0, 100))
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.set_title(f"Total scores: median {statistics.median(percents):.0f}%", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
        images["totals"] = png(fig, tight=True)
    return images


CSS = """
body { margin: 0; background: #f8f9fa; color: #212529;
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1040px; margin: 0 auto; padding: 24px 20px 40px; }
h1 { font-size: 1.6em; margin: 0 0 6px; } h2 { font-size: 1.2em; margin: 0 0 10px; }
.card { background: #fff; border: 1px solid #dee2e6; border-radius: 10px; padding: 16px 20px; margin: 16px 0; }
img { max-width: 100%; height: auto; display: block; margin: 8px auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #dee2e6; vertical-align: top; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.low { color: #c92a2a; font-weight: 600; } .muted { color: #868e96; }
code { background: #f1f3f5; padding: 0 4px; border-radius: 4px; white-space: nowrap; }
.bar { display: inline-block; height: 8px; background: #fa5252; border-radius: 4px; vertical-align: middle; }
.stats { display: flex; gap: 28px; flex-wrap: wrap; } .stats div { font-size: 0.9em; color: #495057; }
.stats b { display: block; font-size: 1.6em; color: #212529; }
"""


def _skipped_section(skipped: Iterable[Any]) -> str:
    """The entries of the class folder that got no row (`classroom.Skipped`s or (entry, reason) pairs)."""
    pairs = [(s.entry, s.reason) if hasattr(s, "entry") else tuple(s) for s in skipped]
    if not pairs:
        return ""
    rows = "".join(f"<tr><td>{escaped(entry)}</td><td>{escaped(reason)}</td></tr>" for entry, reason in pairs)
    table = f"<table><thead><tr><th>entry</th><th>why</th></tr></thead><tbody>{rows}</tbody></table>"
    return f'<section class="card"><h2>Skipped entries of the class folder</h2>{table}</section>'


def _headline(summaries: list, graded: list, failed: list) -> str:
    percents = [100 * r.total / r.max for r in graded if r.max]
    headline = "".join(
        f"<div><b>{value}</b>{label}</div>"
        for value, label in (
            (len(summaries), "students"),
            (len(graded), "graded"),
            (len(failed), "with errors"),
            (f"{statistics.median(percents):.0f}%" if percents else "–", "median score"),
            (f"{statistics.fmean(percents):.0f}%" if percents else "–", "mean score"),
        )
    )
    return headline


def _step_table(stats: list, graded: list) -> str:
    step_rows = "".join(
        f'<tr><td>{escaped(s["step"])}</td><td class="num">{s["mean"]:.2f} / {s["max"]:g}</td>'
        f'<td class="num">{s["median"]:g}</td><td class="num">{s["full"]}</td><td class="num">{s["partial"]}</td>'
        f'<td class="num{" low" if graded and s["none"] > len(graded) / 4 else ""}">{s["none"]}</td></tr>'
        for s in stats
    )
    step_table = (
        '<table><thead><tr><th>step</th><th class="num">mean</th><th class="num">median</th>'
        '<th class="num">full points</th><th class="num">some</th><th class="num">none</th></tr></thead>'
        f"<tbody>{step_rows}</tbody></table>"
    )
    return step_table


def _diagnoses_table(summaries: list, graded: list) -> str:
    diag_rows = "".join(
        f'<tr><td><code>{escaped(key)}</code></td><td class="num">{n}</td>'
        f'<td class="num"><span class="bar" style="width: {60 * n / max(len(graded), 1):.0f}px"></span> '
        f"{100 * n / max(len(graded), 1):.0f}%</td><td>{escaped(message) or '<span class=muted>–</span>'}</td></tr>"
        for key, n, message in diagnosis_counts(summaries)
    )
    diagnoses = (
        '<table><thead><tr><th>diagnosis</th><th class="num">students</th><th class="num">% of class</th>'
        f"<th>what the students were told</th></tr></thead><tbody>{diag_rows}</tbody></table>"
        if diag_rows
        else '<p class="muted">No diagnosed mistakes.</p>'
    )
    return diagnoses


def _rules_section(summaries: list, graded: list) -> str:
    counts = "".join(
        f'<tr><td><code>{escaped(rule)}</code></td><td class="num">{n}</td>'
        f'<td class="num">{100 * n / max(len(graded), 1):.0f}%</td></tr>'
        for rule, n in rule_counts(summaries)
    )
    review = "".join(
        f"<tr><td>{escaped(student)}</td><td>{escaped(f.get('step'))}</td><td>{escaped(f.get('function'))}</td>"
        f'<td><code>{escaped(f.get("api"))}</code></td><td class="num">{escaped(f.get("line"))}</td></tr>'
        for student, f in unverified(summaries)
    )
    review_table = (
        "<table><thead><tr><th>student</th><th>step</th><th>function</th><th>construct</th>"
        f'<th class="num">line</th></tr></thead><tbody>{review}</tbody></table>'
        if review
        else '<p class="muted">Nothing to review.</p>'
    )
    return (
        '<section class="card"><h2>Rules</h2><p>How many students each rule fired for (read from their '
        "source), and what no rule could verify (code that hides what it calls): read those yourself; "
        "they cost nothing.</p>"
        '<table><thead><tr><th>rule</th><th class="num">students</th><th class="num">% of class</th></tr>'
        f"</thead><tbody>{counts}</tbody></table><h3>Could not verify</h3>{review_table}</section>"
    )


def _errors_table(failed: list) -> str:
    error_rows = "".join(
        f"<tr><td>{escaped(r.student)}</td><td>{escaped(r.status)}</td><td>{escaped(r.problem)}</td></tr>"
        for r in failed
    )
    errors = (
        f"<table><thead><tr><th>student</th><th>status</th><th>why</th></tr></thead><tbody>{error_rows}</tbody></table>"
        if failed
        else '<p class="muted">Every submission was graded.</p>'
    )
    return errors


def _students_table(summaries: list) -> str:
    steps = _steps_of(summaries)
    student_rows = "".join(
        f"<tr><td>{escaped(r.student)}</td>"
        + "".join(f'<td class="num">{r.steps[s][0]:g}</td>' if s in r.steps else "<td></td>" for s in steps)
        + f'<td class="num"><b>{r.total:g}</b> / {r.max:g}</td><td>{escaped(r.status)}</td></tr>'
        for r in sorted(summaries, key=lambda r: r.student)
    )
    students = (
        "<table><thead><tr><th>student</th>"
        + "".join(f'<th class="num">{escaped(s)}</th>' for s in steps)
        + f'<th class="num">total</th><th>status</th></tr></thead><tbody>{student_rows}</tbody></table>'
    )
    return students


def _changes_section(rows: Iterable[Any]) -> str:
    """What this run's regrades changed (`classroom.Row.changes`), as changes.csv has it."""
    changed = [c for row in rows for c in getattr(row, "changes", ())]
    if not changed:
        none = '<p class="muted">No student\'s points changed in this run.</p>'
        return f'<section class="card" id="changes"><h2>What changed</h2>{none}</section>'
    body = "".join(
        f'<tr><td>{escaped(c.student)}</td><td>{escaped(c.step)}</td><td class="num">{c.old:g}</td>'
        f'<td class="num">{c.new:g}</td><td>{escaped(c.reason)}</td></tr>'
        for c in changed
    )
    return (
        '<section class="card" id="changes"><h2>What changed</h2><table><thead><tr><th>student</th><th>step</th>'
        '<th class="num">old points</th><th class="num">new points</th><th>why</th></tr></thead>'
        f"<tbody>{body}</tbody></table></section>"
    )


def changes_line(rows: Iterable[Any]) -> str:
    """One line for the terminal: how many students' points this run changed, and why."""
    changed = [c for row in rows for c in getattr(row, "changes", ())]
    if not changed:
        return "changes: none (no student's points changed)"
    students = {c.student for c in changed}
    why = Counter(c.reason for c in changed)
    reasons = ", ".join(f"{n} {reason}" for reason, n in why.most_common())
    counted = f"{_count(len(changed), 'step score')} of {_count(len(students), 'student')}"
    return f"changes: {counted} ({reasons}); see changes.csv"


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}{'' if n == 1 else 's'}"


def _figure(images: dict) -> str:
    figure = "".join(
        f'<img src="{images[k]}" alt="{escaped(alt)}">'
        for k, alt in (("steps", "points per step"), ("totals", "total scores"))
        if k in images
    )
    return figure


def class_report_html(
    rows: Iterable[Any], title: str = "SGD exercise: class report", skipped: Iterable[Any] = ()
) -> str:
    """The class report page: self-contained, students' names and error texts escaped, and the
    class folder's `skipped` entries listed with why."""
    rows = list(rows)
    summaries = as_summaries(rows)
    graded = [r for r in summaries if r.graded]
    failed = [r for r in summaries if not r.graded]
    headline = _headline(summaries, graded, failed)
    step_table = _step_table(step_stats(summaries), graded)
    diagnoses = _diagnoses_table(summaries, graded)
    errors = _errors_table(failed)
    students = _students_table(summaries)
    figure = _figure(_figures(summaries))
    body = (
        f'<header class="card"><h1>{escaped(title)}</h1><div class="stats">{headline}</div></header>'
        f'<section class="card"><h2>Score distribution per step</h2>{figure}{step_table}</section>'
        '<section class="card"><h2>Diagnosed mistakes</h2><p>How many students each recognised mistake '
        f"was found in: the misconceptions to teach again.</p>{diagnoses}</section>"
        f"{_rules_section(summaries, graded)}"
        f"{_changes_section(rows)}"
        f'<section class="card"><h2>Submissions with errors</h2>{errors}</section>'
        f'<section class="card"><h2>Students</h2>{students}</section>'
        f"{_skipped_section(skipped)}"
    )
    return page(title, CSS, body)


def write_class_report(rows: Iterable[Any], out_dir: str | Path, skipped: Iterable[Any] = ()) -> Path:
    """Write OUT_DIR/report.html atomically; return its path."""
    path = Path(out_dir) / "report.html"
    write_atomically(path, class_report_html(rows, skipped=skipped))
    return path


def terminal_summary(rows: Iterable[Any], console: Console | None = None, *, top: int = 5) -> None:
    """Mean and median points per step, the most frequent diagnoses, and the submissions with errors."""
    console = console or Console()
    summaries = as_summaries(rows)
    graded = [r for r in summaries if r.graded]
    table = Table(title=f"class: {len(graded)} of {len(summaries)} graded", title_justify="left")
    for name, justify in (("step", "left"), ("mean", "right"), ("median", "right"), ("full / some / none", "right")):
        table.add_column(name, justify=justify)
    for s in step_stats(summaries):
        colour = "red" if graded and s["none"] > len(graded) / 4 else "green" if s["full"] == len(graded) else ""
        table.add_row(
            for_console(s["step"]),
            f"{s['mean']:.2f}/{s['max']:g}",
            f"{s['median']:g}",
            f"[{colour or 'default'}]{s['full']} / {s['partial']} / {s['none']}[/]",
        )
    console.print(table)
    counts = diagnosis_counts(summaries)
    if counts:
        mistakes = Table(title="most frequent mistakes", title_justify="left")
        mistakes.add_column("diagnosis")
        mistakes.add_column("students", justify="right")
        mistakes.add_column("hint", overflow="fold")
        for key, n, message in counts[:top]:
            mistakes.add_row(for_console(key), f"{n} ({100 * n / max(len(graded), 1):.0f}%)", for_console(message))
        console.print(mistakes)
    for student, f in unverified(summaries):
        where = f"{f.get('function')} (line {f.get('line')}): {f.get('api')}"
        console.print(f"[yellow]could not verify[/] {for_console(student)}: {for_console(where)}", highlight=False)
    for row in summaries:
        if not row.graded:
            console.print(
                f"[yellow]{for_console(row.student)}[/]: {row.status}: {for_console(row.problem)}",
                highlight=False,
                soft_wrap=True,
            )
