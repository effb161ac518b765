"""The rules (grader/checks/rules.py) on a corpus of their own: each default rule fires on many ways
of writing the same call, at its own step only; evasions are "could not verify" and cost nothing;
code that only mentions the APIs, or uses look-alike names, passes.

Each case holds only the functions it replaces (and the imports and helpers they use), put on top of
the reference as the bug corpus is. `# <-` marks the line the finding must name."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from conftest import CORPUS

from grader import reference
from grader.checks.model import checks_for
from grader.checks.rules import RULES, STATIC, UNVERIFIED, judge
from grader.cli import EXAMPLES
from grader.rubric import RubricError, load_rubric
from grader.submission import read_source

RULE_CHECKS = {c.id: c for c in checks_for() if c.rule is not None}
GRAD = "def mse_grad(X, y, w, b):\n"
LEAVES = "    w, b = w.detach().requires_grad_(), b.detach().requires_grad_()\n    loss = mse(predict(X, w, b), y)\n"

FIRES: dict[str, list[str]] = {
    "gradient.by_hand": [
        GRAD + LEAVES + "    return torch.autograd.grad(loss, (w, b))  # <-\n",
        "from torch import autograd as ag\n\n" + GRAD + LEAVES + "    return ag.grad(loss, (w, b))  # <-\n",
        "import torch.autograd.functional as F\n\n"
        + GRAD
        + "    jw = F.jacobian(lambda w_: mse(predict(X, w_, b), y), w)  # <-\n    return jw, b\n",
        "g = torch.autograd.grad\n\n" + GRAD + LEAVES + "    return g(loss, (w, b))  # <-\n",
        "def _helper(loss):\n    loss.backward()  # <-\n\n\n"
        + GRAD
        + LEAVES
        + "    _helper(loss)\n    return w.grad, b.grad\n",
        GRAD + "    f = lambda w_: mse(predict(X, w_, b), y)\n    return torch.func.grad(f)(w), b  # <-\n",
        "from functorch import jacrev\n\n"
        + GRAD
        + "    return jacrev(lambda w_: mse(predict(X, w_, b), y))(w), b  # <-\n",
        GRAD
        + LEAVES
        + "    def inner():\n        torch.autograd.backward(loss)  # <-\n    inner()\n    return w.grad, b.grad\n",
        GRAD + LEAVES + '    return getattr(torch.autograd, "grad")(loss, (w, b))  # <-\n',
        "g1, g2 = torch.autograd.grad, None\n\n" + GRAD + LEAVES + "    return g1(loss, (w, b))  # <-\n",
        GRAD + LEAVES + "    type(loss).backward(loss)  # <-\n    return w.grad, b.grad\n",
        "def _auto(X, y, w, b):\n    return torch.func.vjp(lambda w_: predict(X, w_, b), w)  # <-\n\n\n"
        "mse_grad = lambda X, y, w, b: _auto(X, y, w, b)\n",
        GRAD
        + LEAVES
        + "    import torch.func as tf\n    return tf.jacfwd(lambda w_: mse(predict(X, w_, b), y))(w), b  # <-\n",
        GRAD + LEAVES + "    return loss.grad_fn(torch.ones(()))  # <-\n",
    ],
    "mse.no_mse_loss": [
        "def mse(preds, targets):\n    return torch.nn.functional.mse_loss(preds, targets)  # <-\n",
        "import torch.nn.functional as F\n\n\ndef mse(preds, targets):\n    return F.mse_loss(preds, targets)  # <-\n",
        "from torch.nn import MSELoss\n\n\ndef mse(preds, targets):\n    return MSELoss()(preds, targets)  # <-\n",
        "from torch import nn\n\n\ndef _loss():\n    return nn.MSELoss(reduction='mean')  # <-\n\n\n"
        "def mse(preds, targets):\n    return _loss()(preds, targets)\n",
    ],
    "step.no_torch_optim": [
        "def sgd_step(params, grads, lr):\n    torch.optim.SGD([], lr=lr)  # <-\n    return params\n",
        "from torch.optim import SGD as Opt\n\n\ndef sgd_step(params, grads, lr):\n    Opt  # <-\n    return params\n",
        "def _run(params, lr):\n    import torch.optim as optim\n    return optim.SGD(params, lr=lr)  # <-\n\n\n"
        "def sgd_step(params, grads, lr):\n    _run(params, lr)\n    return params\n",
    ],
    "momentum.no_torch_optim": [
        "def momentum_step(params, grads, velocities, lr, beta, *, nesterov=False):\n"
        "    torch.optim.SGD(params, lr=lr, momentum=beta)  # <-\n    return params, velocities\n",
        "_opt = torch.optim.SGD\n\n\ndef momentum_step(params, grads, velocities, lr, beta, *, nesterov=False):\n"
        "    _opt(params, lr=lr)  # <-\n    return params, velocities\n",
        "from torch import optim\n\n\ndef momentum_step(params, grads, velocities, lr, beta, *, nesterov=False):\n"
        "    def make():\n        return optim.SGD(params, lr=lr)  # <-\n    make()\n    return params, velocities\n",
    ],
    "schedule.no_lr_scheduler": [
        "def exponential_decay(lr0, gamma, t):\n    torch.optim.lr_scheduler.ExponentialLR  # <-\n"
        "    return lr0 * gamma**t\n",
        "from torch.optim.lr_scheduler import StepLR\n\n\ndef step_decay(lr0, gamma, step_size, t):\n"
        "    StepLR  # <-\n    return lr0 * gamma ** (t // step_size)\n",
        "import torch.optim.lr_scheduler as sched\n\n\ndef _scheduled(lr0, t):\n"
        "    return sched.CosineAnnealingLR  # <-\n\n\ndef cosine_decay(lr0, lr_min, total, t):\n"
        "    _scheduled(lr0, t)\n    return lr_min\n",
    ],
}

EVASIONS = [
    GRAD + LEAVES + '    return getattr(torch, "auto" + "grad").grad(loss, (w, b))  # <-\n',
    GRAD + '    exec("import torch")  # <-\n    return w, b\n',
    GRAD + LEAVES + '    return eval("torch.autograd").grad(loss, (w, b))  # <-\n',
    GRAD + LEAVES + '    return __import__("torch.autograd").autograd.grad(loss, (w, b))  # <-\n',
    "import importlib\n\n" + GRAD + LEAVES + '    ag = importlib.import_module("torch.autograd")  # <-\n'
    "    return ag.grad(loss, (w, b))\n",
    GRAD + LEAVES + '    return globals()["torch"].autograd.grad(loss, (w, b))  # <-\n',
    GRAD + LEAVES + '    return vars(torch)["autograd"].grad(loss, (w, b))  # <-\n',
    "import sys\n\n" + GRAD + LEAVES + '    return sys.modules["torch.autograd"].grad(loss, (w, b))  # <-\n',
    "from torch.autograd import *\n\n" + GRAD + LEAVES + "    return grad(loss, (w, b))  # <-\n",
    GRAD + LEAVES + '    return torch.__dict__["autograd"].grad(loss, (w, b))  # <-\n',
    "import operator\n\n"
    + GRAD
    + LEAVES
    + '    return operator.attrgetter("autograd.grad")(torch)(loss, (w, b))  # <-\n',
    "import builtins\n\nNAME = 'autograd'\n\n\n"
    + GRAD
    + LEAVES
    + "    return builtins.getattr(torch, NAME).grad(loss, (w, b))  # <-\n",
    "_ag = __import__('torch').autograd  # <-\n\n\n" + GRAD + LEAVES + "    return _ag.grad(loss, (w, b))\n",
]

CLEAN = [
    GRAD + '    """torch.autograd.grad(loss, (w, b)) would do it; loss.backward() too."""\n'
    "    # torch.func.grad(f)(w)\n"
    '    text = "torch.autograd.grad"\n'
    "    residuals = X @ w + b - y\n    return 2.0 / X.shape[0] * (X.T @ residuals), 2.0 * residuals.mean()\n",
    GRAD + "    grad = X.T @ (X @ w + b - y) * (2.0 / X.shape[0])\n    backward = 2.0 * (X @ w + b - y).mean()\n"
    "    return grad, backward\n",
    "def autograd(X, r):\n    return 2.0 / X.shape[0] * (X.T @ r)\n\n\n"
    + GRAD
    + "    r = X @ w + b - y\n    return autograd(X, r), 2.0 * r.mean()\n",
    GRAD
    + "    with torch.no_grad():\n        r = X @ w + b - y\n    return 2.0 / X.shape[0] * (X.T @ r), 2.0 * r.mean()\n",
    "g = torch.autograd.grad\ng = None\n\n\n"
    + GRAD
    + "    r = X @ w + b - y\n    return 2.0 / X.shape[0] * (X.T @ r), 2.0 * r.mean()\n",
    "def sgd_step(params, grads, lr):\n    optim = [p - lr * g for p, g in zip(params, grads)]\n    return optim\n",
    'def mse(preds, targets):\n    """Not F.mse_loss."""\n'
    "    mse_loss = ((preds - targets) ** 2).mean()\n    return mse_loss\n",
]
"""Correct code that only mentions the APIs, or uses names that look like them."""

OTHER_STEPS = [
    ("train", "def train(X, y, **kw):\n    torch.autograd.grad  # <-\n    torch.optim.SGD\n    return None\n"),
    ("mse", "def mse(preds, targets):\n    torch.autograd.grad  # <-\n    return ((preds - targets) ** 2).mean()\n"),
    (
        "step",
        "def sgd_step(params, grads, lr):\n    torch.optim.SGD  # <-\n"
        "    return [p - lr * g for p, g in zip(params, grads)]\n"
        "\n\ndef momentum_step(params, grads, velocities, lr, beta, *, nesterov=False):\n"
        "    return sgd_step(params, grads, lr), velocities\n",
    ),
]
"""An API used at one step (the first), fired by no other step's rule, not even through a call."""


