"""feedback.html and the class report: self-contained, escaped, no hidden inputs, and rendered by a real
headless browser (Debian's chromium) with every image loaded."""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
import re
import shutil
import subprocess
import time
from html import escape
from pathlib import Path

import pytest
from conftest import ROOT
from rich.console import Console

from grader import reference
from grader.frontends.grade import grade_source, open_sandbox
from grader.reporters import plots
from grader.reporters.class_report import (
    StudentSummary,
    catalogue,
    class_report_html,
    diagnosis_counts,
    terminal_summary,
    write_class_report,
)
from grader.reporters.gradescope import results
from grader.reporters.html import feedback_html, write_feedback
from grader.submission import InProcessSubmission, load_module, read_source

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).is_file(), reason="needs Debian's chromium (apt-get install -y chromium)"
)
BUGGY = ROOT / "grader" / "examples" / "buggy_sgd.py"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def graded():
    """The reference and the buggy example, graded in the sandbox, each with its plot data."""
    out = {}
    with open_sandbox() as sandbox:
        for label, path in (("reference", reference.SOLUTION), ("buggy", BUGGY)):
            source, file = read_source(path)
            if path == BUGGY:
                source = reference.source_with(source)  # the example holds only what differs from the reference
            report = grade_source(source, file.name, sandbox)
            submission = sandbox.submission(source, reference.helpers)
            try:
                plot_data = report.extra.get("plots") or plots.collect(submission)
            finally:
                submission.close()
            out[label] = (report, plot_data)
    return out


@pytest.fixture(scope="module")
def pages(graded, tmp_path_factory):
    folder = tmp_path_factory.mktemp("pages")
    paths = {}
    for label, (report, plot_data) in graded.items():
        paths[label] = folder / f"{label}.html"
        write_feedback(report, paths[label], plot_data)
    return paths


# --- static checks ----------------------------------------------------------------------------


def images_of(html: str) -> list[str]:
    return re.findall(r"<img\b[^>]*\bsrc=\"([^\"]*)\"", html)


def assert_self_contained(html: str, n_images: int) -> None:
    assert "<script" not in html.lower()
    for attr in re.findall(r"\b(?:src|href)\s*=\s*\"([^\"]*)\"", html):
        assert attr.startswith(("data:image/png;base64,", "#")), attr[:80]
    assert not re.search(r"url\(|@import|https?://", html)
    sources = images_of(html)
    assert len(sources) == n_images
    for src in sources:
        assert base64.b64decode(src.split(",", 1)[1], validate=True).startswith(PNG)


def test_pages_are_self_contained_with_three_plots(pages, graded):
    for label, path in pages.items():
        html = path.read_text()
        assert_self_contained(html, 3)
        report, _ = graded[label]
        assert f"{report.score:g} / {report.max_score:g}" in html
        for g in report.graded:
            assert escape(g.check.title) in html
        assert report.device in html and str(report.seed) in html and all(layer in html for layer in report.layers)


def test_buggy_page_shows_counterexample_gradients_and_hints(pages, graded):
    html = pages["buggy"].read_text()
    report, _ = graded["buggy"]
    assert "numerical" in html and "analytical (yours)" in html  # the finite-difference table
    assert escape("Your mse returns the root of the mean squared error (RMSE)") in html
    public = [g for g in report.graded if not g.outcome.passed and not g.entry.hidden]
    assert public and all(escape(g.outcome.message) in html for g in public)


def test_hidden_checks_never_show_their_inputs(pages, graded):
    html = pages["buggy"].read_text()
    report, _ = graded["buggy"]
    public_feedback = "\n".join(g.outcome.feedback for g in report.graded if not g.entry.hidden)
    hidden_failed = [g for g in report.graded if g.entry.hidden and not g.outcome.passed]
    assert hidden_failed
    for g in hidden_failed:
        assert "This hidden check failed." in html
        if g.outcome.message not in public_feedback:  # the same counterexample may be public elsewhere
            assert escape(g.outcome.message) not in html


