"""Static evidence: the APIs a step's functions use, read from the submission's source with `ast`.

Nothing runs. From each of a step's contract functions, the reach follows every function, lambda
and class of the module they refer to (nested ones included), and stops at another step's contract
functions (isolation by step: their APIs are that step's business). Names are resolved through
imports, aliases (`g = torch.autograd.grad`), attribute chains and `getattr` with a constant name;
an attribute of something unresolved (a tensor) named in `TENSOR_ATTRIBUTES` is that tensor
method. Comments, docstrings and strings are never names. What cannot be resolved without running
the code (`UNVERIFIABLE`, `getattr` with a computed name, names a `*` import may have bound) is a
`Use` that is not `verified`: it says where to look, not what is there.
"""

from __future__ import annotations

import ast
import builtins
from collections import defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field

TENSOR_ATTRIBUTES = {"backward": "torch.Tensor.backward", "grad_fn": "torch.Tensor.grad_fn"}
"""An attribute of a value the source does not name (a tensor, most likely): the API it stands for."""
UNVERIFIABLE = {
    "builtins.exec": "exec",
    "builtins.eval": "eval",
    "builtins.compile": "compile",
    "builtins.__import__": "__import__",
    "builtins.globals": "globals()",
    "builtins.vars": "vars()",
    "builtins.locals": "locals()",
    "importlib": "importlib",
    "sys.modules": "sys.modules",
    "operator.attrgetter": "operator.attrgetter",
    "operator.methodcaller": "operator.methodcaller",
}
"""Names whose use can reach any API without naming it: resolved name (or its prefix) → what is reported."""
UNVERIFIABLE_ATTRIBUTES = frozenset({"__dict__", "__getattribute__", "__globals__", "__builtins__", "__import__"})
SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef


@dataclass(frozen=True)
class Use:
    """One use of an API by `function` (a contract function), at `line`, inside `where` (that
    function or one it reaches). Not `verified`: the construct `api` hides what it uses."""

    function: str
    api: str
    line: int
    where: str
    verified: bool = True


@dataclass
class _Scope:
    node: ast.AST
    parent: _Scope | None
    bindings: dict[str, list[tuple[object, int, bool]]] = field(default_factory=lambda: defaultdict(list))
    """name → (value, line, at the top level): value is a dotted name, an `ast` expression or definition, or None."""
    declared_global: set[str] = field(default_factory=set)


def under(name: str, prefixes: frozenset[str] | set[str] | tuple[str, ...] | dict) -> str | None:
    """The prefix (a whole dotted name, or one of its leading parts) that `name` falls under, or None."""
    return next((p for p in prefixes if name == p or name.startswith(p + ".")), None)


def _import_bindings(node: ast.Import | ast.ImportFrom) -> Iterator[tuple[str, str | None]]:
    for alias in node.names:
        if isinstance(node, ast.Import):
            yield (alias.asname, alias.name) if alias.asname else (alias.name.split(".")[0], alias.name.split(".")[0])
        elif alias.name != "*":
            yield alias.asname or alias.name, f"{node.module}.{alias.name}" if node.module and not node.level else None


def _pairs(target: ast.expr, value: ast.expr | None) -> Iterator[tuple[ast.Name, ast.expr | None]]:
    """(name, the value it is bound to, where the source says) for an assignment's target."""
    if isinstance(target, ast.Name):
        yield target, value
    elif isinstance(target, (ast.Tuple, ast.List)):
        values = value.elts if isinstance(value, (ast.Tuple, ast.List)) else None
        if values is not None and len(values) != len(target.elts):
            values = None
        for i, element in enumerate(target.elts):
            yield from _pairs(element, values[i] if values else None)
    elif isinstance(target, ast.Starred):
        yield from _pairs(target.value, None)


MAX_STEPS = 100_000
"""Nodes read and bindings followed per step: a source built to make reading it slow is not read
(a few seconds of reading; the reference needs a few thousand)."""


class TooComplex(Exception):
    """The source would take too long to read (`MAX_STEPS`)."""


_STAR = object()
"""A name no statement binds, with a `from … import *` in the module: it may be anything."""