def _full(snippet: str) -> tuple[str, int]:
    """The whole submission, and the line `# <-` marks in it."""
    source = reference.source_with(textwrap.dedent(snippet))
    marked = [i for i, line in enumerate(source.splitlines(), 1) if line.endswith("# <-")]
    return source, marked[0] if marked else 0


def _verdicts(source: str) -> dict:
    return {rule_id: judge(check, source) for rule_id, check in RULE_CHECKS.items()}


CASES = [pytest.param(rule, s, id=f"{rule}-{i}") for rule, snippets in FIRES.items() for i, s in enumerate(snippets)]


@pytest.mark.parametrize(("rule", "snippet"), CASES)
def test_a_rule_fires_on_each_way_of_writing_its_call_at_its_own_step_only(rule, snippet):
    source, line = _full(snippet)
    verdicts = _verdicts(source)
    assert [r for r, o in verdicts.items() if not o.passed] == [rule], {r: o.message for r, o in verdicts.items()}
    outcome = verdicts[rule]
    static = [f for f in outcome.findings if f["evidence"] == STATIC]
    assert static and static[0]["line"] == line and static[0]["step"] == RULE_CHECKS[rule].step, outcome.findings
    assert f"(line {line}" in outcome.message and RULE_CHECKS[rule].rule.advice in outcome.message
    assert outcome.diagnosis == RULE_CHECKS[rule].rule.name