def test_student_text_is_escaped_and_secrets_stay_hidden(graded):
    original = graded["buggy"][0]
    report = dataclasses.replace(
        original,
        submission="<i>sneaky.py",
        load_error="<img src=x onerror=alert(1)>",
        graded=[dataclasses.replace(g, outcome=copy.copy(g.outcome)) for g in original.graded],
        extra={},
    )
    public = next(g for g in report.graded if not g.outcome.passed and not g.entry.hidden)
    hidden = next(g for g in report.graded if not g.outcome.passed and g.entry.hidden)
    public.outcome.message = "got <script>alert('owned')</script> & more"
    hidden.outcome.message = "SECRET-INPUT X=[[31337.25]]"
    hidden.outcome.hint = "a <i>hint</i> for the mistake"
    html = feedback_html(report)
    assert "<script" not in html and "&lt;script&gt;alert(&#x27;owned&#x27;)&lt;/script&gt; &amp; more" in html
    assert "<i>sneaky" not in html and "&lt;i&gt;sneaky.py" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "SECRET-INPUT" not in html and "31337" not in html
    assert "a &lt;i&gt;hint&lt;/i&gt; for the mistake" in html
    assert_self_contained(html, 0)  # no plot data: no plots section


# --- plot data --------------------------------------------------------------------------------


def test_plot_data_of_the_reference_matches_its_oracles(graded):
    data = graded["reference"][1]
    json.dumps(data, allow_nan=False)
    assert data["train"]["error"] is None
    assert data["train"]["student"] == pytest.approx(data["train"]["reference"], rel=1e-9)
    for entry in data["schedules"].values():
        assert entry["error"] is None and entry["student"] == pytest.approx(entry["closed_form"], rel=1e-9)
    momentum = data["momentum"]
    assert momentum["momentum"] == pytest.approx(momentum["oracle_momentum"], rel=1e-9)
    assert momentum["sgd"] == pytest.approx(momentum["oracle_sgd"], rel=1e-9)
    assert momentum["momentum"][-1] < momentum["sgd"][-1] / 10  # momentum wins on the narrow valley


GARBAGE = """
import math, torch
def train(X, y, **kw):
    return "nope"
def momentum_step(params, grads, velocities, lr, beta, nesterov=False):
    return [torch.tensor([float("nan"), 1.0])], velocities
def sgd_step(params, grads, lr):
    return [[1, 2]] * 5
def exponential_decay(lr0, gamma, t):
    return object()
def step_decay(lr0, gamma, size, t):
    raise ValueError("<b>boom</b>")
def linear_decay(lr0, end, total, t):
    return float("inf") if t % 2 else [t]
def cosine_decay(lr0, lr_min, total, t):
    raise NotImplementedError
"""


def test_equal_curves_share_one_drawing_and_different_ones_do_not(graded):
    """A figure is drawn from its data at 4 significant digits, once per distinct rounding."""
    _, data = graded["reference"]
    nudged = copy.deepcopy(data)
    nudged["train"]["student"] = [v * (1 + 1e-9) for v in data["train"]["student"]]  # another correct style
    plots._drawn.cache_clear()
    first = plots.figures(data)
    assert plots.figures(nudged) == first
    assert plots._drawn.cache_info().hits == 3 and plots._drawn.cache_info().misses == 3
    off = copy.deepcopy(data)
    off["train"]["student"] = [v * 1.01 for v in data["train"]["student"]]  # a 1 % difference shows
    changed = plots.figures(off)
    assert changed["train"] != first["train"] and changed["schedules"] == first["schedules"]


def test_collect_survives_garbage_and_is_cheap():
    submission = InProcessSubmission(load_module(GARBAGE, "garbage.py"))
    plots.collect(submission)  # warm up the imports
    start = time.perf_counter()
    data = plots.collect(submission)
    assert time.perf_counter() - start < 1.0
    json.dumps(data, allow_nan=False)
    assert data["train"]["student"] is None and "not (w, b, history)" in data["train"]["error"]
    assert data["momentum"]["momentum"] is None and "not finite" in data["momentum"]["momentum_error"]
    assert data["momentum"]["sgd"] is None and data["momentum"]["sgd_error"]
    schedules = data["schedules"]
    assert schedules["step_decay"]["error"].startswith("ValueError")
    assert schedules["cosine_decay"]["error"] == "not implemented yet"
    assert schedules["exponential_decay"]["student"] is None
    images, notes = plots.render(data)
    assert set(images) == {"train", "schedules", "momentum"} and {"train", "momentum"} <= set(notes)
    images, notes = plots.render(None)
    assert images == {} and set(notes) == {"train", "schedules", "momentum"}


