"""Rules an instructor sets, as data: the APIs a step's functions must not use, so that each step
is done by hand.

Each rule is a check of its step (`gradient.by_hand`, …), registered here: `python -m grader rubric`
lists it, rubric.toml overrides its points (0: flag only), and results.json, the feedback page, the
class report and the self-check show it as any other check. It is judged from the source alone
(`grader.evidence`, on the trusted side): it fails when the step's functions, or the functions of
the submission they reach, use one of its APIs. A construct that hides what it uses (getattr with
a computed name, exec, …) is reported as "could not verify" for the instructor, and costs nothing.
The stubs' docstrings state each rule (`rule_text`), so students know it before they start.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass

from grader.checks.model import REGISTRY, Check, Outcome, diagnoses
from grader.contract import FUNCTION_STEP, functions_of
from grader.evidence import Module, TooComplex, Use, under

STATIC, UNVERIFIED, DYNAMIC = "static", "could not verify", "dynamic"
"""A finding's evidence: read from the source, a construct whose meaning the source does not give, or
what the worker says a call used (supporting only: code in the worker can forge it; it costs nothing)."""
TRANSFORMS = ("grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "linearize")


@dataclass(frozen=True)
class Rule:
    """`step`'s functions must not use `apis` (dotted names: each also covers what lies under it)."""

    step: str
    name: str
    apis: tuple[str, ...]
    points: float
    banned: str
    """The APIs as students are told them."""
    advice: str

    @property
    def id(self) -> str:
        return f"{self.step}.{self.name}"


RULES: tuple[Rule, ...] = (
    Rule(
        "mse",
        "no_mse_loss",
        ("torch.nn.functional.mse_loss", "torch.nn.MSELoss", "torch.nn.modules.loss.MSELoss", "torch._C._nn.mse_loss"),
        0,
        "torch.nn.functional.mse_loss or nn.MSELoss",
        "write the mean of the squared errors yourself",
    ),
    Rule(
        "gradient",
        "by_hand",
        (
            "torch.autograd.grad",
            "torch.autograd.backward",
            "torch.autograd.functional",
            "torch.autograd.forward_ad",
            "torch.Tensor.backward",
            "torch.Tensor.grad_fn",
            *(f"{module}.{t}" for module in ("torch.func", "functorch") for t in TRANSFORMS),
        ),
        2,
        "torch.autograd (grad, backward, functional), Tensor.backward or the torch.func / functorch transforms",
        "derive the gradient by hand; see the docstring",
    ),
    Rule("step", "no_torch_optim", ("torch.optim",), 0, "torch.optim", "write the update p − lr·g yourself"),
    Rule(
        "momentum", "no_torch_optim", ("torch.optim",), 0, "torch.optim", "write the velocity and the update yourself"
    ),
    Rule(
        "schedule",
        "no_lr_scheduler",
        ("torch.optim.lr_scheduler",),
        0,
        "torch.optim.lr_scheduler",
        "compute the learning rate from t yourself",
    ),
)


def rule_text(rule: Rule, points: float) -> str:
    """The rule as a stub's docstring states it."""
    cost = f"costs {points:g} point{'s' * (points != 1)}" if points else "is flagged (0 points)"
    return f"Rule `{rule.id}`: using {rule.banned} here, or in a function this one calls, {cost}: {rule.advice}."