def _arguments(node: ast.AST) -> list[str]:
    if isinstance(node, ast.ClassDef):
        return []
    args = node.args
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
    return [a.arg for a in every if a is not None]


class Module:
    """A submission's source, read once: its scopes, what each name is bound to, and the parent of
    each node. `uses(function)` lists what a contract function uses."""

    def __init__(self, source: str) -> None:
        self.tree = ast.parse(source)
        self.module = _Scope(self.tree, None)
        self.scope_of: dict[ast.AST, _Scope] = {}
        self.parent: dict[ast.AST, ast.AST] = {}
        self.star_lines: list[int] = []
        self._handled: set[ast.AST] = set()
        self._resolved: dict[ast.Name, tuple[set[object], list[ast.AST]]] = {}
        self._steps = 0
        self._build(self.tree, self.module)

    def _build(self, node: ast.AST, scope: _Scope) -> None:
        for child in ast.iter_child_nodes(node):
            self.parent[child], self.scope_of[child] = node, scope
            inner = scope
            if isinstance(child, SCOPES):
                if not isinstance(child, ast.Lambda):
                    self._bind(scope, child.name, child, child.lineno, node is self.tree)
                inner = _Scope(child, scope)
                for name in _arguments(child):
                    self._bind(inner, name, None, child.lineno, False)
            else:
                self._record(child, scope, node is self.tree)
            self._build(child, inner)

    def _record(self, node: ast.AST, scope: _Scope, top: bool) -> None:
        """The bindings one node makes in `scope`."""
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for name, value in _import_bindings(node):
                self._bind(scope, name, value, node.lineno, top)
            if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
                self.star_lines.append(node.lineno)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.NamedExpr)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name, value in _pairs(target, node.value):
                    self._handled.add(name)
                    self._bind(scope, name.id, value, node.lineno, top)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            scope.declared_global.update(node.names if isinstance(node, ast.Global) else ())
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load) and node not in self._handled:
            self._bind(scope, node.id, None, node.lineno, False)

    def _bind(self, scope: _Scope, name: str, value: object, line: int, top: bool) -> None:
        if name in scope.declared_global:
            scope, top = self.module, False
        scope.bindings[name].append((value, line, top))

    def lookup(self, name: str, scope: _Scope) -> list[tuple[object, int]]:
        """What `name` may be bound to, seen from `scope`, with the line that binds it. At the top level
        the last plain statement wins (functions run once the module has loaded)."""
        current: _Scope | None = scope
        while current is not None:
            if name in current.declared_global and current is not self.module:
                current = self.module
                continue
            if name in current.bindings and (current is scope or not isinstance(current.node, ast.ClassDef)):
                entries = current.bindings[name]
                if current is self.module and entries[-1][2]:
                    entries = entries[-1:]
                return [(value, line) for value, line, _ in entries]
            current = current.parent
        if name == "__builtins__" or hasattr(builtins, name):
            return [("builtins" if name == "__builtins__" else f"builtins.{name}", 0)]
        return [(_STAR, self.star_lines[0])] if self.star_lines else []

    def resolve(self, expr: ast.AST, seen: tuple = ()) -> set[object]:
        """The dotted names and definitions `expr` may stand for (empty: a value the source does not name)."""
        if isinstance(expr, SCOPES):
            return {expr}
        if isinstance(expr, ast.Name):
            if expr not in self._resolved:
                self._resolved[expr] = self._name(expr, seen)
            return set(self._resolved[expr])
        if isinstance(expr, ast.Attribute):
            return self._attribute(self.resolve(expr.value, seen), expr.attr)
        if isinstance(expr, ast.Call) and self._constant_getattr(expr):
            return self._attribute(self.resolve(expr.args[0], seen), expr.args[1].value)
        return set()

    def _name(self, name: ast.Name, seen: tuple) -> set[object]:
        """What a name may stand for (kept per name: a chain of aliases is read once)."""
        found: set[object] = set()
        for value, _ in self.lookup(name.id, self.scope_of[name]):
            self._steps += 1
            if self._steps > MAX_STEPS:
                raise TooComplex(f"more than {MAX_STEPS} steps to read")
            if isinstance(value, (str, *SCOPES)):
                found.add(value)
            elif isinstance(value, ast.expr) and value not in seen:
                found |= self.resolve(value, (*seen, value))
        return found

    @staticmethod
    def _attribute(bases: set[object], attr: str) -> set[object]:
        found: set[object] = {f"{b}.{attr}" for b in bases if isinstance(b, str)}
        found |= {b for b in bases if isinstance(b, ast.ClassDef)}  # Helper.method: the class, whole
        if not bases and attr in TENSOR_ATTRIBUTES:
            found.add(TENSOR_ATTRIBUTES[attr])
        return found

    def _is_getattr(self, call: ast.Call) -> bool:
        return len(call.args) >= 2 and "builtins.getattr" in self.resolve(call.func)

    def _constant_getattr(self, call: ast.Call) -> bool:
        name = call.args[1] if self._is_getattr(call) else None
        return isinstance(name, ast.Constant) and isinstance(name.value, str)

    def _evidence(self, node: ast.AST) -> Iterator[tuple[object, int, bool]]:
        """(dotted name, definition or bound expression to read next, line, verified) for one node."""
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Attribute) and node.attr in UNVERIFIABLE_ATTRIBUTES:
            yield node.attr, line, False
        if isinstance(node, ast.Call) and self._is_getattr(node) and not self._constant_getattr(node):
            yield "getattr with a computed name", line, False
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            for value, _ in self.lookup(node.id, self.scope_of[node]):
                if value is _STAR:
                    yield f"{node.id}, which `from … import *` (line {self.star_lines[0]}) may bind", line, False
                elif isinstance(value, ast.expr):
                    yield value, line, True  # what the name is bound to is read too (once)
        outer = self.parent.get(node)
        inner = isinstance(outer, ast.Attribute) and outer.value is node
        if isinstance(node, ast.Call) and self._constant_getattr(node):
            found = self.resolve(node)
        elif isinstance(node, (ast.Name, ast.Attribute)) and isinstance(node.ctx, ast.Load) and not inner:
            found = self.resolve(node)
        else:
            return
        for item in found:
            if isinstance(item, str) and under(item, UNVERIFIABLE):
                yield UNVERIFIABLE[under(item, UNVERIFIABLE)], line, False
            else:
                yield item, line, True

    def uses(self, functions: tuple[str, ...], stop: frozenset[str] = frozenset()) -> list[Use]:
        """Every dotted name each of `functions` uses, and every construct that hides what it uses, in the
        definitions it reaches (never those named in `stop`); one `Use` per function and name, the first
        found. TooComplex past `MAX_STEPS` nodes and bindings."""
        self._steps = 0
        found: dict[tuple[str, str, bool], Use] = {}
        for function in functions:
            for use in self._uses_of(function, stop):
                found.setdefault((use.function, use.api, use.verified), use)
        return sorted(found.values(), key=lambda use: (use.line, use.api))

    def _uses_of(self, function: str, stop: frozenset[str]) -> Iterator[Use]:
        bound = self.lookup(function, self.module)
        yield from (Use(function, value, line, function) for value, line in bound if isinstance(value, str))
        queue = deque((value, function) for value, _ in bound if isinstance(value, ast.AST))
        walked: set[ast.AST] = set()
        while queue:
            item, where = queue.popleft()
            if item in walked:
                continue
            walked.add(item)
            for node in ast.walk(item):
                self._steps += 1
                if self._steps > MAX_STEPS:
                    raise TooComplex(f"more than {MAX_STEPS} steps to read")
                walked.update([node] if isinstance(node, SCOPES) else [])
                for used, line, verified in self._evidence(node):
                    if isinstance(used, str):
                        yield Use(function, used, line, where, verified)
                    elif used not in walked and self._reachable(used, stop):
                        queue.append((used, getattr(used, "name", where)))

    def _reachable(self, definition: Definition, stop: frozenset[str]) -> bool:
        top = self.scope_of.get(definition) is self.module
        return not (top and getattr(definition, "name", None) in stop)