# --- the class report -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fake_class(graded):
    good, bad = (results(graded[k][0]) for k in ("reference", "buggy"))
    rows = [{"student": f"ok{i}", "results": good} for i in range(3)]
    rows += [{"student": f"bug{i}", "results": bad} for i in range(4)]
    rows.append({"student": "<img src=x onerror=alert(1)>", "results": bad})
    crashed = {"score": 0.0, "output": "Grading crashed: <worker died>", "tests": []}
    crashed["extra_data"] = {"max_score": 80, "status": "crashed"}  # the status is read from here, not from the text
    rows.append({"student": "zed", "results": crashed})
    rows.append(StudentSummary("half", 40.0, 80.0, {"mse": (0.0, 7.0)}, ["train: no_momentum"]))
    return rows


def test_class_report_counts_diagnoses_and_lists_errors(fake_class, tmp_path):
    counts = {key: n for key, n, _ in diagnosis_counts(fake_class)}
    assert counts["mse: rmse"] == 5 and counts["gradient: missing_factor_2"] == 5 and counts["train: no_momentum"] == 1
    path = write_class_report(fake_class, tmp_path)
    html = path.read_text()
    assert_self_contained(html, 2)
    assert escape(catalogue()["rmse"]["mse"]) in html and "56%" in html  # 5 of 9 graded
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "&lt;worker died&gt;" in html
    console = Console(record=True, width=140)
    terminal_summary(fake_class, console)
    text = console.export_text()
    assert "gradient" in text and "mse: rmse" in text and "zed: crashed" in text


def test_empty_class_report():
    assert_self_contained(class_report_html([]), 0)


# --- a real browser ---------------------------------------------------------------------------

PROBE = """<script>
window.addEventListener("load", () => {
  const images = Array.from(document.images);
  const body = document.body;
  body.dataset.images = images.length;
  body.dataset.broken = images.filter((i) => !(i.complete && i.naturalWidth > 0)).length;
  body.dataset.fetched = performance.getEntriesByType("resource").length;
  body.dataset.height = document.documentElement.scrollHeight;
  body.dataset.probed = "yes";
});
</script></body>"""


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={profile}",
    ]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=60, check=False)


def render_in_browser(page: Path, tmp_path: Path) -> tuple[dict[str, str], Path]:
    """(what the probe found, a screenshot) for `page` opened in headless chromium."""
    probed = tmp_path / f"probed-{page.name}"
    probed.write_text(page.read_text().replace("</body>", PROBE))
    dom = chromium("--virtual-time-budget=5000", "--dump-dom", probed.as_uri(), profile=tmp_path / "profile")
    match = re.search(r"<body([^>]*)>", dom.stdout)
    assert match, dom.stderr[-2000:]
    found = dict(re.findall(r'data-(\w+)="([^"]*)"', match.group(1)))
    shot = tmp_path / f"{page.stem}.png"
    chromium(f"--screenshot={shot}", "--window-size=1200,3000", page.as_uri(), profile=tmp_path / "profile")
    return found, shot


@needs_chromium
def test_feedback_renders_in_chromium_without_broken_images(pages, tmp_path):
    for page in pages.values():
        found, shot = render_in_browser(page, tmp_path)
        assert found.get("probed") == "yes"
        assert found["images"] == "3" and found["broken"] == "0" and found["fetched"] == "0"
        assert int(found["height"]) > 2000
        assert shot.read_bytes().startswith(PNG) and shot.stat().st_size > 50_000


@needs_chromium
def test_class_report_renders_in_chromium(fake_class, tmp_path):
    page = write_class_report(fake_class, tmp_path / "out")
    found, shot = render_in_browser(page, tmp_path)
    assert found.get("probed") == "yes" and found["images"] == "2" and found["broken"] == "0"
    assert found["fetched"] == "0"
    assert shot.read_bytes().startswith(PNG)
