"""feedback.html: one self-contained page per student (inline CSS, plots as data URIs, no scripts).

Everything that comes from the submission (feedback messages quote its returned values, the load
error quotes its source) is escaped and bounded in length. Hidden checks show only their name, points and status, plus
the diagnosis hint when one fired (it names the mistake, never the inputs), as in results.json.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from grader.contract import STEPS
from grader.files import write_atomically
from grader.frontends.grade import Graded, Report, environment
from grader.reporters.console import step_rows
from grader.reporters.gradescope import test_output
from grader.reporters.page import escaped, page
from grader.verdict import check_status

CSS = """
:root { --ok: #2b8a3e; --bad: #c92a2a; --todo: #e67700; --muted: #868e96; --line: #dee2e6; --bg: #f8f9fa; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: #212529;
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 980px; margin: 0 auto; padding: 24px 20px 40px; }
h1 { font-size: 1.6em; margin: 0 0 4px; }
h2 { font-size: 1.2em; margin: 0; display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
h2 .points { margin-left: auto; font-variant-numeric: tabular-nums; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 16px 20px; margin: 16px 0; }
.score { font-size: 2.2em; font-weight: 700; font-variant-numeric: tabular-nums; }
.bar { height: 10px; background: #e9ecef; border-radius: 5px; overflow: hidden; margin: 8px 0 4px; }
.bar > span { display: block; height: 100%; background: var(--ok); }
.chip { display: inline-block; padding: 1px 9px; border-radius: 999px; font-size: 0.78em; font-weight: 600;
        color: #fff; background: var(--muted); white-space: nowrap; }
.chip.passed, .chip.done { background: var(--ok); } .chip.failed, .chip.failing { background: var(--bad); }
.chip.not-started { background: var(--todo); } .chip.hidden { background: #fff; color: var(--muted);
        border: 1px solid var(--muted); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
a { color: #1c7ed6; text-decoration: none; } a:hover { text-decoration: underline; }
ul.checks { list-style: none; padding: 0; margin: 10px 0 0; }
ul.checks > li { border-top: 1px solid var(--line); padding: 8px 0; }
.check { display: flex; gap: 10px; align-items: baseline; }
.check .title { flex: 1; } .check .pts { font-variant-numeric: tabular-nums; color: var(--muted); white-space: nowrap; }
pre { background: #fff5f5; border-left: 4px solid var(--bad); padding: 10px 12px; margin: 8px 0 0;
      white-space: pre-wrap; overflow-wrap: anywhere; font: 13px/1.45 ui-monospace, "SFMono-Regular", Menlo,
      Consolas, "DejaVu Sans Mono", monospace; }
pre.todo { background: #fff9db; border-left-color: var(--todo); }
.alert { background: #fff5f5; border: 1px solid #ffc9c9; color: var(--bad); }
figure { margin: 18px 0; } figure img { max-width: 100%; height: auto; display: block; margin: 0 auto; }
figcaption { color: #495057; font-size: 0.92em; margin-top: 6px; }
.note { color: var(--todo); }
footer { color: var(--muted); font-size: 0.85em; margin-top: 24px; }
footer dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 6px 0 0; }
footer dt { font-weight: 600; } footer dd { margin: 0; }
"""

CAPTIONS = {
    "train": "Your <code>train</code> against the reference solution: same data, same settings, same seed. "
    "Both draw every random number from the generator, so a correct <code>train</code> follows the band exactly. "
    "Here your <code>train</code> runs with all your own functions, so a bug in an earlier step shows in this "
    "curve even where the train checks (which use the reference for the other steps) pass.",
    "schedules": "Your learning-rate schedules against torch's schedulers "
    "(<code>ExponentialLR</code>, <code>StepLR</code>, <code>LinearLR</code>, <code>CosineAnnealingLR</code>) "
    "for t = 0 … 20.",
    "momentum": "Your <code>momentum_step</code> and <code>sgd_step</code>, each fed its own outputs for 30 steps "
    "on a long, narrow quadratic bowl, against <code>torch.optim.SGD</code> with and without momentum. "
    "Momentum speeds up travel along the valley.",
}
FIGURE_TITLES = {"train": "Training loss", "schedules": "Learning-rate schedules", "momentum": "Momentum vs plain SGD"}


def _pts(x: float) -> str:
    return f"{x:g}"


def _status_class(status: str) -> str:
    return status.replace(" ", "-")


def _check_item(graded: Graded) -> str:
    outcome, entry = graded.outcome, graded.entry
    status = check_status(outcome)
    hidden = ' <span class="chip hidden">hidden</span>' if entry.hidden else ""
    head = (
        f'<div class="check"><span class="chip {_status_class(status)}">{status}</span>'
        f'<span class="title">{escaped(graded.check.title)}{hidden}</span>'
        f'<span class="pts">{_pts(graded.score)} / {_pts(entry.points)}</span></div>'
    )
    # hidden checks: never their inputs, only the diagnosis hint (or that the function is not written yet)
    text = outcome.message if outcome.not_implemented else test_output(graded)
    tone = "todo" if outcome.not_implemented or outcome.passed else ""  # passed: a rule's "could not verify"
    body = f'<pre class="{tone}">{escaped(text)}</pre>' if text else ""
    return f"<li>{head}{body}</li>"


def _steps(report: Report) -> str:
    rows = {row[0]: row for row in step_rows(report)}
    parts = []
    for step in STEPS:
        graded = [g for g in report.graded if g.check.step == step]
        if step not in rows or not graded:
            continue
        _, points, max_points, status, _ = rows[step]
        items = "".join(_check_item(g) for g in graded)
        parts.append(
            f'<section class="card" id="step-{escaped(step)}"><h2>{escaped(step)} '
            f'<span class="chip {_status_class(status)}">{status}</span>'
            f'<span class="points">{_pts(points)} / {_pts(max_points)}</span></h2>'
            f'<ul class="checks">{items}</ul></section>'
        )
    return "".join(parts)


def _summary(report: Report) -> str:
    rows = []
    for step, points, max_points, status, note in step_rows(report):
        rows.append(
            f'<tr><td><a href="#step-{escaped(step)}">{escaped(step)}</a></td>'
            f'<td class="num">{_pts(points)} / {_pts(max_points)}</td>'
            f'<td><span class="chip {_status_class(status)}">{status}</span></td><td>{escaped(note)}</td></tr>'
        )
    return (
        '<table><thead><tr><th>step</th><th class="num">points</th><th>status</th><th>first problem</th></tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _plots(plot_data: dict | None) -> str:
    if plot_data is None:
        return ""
    from grader.reporters.plots import render

    try:
        images, notes = render(plot_data)
    except Exception as exc:  # noqa: BLE001 - no plots is better than no feedback
        images, notes = {}, {"plots": f"The plots could not be drawn ({type(exc).__name__})."}
    parts = []
    for name, title in FIGURE_TITLES.items():
        note = f'<p class="note">{escaped(notes[name])}</p>' if name in notes else ""
        if name in images:
            parts.append(
                f'<figure><img src="{images[name]}" alt="{escaped(title)}">'
                f"<figcaption><strong>{escaped(title)}.</strong> {CAPTIONS[name]}</figcaption>{note}</figure>"
            )
        elif note:
            parts.append(f"<h3>{escaped(title)}</h3>{note}")
    if "plots" in notes:
        parts.append(f'<p class="note">{escaped(notes["plots"])}</p>')
    return f'<section class="card" id="plots"><h2>Plots</h2>{"".join(parts)}</section>'


def _footer(report: Report) -> str:
    env = environment(report.device, report.seed, report.layers)
    items = {
        "grader": env["grader_version"],
        "seed": env["seed"],
        "device": env["device"],
        "Python / torch": f"{env['python']} / {env['torch']}",
        "isolation": ", ".join(env["isolation"]) or "none",
        "graded in": f"{report.seconds:.1f} s",
    }
    cells = "".join(f"<dt>{escaped(k)}</dt><dd>{escaped(v)}</dd>" for k, v in items.items())
    return f"<footer><dl>{cells}</dl></footer>"


def overrides_html(overrides: Sequence[dict]) -> str:
    """The instructor's adjustments (results.json's `extra_data["overrides"]`), each with its reason."""
    if not overrides:
        return ""
    rows = "".join(
        f'<tr><td>{escaped(o["check"])}</td><td class="num">{o["points"]:+g}</td><td>{escaped(o["reason"])}</td>'
        f"<td>{escaped(o['author'])}</td></tr>"
        for o in overrides
    )
    return (
        '<section class="card" id="overrides"><h2>Adjustments by your instructor</h2>'
        "<p>Added to the points the checks gave (included in the score above).</p>"
        '<table><thead><tr><th>check or step</th><th class="num">points</th><th>reason</th><th>by</th></tr>'
        f"</thead><tbody>{rows}</tbody></table></section>"
    )


def feedback_html(report: Report, plot_data: dict | None = None, *, overrides: Sequence[dict] = ()) -> str:
    """The feedback page for one graded submission, with the instructor's `overrides` (results.json's
    records) added to its score and listed; plots from `plot_data` or `report.extra["plots"]`."""
    if plot_data is None:
        plot_data = report.extra.get("plots")
    name = Path(report.submission).name or report.submission
    score = report.score + sum(o["points"] for o in overrides)
    fraction = min(max(score / report.max_score, 0.0), 1.0) if report.max_score else 0.0
    load_error = (
        f'<div class="card alert"><strong>Could not load your submission:</strong> {escaped(report.load_error)}</div>'
        if report.load_error
        else ""
    )
    body = (
        f'<header class="card"><h1>SGD exercise: feedback for {escaped(name, 200)}</h1>'
        f'<div class="score">{_pts(round(score, 4))} / {_pts(round(report.max_score, 4))}</div>'
        f'<div class="bar"><span style="width: {100 * fraction:.1f}%"></span></div>'
        "<p>Each step below lists its checks. A failing check shows the smallest input it could find "
        "and, when it recognises the mistake, what to change. Hidden checks show only their name and points. "
        "A rule (done by hand: …) is read from your code, not run: it names the call and its line."
        f"</p>{_summary(report)}</header>{load_error}{overrides_html(overrides)}{_steps(report)}"
        f"{_plots(plot_data)}{_footer(report)}"
    )
    return page(f"Feedback: {name}", CSS, body)


def write_feedback(report: Report, path: str | Path, plot_data: dict | None = None) -> None:
    """Write the feedback page atomically."""
    write_atomically(Path(path), feedback_html(report, plot_data))