def test_every_default_rule_has_three_ways_at_least():
    assert {rule.id for rule in RULES} == set(FIRES) and all(len(snippets) >= 3 for snippets in FIRES.values())


EVASION_IDS = (
    "getattr exec eval __import__ importlib globals vars sys.modules star __dict__ attrgetter builtins module".split()
)


@pytest.mark.parametrize("snippet", EVASIONS, ids=EVASION_IDS)
def test_an_evasion_is_could_not_verify_with_its_line_and_costs_nothing(snippet):
    source, line = _full(snippet)
    verdicts = _verdicts(source)
    outcome = verdicts["gradient.by_hand"]
    assert all(o.passed for o in verdicts.values()), outcome.message
    unverified = [f for f in outcome.findings if f["evidence"] == UNVERIFIED]
    assert [f["line"] for f in unverified] == [line] and unverified[0]["function"] == "mse_grad", outcome.findings
    assert outcome.message.startswith("could not verify mse_grad") and f"line {line}" in outcome.message


@pytest.mark.parametrize("snippet", CLEAN, ids=[f"clean-{i}" for i in range(len(CLEAN))])
def test_code_that_only_mentions_the_apis_passes_every_rule(snippet):
    verdicts = _verdicts(_full(snippet)[0])
    assert all(o.passed and not o.findings and not o.message for o in verdicts.values()), verdicts


