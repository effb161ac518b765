"""Inside a worker: stand-ins for the other steps' functions, answered outside the worker.

While one step is checked, the submission's functions of every other step are replaced by
proxies. A proxy sends its arguments to the trusted side as a wire message `{"op": "helper",
"fn", "args", "kwargs", "grads", "need"}` and waits for `{"op": "answer", "value", "states",
"error_type", "error"}`, so no reference code, source or object ever enters the worker.

- Generators travel as `GenState`s and get their new state back, so draws carry on as if
  the function had run here.
- A proxy of a generator function (`lazy`) calls out on the first `next()`, as the function
  itself would start running only then.
- When a tensor argument requires grad, the call is an autograd node: its backward asks the
  trusted side for the vector-Jacobian product (`grads`: the output gradients; `need`: which
  input tensors want one).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator
from typing import Any

import torch

from grader.sandbox.protocol import GenState, replace_tensors, tensors_in

Ask = Callable[[dict], dict]
"""Send a request to the trusted side and return its answer."""


def make_proxies(names: dict[str, bool], ask: Ask) -> dict[str, Callable]:
    """One proxy per name; `names[name]` is True for a generator function."""
    return {name: _proxy(name, lazy, ask) for name, lazy in names.items()}


def _proxy(name: str, lazy: bool, ask: Ask) -> Callable:
    def proxy(*args: Any, **kwargs: Any) -> Any:
        if lazy:
            return _lazy(name, args, kwargs, ask)
        leaves = tensors_in((args, kwargs))
        if torch.is_grad_enabled() and any(t.requires_grad for t in leaves):
            return _through_autograd(name, args, kwargs, leaves, ask)
        return _remote(name, args, kwargs, ask)

    proxy.__name__ = proxy.__qualname__ = name
    proxy.__doc__ = f"{name}, answered by the grader while another step is checked."
    return proxy


def _lazy(name: str, args: tuple, kwargs: dict, ask: Ask) -> Iterator:
    yield from _remote(name, args, kwargs, ask)


def _remote(name: str, args: tuple, kwargs: dict, ask: Ask, grads: list | None = None, need: list | None = None) -> Any:
    generators: list[torch.Generator] = []
    request = {
        "op": "helper",
        "fn": name,
        "args": _outbound(args, generators),
        "kwargs": _outbound(kwargs, generators),
        "grads": grads,
        "need": need,
    }
    answer = ask(request)
    if answer.get("error_type") is not None:
        raise _exception(str(answer["error_type"]))(str(answer.get("error", "")))
    if grads is None:
        for generator, state in zip(generators, answer.get("states") or []):
            generator.set_state(state)
    return answer.get("value")


def _exception(type_name: str) -> type[BaseException]:
    """The builtin exception of that name (so `except ValueError` works), else RuntimeError."""
    found = getattr(builtins, type_name, None)
    return found if isinstance(found, type) and issubclass(found, Exception) else RuntimeError


def _outbound(value: Any, generators: list[torch.Generator]) -> Any:
    """Arguments as wire data: tensors detached, generators as their states."""
    if isinstance(value, torch.Generator):
        generators.append(value)
        return GenState(str(value.device), value.get_state())
    if isinstance(value, torch.Tensor):
        return value.detach()
    if isinstance(value, (list, tuple)):
        items = [_outbound(v, generators) for v in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, dict):
        return {k: _outbound(v, generators) for k, v in value.items()}
    return value


def _through_autograd(name: str, args: tuple, kwargs: dict, leaves: list[torch.Tensor], ask: Ask) -> Any:
    box: dict[str, Any] = {}
    outputs = _Bridge.apply((name, args, kwargs, ask, box), *leaves)
    return replace_tensors(box["value"], iter(outputs))


class _Bridge(torch.autograd.Function):
    """A remote call as one autograd node."""

    @staticmethod
    def forward(ctx: Any, spec: tuple, *leaves: torch.Tensor) -> tuple[torch.Tensor, ...]:
        name, args, kwargs, ask, box = spec
        generators: list[torch.Generator] = []
        args, kwargs = replace_tensors((args, kwargs), iter(leaves))
        ctx.request = (name, _outbound(args, generators), _outbound(kwargs, generators), ask)
        value = _remote(name, args, kwargs, ask)
        box["value"] = value
        outputs = tuple(tensors_in(value))
        ctx.mark_non_differentiable(*(t for t in outputs if not t.is_floating_point()))
        return outputs

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, *grads: torch.Tensor) -> tuple:
        name, args, kwargs, ask = ctx.request
        need = list(ctx.needs_input_grad[1:])
        got = _remote(name, args, kwargs, ask, grads=list(grads), need=need)
        if not isinstance(got, list) or len(got) != len(need):
            raise RuntimeError(f"the grader sent no gradient for {name}")
        return (None, *got)
