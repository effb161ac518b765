"""Gradescope's results.json (https://gradescope-autograders.readthedocs.io/en/latest/specs/); its
extra_data records the submission's `grader.verdict` status, and in `policy` what the rules found
(`checks.rules.finding`: {step, function, api, line, evidence})."""

from __future__ import annotations

import json
from pathlib import Path

from grader.files import write_atomically
from grader.frontends.grade import Graded, Report, environment
from grader.verdict import submission_status, with_status

VISIBILITY = {"public": "visible", "hidden": "after_published"}


def test_output(graded: Graded) -> str:
    """The feedback a student sees for one check; hidden checks never show their inputs."""
    outcome = graded.outcome
    if outcome.passed:
        return outcome.message  # empty, but for a rule that could not verify something
    if graded.entry.hidden:
        return "This hidden check failed." + (f"\n{outcome.hint}" if outcome.hint else "")
    return outcome.feedback


def results(report: Report) -> dict:
    """The results.json document, with the submission's status; identical for identical inputs, apart
    from execution_time."""
    output = f"Could not load your submission: {report.load_error}" if report.load_error else ""
    document = {
        "score": round(report.score, 4),
        "execution_time": round(report.seconds, 3),
        "output": output,
        "tests": [
            {
                "name": f"{g.check.step}: {g.check.title}",
                "score": round(g.score, 4),
                "max_score": round(g.entry.points, 4),
                "status": "passed" if g.outcome.passed else "failed",
                "output": test_output(g),
                "visibility": VISIBILITY[g.entry.visibility],
                "tags": [g.check.step],
            }
            for g in report.graded
        ],
        "extra_data": {
            **environment(report.device, report.seed, report.layers),
            "submission": report.submission,
            "max_score": round(report.max_score, 4),
            "diagnoses": sorted({g.outcome.diagnosis for g in report.graded if g.outcome.diagnosis}),
            "policy": [finding for g in report.graded for finding in g.outcome.findings],
            "submission_output": report.output,
        },
    }
    return with_status(document, submission_status(report))


def write_results(report: Report, path: str | Path) -> None:
    write_atomically(Path(path), json.dumps(results(report), indent=2, ensure_ascii=True) + "\n")