@pytest.mark.parametrize(("step", "snippet"), OTHER_STEPS, ids=[s for s, _ in OTHER_STEPS])
def test_an_api_is_judged_at_the_step_that_uses_it_only(step, snippet):
    source, line = _full(snippet)
    fired = {r: o for r, o in _verdicts(source).items() if not o.passed}
    assert all(o.findings[0]["line"] == line for o in fired.values())
    assert {RULE_CHECKS[r].step for r in fired} <= {step}


def test_the_reference_and_the_buggy_example_break_no_rule():
    buggy = reference.source_with(read_source(EXAMPLES / "buggy_sgd.py")[0])
    for source in (reference.SOLUTION.read_text(), buggy):
        verdicts = _verdicts(source)
        assert all(o.passed and not o.findings and not o.message for o in verdicts.values())


def test_a_stub_is_not_started_and_a_broken_source_fails_every_rule(root):
    stubs = _verdicts((root / "exercises" / "sgd.py").read_text())
    assert all(o.not_implemented and not o.passed for o in stubs.values())
    broken = _verdicts("def mse(:\n")
    assert all(not o.passed and "cannot be judged" in o.message for o in broken.values())
    missing = judge(RULE_CHECKS["gradient.by_hand"], "import torch\n")
    assert not missing.passed and "no function named mse_grad" in missing.message


def test_rubric_overrides_a_rules_points_and_refuses_an_unknown_rule(tmp_path):
    path = tmp_path / "rubric.toml"
    path.write_text('"gradient.by_hand" = { points = 0 }\n"step.no_torch_optim" = { points = 1 }\n')
    rubric = load_rubric(path)
    assert rubric["gradient.by_hand"].points == 0 and rubric["step.no_torch_optim"].points == 1
    assert load_rubric()["gradient.by_hand"].points == 2 and load_rubric()["mse.no_mse_loss"].points == 0
    path.write_text('"gradient.no_such_rule" = { points = 1 }\n')
    with pytest.raises(RubricError, match="unknown checks"):
        load_rubric(path)


def _report(source: str, rubric_path=None):
    """A Report of the rules alone (the other checks need a worker; test_classroom grades them all)."""
    from grader.frontends.grade import Graded, Report

    rubric = load_rubric(rubric_path)
    graded = [Graded(c, rubric[c.id], judge(c, source)) for c in RULE_CHECKS.values()]
    return Report("sgd.py", graded, seed=0, device="cpu", layers=[])


def _corpus(name: str) -> str:
    return (CORPUS / "correct" / f"{name}.py").read_text()


AUTOGRAD_LINE = next(i for i, line in enumerate(_corpus("autograd_grad").splitlines(), 1) if "autograd.grad(" in line)
CALLED = f"mse_grad calls torch.autograd.grad (line {AUTOGRAD_LINE}): derive the gradient by hand; see the docstring"


