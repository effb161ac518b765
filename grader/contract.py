"""The student contract: which functions exist, and which step of SGD each belongs to."""

from __future__ import annotations

import ast
import difflib
import functools
from pathlib import Path

STEPS: tuple[str, ...] = (
    "init",
    "predict",
    "mse",
    "gradient",
    "step",
    "minibatch",
    "momentum",
    "schedule",
    "train",
)

FUNCTION_STEP: dict[str, str] = {
    "init_params": "init",
    "predict": "predict",
    "mse": "mse",
    "mse_grad": "gradient",
    "sgd_step": "step",
    "minibatches": "minibatch",
    "momentum_step": "momentum",
    "exponential_decay": "schedule",
    "step_decay": "schedule",
    "linear_decay": "schedule",
    "cosine_decay": "schedule",
    "train": "train",
}


def functions_of(step: str) -> tuple[str, ...]:
    """The contract functions that make up one step."""
    return tuple(name for name, s in FUNCTION_STEP.items() if s == step)


STUBS = Path(__file__).resolve().parents[1] / "exercises" / "sgd.py"


@functools.cache
def expected_parameters() -> dict[str, tuple[list[str], list[str]]]:
    """For each contract function: (positional parameter names, keyword-only names), from the stubs."""
    tree = ast.parse(STUBS.read_text())
    return {
        node.name: ([a.arg for a in node.args.posonlyargs + node.args.args], [a.arg for a in node.args.kwonlyargs])
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name in FUNCTION_STEP
    }


def interface_problems(source: str) -> list[str]:
    """Missing or misnamed functions and unusable signatures, found by reading (not running) the source."""
    tree = ast.parse(source)
    defined = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    bound = {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
    bound |= {a.asname or a.name for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    problems = []
    for name, (positional, keywords) in expected_parameters().items():
        if name in defined:
            problems += _signature_problems(name, defined[name].args, positional, keywords)
        elif name not in bound:
            names = {other.lower(): other for other in [*defined, *bound]}
            near = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
            problems.append(f"no function named {name}" + (f" (is {names[near[0]]} meant to be it?)" if near else ""))
    return problems


def _signature_problems(name: str, args: ast.arguments, positional: list[str], keywords: list[str]) -> list[str]:
    given = [a.arg for a in args.posonlyargs + args.args]
    accepts_keyword = set([a.arg for a in args.args] + [a.arg for a in args.kwonlyargs])
    required_positional = len(given) - len(args.defaults)
    required_keywords = {a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is None}
    expected = f"{name}({', '.join(positional + ['*'] * bool(keywords) + keywords)})"
    if len(given) < len(positional) and args.vararg is None:
        return [f"{name} takes {len(given)} positional arguments; expected {expected}"]
    if required_positional > len(positional):
        return [f"{name} requires {required_positional} positional arguments; expected {expected}"]
    missing = [k for k in keywords if k not in accepts_keyword and args.kwarg is None]
    if missing:
        return [f"{name} has no parameter {', '.join(missing)}; expected {expected}"]
    extra = sorted(required_keywords - set(keywords))
    if extra:
        return [f"{name} requires keyword arguments {', '.join(extra)} that the exercise never passes"]
    return []
