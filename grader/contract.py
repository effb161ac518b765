"""The student contract: which functions exist, and which step of SGD each belongs to."""

from __future__ import annotations

import ast
import difflib
from typing import NamedTuple

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


class Function(NamedTuple):
    """A contract function: its step, and the parameters the checks call it with."""

    step: str
    positional: tuple[str, ...]
    keywords: tuple[str, ...] = ()


FUNCTIONS: dict[str, Function] = {
    "init_params": Function("init", ("n_features",), ("std", "generator", "dtype", "device")),
    "predict": Function("predict", ("X", "w", "b")),
    "mse": Function("mse", ("preds", "targets")),
    "mse_grad": Function("gradient", ("X", "y", "w", "b")),
    "sgd_step": Function("step", ("params", "grads", "lr")),
    "minibatches": Function("minibatch", ("n", "batch_size"), ("shuffle", "drop_last", "generator")),
    "momentum_step": Function("momentum", ("params", "grads", "velocities", "lr", "beta"), ("nesterov",)),
    "exponential_decay": Function("schedule", ("lr0", "gamma", "t")),
    "step_decay": Function("schedule", ("lr0", "gamma", "step_size", "t")),
    "linear_decay": Function("schedule", ("lr0", "lr_end", "total", "t")),
    "cosine_decay": Function("schedule", ("lr0", "lr_min", "total", "t")),
    "train": Function("train", ("X", "y"), ("epochs", "batch_size", "lr", "beta", "generator", "init_std")),
}
"""Declared here, as data; a test holds solutions/sgd.py (and so the generated stubs) to it."""

FUNCTION_STEP: dict[str, str] = {name: function.step for name, function in FUNCTIONS.items()}


def functions_of(step: str) -> tuple[str, ...]:
    """The contract functions that make up one step."""
    return tuple(name for name, s in FUNCTION_STEP.items() if s == step)


def interface_problems(source: str) -> list[str]:
    """Missing or misnamed functions and unusable signatures, found by reading (not running) the source."""
    tree = ast.parse(source)
    defined = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    bound = {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
    bound |= {a.asname or a.name for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    problems = []
    for name, function in FUNCTIONS.items():
        if name in defined:
            problems += _signature_problems(
                name, defined[name].args, list(function.positional), list(function.keywords)
            )
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