def test_results_json_has_a_test_per_rule_and_the_policy_list():
    from grader.reporters.gradescope import results

    document = results(_report(_corpus("autograd_grad")))
    tests = {t["name"]: t for t in document["tests"]}
    by_hand = tests["gradient: " + RULE_CHECKS["gradient.by_hand"].title]
    assert by_hand["tags"] == ["gradient"] and by_hand["max_score"] == 2 and by_hand["score"] == 0
    assert by_hand["status"] == "failed"
    assert CALLED in by_hand["output"]
    assert document["extra_data"]["policy"] == [
        {
            "step": "gradient",
            "function": "mse_grad",
            "api": "torch.autograd.grad",
            "line": AUTOGRAD_LINE,
            "evidence": "static",
            "rule": "gradient.by_hand",
        }
    ]
    assert {t["tags"][0] for t in document["tests"]} == {rule.step for rule in RULES}


def test_a_flag_only_rule_never_changes_a_score(tmp_path):
    flagged = _report(_corpus("torch_optim"))
    assert flagged.score == flagged.max_score == 2
    assert [g.check.id for g in flagged.graded if not g.outcome.passed] == [
        "mse.no_mse_loss",
        "step.no_torch_optim",
        "momentum.no_torch_optim",
    ]
    path = tmp_path / "rubric.toml"
    path.write_text('"gradient.by_hand" = { points = 0 }\n')
    assert _report(_corpus("autograd_grad"), path).score == 0 == _report(_corpus("autograd_grad"), path).max_score
    assert _report(_corpus("autograd_grad")).score == 0 < _report(_corpus("autograd_grad")).max_score


def test_the_feedback_page_and_the_console_say_what_was_called_where():
    from grader.reporters.console import step_rows
    from grader.reporters.html import feedback_html

    report = _report(_corpus("autograd_grad"))
    line = CALLED
    assert line in feedback_html(report)
    assert ("gradient", 0, 2, "failing", line) in step_rows(report)
    unverified = _report(_full(EVASIONS[0])[0])
    assert "could not verify mse_grad: getattr with a computed name" in feedback_html(unverified)


def test_the_class_report_counts_each_rule_and_lists_what_it_could_not_verify():
    from grader.reporters.class_report import class_report_html, rule_counts, summary_from_results, unverified
    from grader.reporters.gradescope import results

    rows = [
        summary_from_results("ada", results(_report(_corpus("autograd_grad")))),
        summary_from_results("bob", results(_report(_corpus("torch_optim")))),
        summary_from_results("cy", results(_report(_full(EVASIONS[7])[0]))),
    ]
    counts = dict(rule_counts(rows))
    assert (
        counts["gradient.by_hand"] == 1
        and counts["step.no_torch_optim"] == 1
        and counts["schedule.no_lr_scheduler"] == 0
    )
    assert "gradient: by_hand" in rows[0].diagnoses and "step: no_torch_optim" in rows[1].diagnoses
    assert [(student, f["api"]) for student, f in unverified(rows)] == [("cy", "sys.modules")]
    page = class_report_html(rows)
    assert "Could not verify" in page and "sys.modules" in page and "gradient.by_hand" in page