@functools.lru_cache(maxsize=8)
def _module(source: str) -> Module | str:
    try:
        return Module(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        return f"the source could not be read ({type(exc).__name__})"


def _is_stub(module: Module, name: str) -> bool:
    """Whether `name` is a top-level def whose body only raises NotImplementedError."""
    bound = module.lookup(name, module.module)
    node = bound[-1][0] if bound else None
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    body = node.body[1:] if ast.get_docstring(node) is not None else node.body
    raised = body[0].exc if len(body) == 1 and isinstance(body[0], ast.Raise) else None
    raised = raised.func if isinstance(raised, ast.Call) else raised
    return isinstance(raised, ast.Name) and raised.id == "NotImplementedError"


def finding(rule: Rule, use: Use) -> dict:
    """One entry of results.json's extra_data.policy (`rule`: the check id whose evidence it is)."""
    evidence = STATIC if use.verified else UNVERIFIED
    return {
        "step": rule.step,
        "function": use.function,
        "api": use.api,
        "line": use.line,
        "evidence": evidence,
        "rule": rule.id,
    }


def _line(rule: Rule, use: Use) -> str:
    where = f", in {use.where}" if use.where != use.function else ""
    at = f" (line {use.line}{where})" if use.line else ""
    if use.verified:
        return f"{use.function} calls {use.api}{at}: {rule.advice}"
    return f"could not verify {use.function}: {use.api}{at} hides what it calls"


def _refusal(rule: Rule, source: str | None, import_error: str | None) -> Outcome | None:
    """The outcome when there is nothing to judge (no source, or the step is not written yet); else None."""
    check = CHECK_OF[rule.id]
    if import_error:
        return Outcome(check, passed=False, message=f"The submission could not be loaded: {import_error}")
    if source is None:  # a notebook's in-kernel check outside IPython: honest work, as that mode assumes
        return Outcome(check, passed=True, message=f"could not verify {rule.id}: there is no source to read here")
    module = _module(source)
    if isinstance(module, str):
        return Outcome(check, passed=False, message=f"The rule cannot be judged: {module}.")
    names = functions_of(rule.step)
    missing = [name for name in names if not module.lookup(name, module.module)]
    if missing:
        return Outcome(check, passed=False, message=f"There is no function named {', '.join(missing)}.")
    if all(_is_stub(module, name) for name in names):
        message = f"{', '.join(names)} {'is' if len(names) == 1 else 'are'} not implemented yet."
        return Outcome(check, passed=False, message=message, not_implemented=True)
    return None


def judge(check: Check, source: str | None, import_error: str | None = None) -> Outcome:
    """A rule's verdict on a submission's source: failed on static evidence only. `import_error`: why
    the submission would not load, if it would not."""
    rule = check.rule
    refused = _refusal(rule, source, import_error)
    if refused is not None:
        return refused
    module = _module(source)
    stop = frozenset(name for name, step in FUNCTION_STEP.items() if step != rule.step)
    try:
        uses = module.uses(functions_of(rule.step), stop)
    except (TooComplex, RecursionError, MemoryError) as exc:  # built to be unreadable: for the instructor
        reason = f"code too deeply nested or too long to read ({type(exc).__name__})"
        uses = [Use(name, reason, 0, name, verified=False) for name in functions_of(rule.step)[:1]]
    broken = [use for use in uses if use.verified and under(use.api, rule.apis)]
    unverified = [use for use in uses if not use.verified]
    found = broken + unverified
    outcome = Outcome(check, passed=not broken, findings=[finding(rule, use) for use in found])
    outcome.message = "\n".join(_line(rule, use) for use in found)
    outcome.diagnosis = rule.name if broken else None
    return outcome


def add_dynamic(outcomes: list[Outcome]) -> None:
    """Add to each rule's outcome, as DYNAMIC findings, the banned torch functions that its step's
    watched calls used by the worker's account (`Outcome.apis`). The verdict does not change."""
    for outcome in outcomes:
        rule = outcome.check.rule
        if rule is None:
            continue
        seen = {pair for o in outcomes if o.check.step == rule.step for pair in o.apis}
        outcome.findings += [
            {"step": rule.step, "function": fn, "api": api, "line": None, "evidence": DYNAMIC, "rule": rule.id}
            for fn, api in sorted(seen)
            if under(api, rule.apis)
        ]


def _not_run(example: object) -> None:
    raise AssertionError("a rule is judged from the source (checks.rules.judge), never run")


def _register(rule: Rule) -> Check:
    check = Check(
        step=rule.step,
        name=rule.name,
        title=f"done by hand: no {rule.banned}",
        body=_not_run,
        examples=None,
        max_examples=1,
        points=float(rule.points),
        hidden=False,
        rule=rule,
    )
    REGISTRY.append(check)
    diagnoses(rule.step, **{rule.name: f"uses {rule.banned}: {rule.advice}"})
    return check


CHECK_OF: dict[str, Check] = {rule.id: _register(rule) for rule in RULES}