def test_the_self_check_tells_the_student_before_they_submit(root, tmp_path):
    submission = tmp_path / "sgd.py"
    submission.write_text(_corpus("autograd_grad"))
    command = [sys.executable, "-m", "pytest", "exercises", "-q", "-p", "no:cacheprovider", "-m", "gradient"]
    done = subprocess.run(
        [*command, "--submission", str(submission)], cwd=root, capture_output=True, text=True, timeout=300
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert CALLED in output
    assert "1 failed" in output


def test_a_notebook_cell_judges_the_cells_the_kernel_ran():
    from grader.frontends.notebook_checks import check_step

    namespace: dict = {}
    exec(compile(_corpus("autograd_grad"), "cell", "exec"), namespace)  # noqa: S102 - the corpus' own code
    namespace["In"] = ["", _corpus("autograd_grad")]  # IPython's input history: what the kernel ran
    check_step("gradient", namespace)  # the gradient is right: its checks' cell passes
    with pytest.raises(AssertionError, match=r"by_hand: mse_grad calls torch.autograd.grad \(line"):
        check_step("gradient", namespace, rules=True)  # the rule costs its own cell, and only that


def test_a_rule_worth_no_points_is_flagged_in_its_cell_never_raised(capsys):
    """A correct style that breaks a rule worth 0 points (flag only) keeps every point in a notebook."""
    from grader.frontends.notebook_checks import check_step

    source = _corpus("torch_optim")
    namespace: dict = {"In": ["", source]}
    exec(compile(source, "cell", "exec"), namespace)  # noqa: S102 - the corpus' own code
    check_step("step", namespace)
    check_step("step", namespace, rules=True)
    printed = capsys.readouterr().out
    assert "step.no_torch_optim (flag only, no points lost):" in printed and "0 of 1 rules kept" in printed


def test_a_source_built_to_be_slow_to_read_is_read_once_or_not_at_all(monkeypatch):
    """Aliases that double at each level are read once per name; past `MAX_STEPS` nothing is read and
    the rule could not verify (free); a source Python itself cannot parse fails every rule."""
    from grader import evidence

    doubling = "".join(f"    a{i} = a{i - 1}\n    a{i} = a{i - 1}\n" for i in range(1, 60))
    fired = judge(
        RULE_CHECKS["gradient.by_hand"],
        _full(GRAD + "    a0 = torch\n" + doubling + "    a59.autograd.grad  # <-\n")[0],
    )
    assert not fired.passed and "torch.autograd.grad" in fired.message
    monkeypatch.setattr(evidence, "MAX_STEPS", 200)
    long = judge(RULE_CHECKS["gradient.by_hand"], _full(GRAD + "    x = 1\n" * 300 + "    return w, b\n")[0])
    assert long.passed and long.findings[0]["evidence"] == UNVERIFIED and "too long to read" in long.message
    deep = judge(RULE_CHECKS["gradient.by_hand"], _full(GRAD + "    return torch" + ".x" * 20000 + "\n")[0])
    assert not deep.passed and "cannot be judged" in deep.message


EVADED = """
def mse_grad(X, y, w, b):
    import torch as t

    leaves = [w.detach().clone().requires_grad_(), b.detach().clone().requires_grad_()]
    loss = ((X @ leaves[0] + leaves[1] - y) ** 2).mean()
    hidden = getattr(t.autograd, "".join(["gr", "ad"]))
    return tuple(g.detach() for g in hidden(loss, leaves))
"""


def test_the_worker_reports_what_a_watched_call_used_as_supporting_evidence_only():
    """A call the static reading cannot resolve still shows, by the worker's account, what it used
    (dynamic evidence, forgeable by code in the worker): recorded, never costing a point."""
    from grader.frontends.grade import grade_source, open_sandbox

    with open_sandbox() as sandbox:
        report = grade_source(reference.source_with(EVADED), "sgd.py", sandbox)
    by_hand = next(g for g in report.graded if g.check.id == "gradient.by_hand")
    evidence = {(f["evidence"], f["api"]) for f in by_hand.outcome.findings}
    assert ("dynamic", "torch.autograd.grad") in evidence
    assert by_hand.outcome.passed and report.score == report.max_score


def test_a_result_claiming_too_many_apis_is_refused():
    from grader.sandbox import wire
    from grader.sandbox.protocol import MAX_APIS, Result

    forged = wire.encode([Result(value=1.0, apis=tuple(f"torch.f{i}" for i in range(MAX_APIS + 1)))])
    with pytest.raises(wire.WireError, match="apis"):
        wire.decode(forged)
