"""Checks of `step`: one plain SGD update, p − lr·g."""

from __future__ import annotations

import torch
from hypothesis import strategies as st
from torch.optim.sgd import sgd

from grader.checks import strategies as st_
from grader.checks.answers import stored
from grader.checks.expect import (
    MODIFIED_INPUTS,
    expect_tensor,
    expect_unchanged,
    f64,
    fmt,
    is_close,
    tolerance,
    value_of,
)
from grader.checks.model import Call, Failure, Raw, check, diagnoses, filled


@stored
def torch_sgd(params, grads, lr: float, *, momentum: float = 0.0, nesterov: bool = False, velocities=None):
    """One step of torch.optim.SGD's update (its functional form, `torch.optim.sgd.sgd`), in
    float64: (new params, new momentum buffers). The functional form is what
    `SGD.step` runs, without the one-off cost of importing torch._dynamo."""
    new_params = [f64(p).clone() for p in params]
    buffers = [f64(v).clone() for v in velocities] if velocities is not None else [None] * len(params)
    sgd(
        new_params,
        [f64(g) for g in grads],
        buffers,
        weight_decay=0.0,
        momentum=momentum,
        lr=lr,
        dampening=0.0,
        nesterov=nesterov,
        maximize=False,
        foreach=False,
    )
    if momentum == 0:  # torch keeps no buffer then; by the convention v_new = 0·v + g = g
        return new_params, [f64(g) for g in grads]
    return new_params, buffers


def expect_tensor_list(got, *, what: str, like) -> list[torch.Tensor]:
    """Fail unless `got` is a list (or tuple) of tensors shaped and typed like `like`."""
    if not isinstance(got, (list, tuple)):
        raise Failure(f"{what} returned a {type(got).__name__}; expected a list of tensors.")
    if len(got) != len(like):
        raise Failure(f"{what} returned {len(got)} tensors for {len(like)} parameters.")
    return [expect_tensor(g, what=f"{what}[{i}]", shape=p.shape, like=p) for i, (g, p) in enumerate(zip(got, like))]


def scale(*tensor_lists) -> float:
    return max(float(f64(t).abs().max()) for ts in tensor_lists for t in ts) + 1.0


def close_lists(got, expected, dtype, scale_: float) -> bool:
    return all(is_close(g, e, rtol=tolerance(dtype), scale=scale_ * 4) for g, e in zip(got, expected))


HINTS = diagnoses(
    "step",
    ascent="You add the gradient: step against it, p − lr·g, to go downhill.",
    in_place=filled(MODIFIED_INPUTS, "sgd_step"),
)


@check(
    "step",
    "equals one step of torch.optim.SGD",
    points=3,
    examples=st.tuples(st_.parameter_lists(), st_.learning_rates),
)
def matches_torch_sgd(example):
    (params, grads), lr = example
    (got,) = yield [Call("sgd_step", (params, grads, lr))]
    got = expect_tensor_list(got, what="sgd_step", like=params)
    expected, _ = torch_sgd(params, grads, lr)
    if close_lists(got, expected, params[0].dtype, scale(params, grads) * max(lr, 1.0)):
        return
    ascent = [f64(p) + lr * f64(g) for p, g in zip(params, grads)]
    climbing = lr > 0 and close_lists(got, ascent, params[0].dtype, scale(params, grads) * max(lr, 1.0))
    raise Failure(
        f"sgd_step fails for params={fmt(params)}, grads={fmt(grads)}, lr={fmt(lr)}: "
        f"got {fmt(got)}, expected {fmt(expected)}.",
        diagnosis="ascent" if climbing else None,
        hint=HINTS["ascent"] if climbing else None,
    )


@check("step", "with lr = 0 leaves every parameter as it is", points=2, examples=st_.parameter_lists())
def zero_lr_is_identity(example):
    params, grads = example
    (got,) = yield [Call("sgd_step", (params, grads, 0.0))]
    got = expect_tensor_list(got, what="sgd_step", like=params)
    if not all(torch.equal(f64(g), f64(p)) for g, p in zip(got, params)):
        raise Failure(f"sgd_step with lr=0 changed params={fmt(params)} into {fmt(got)}.")


@check(
    "step",
    "returns new tensors of the input dtype and leaves params and grads unchanged",
    points=1,
    examples=st.tuples(st_.parameter_lists(), st_.learning_rates.filter(lambda lr: lr > 0)),
    max_examples=10,
)
def keeps_contract(example):
    (params, grads), lr = example
    call = Call("sgd_step", (params, grads, lr))
    (result,) = yield Raw([call])
    expect_tensor_list(value_of(call, result), what="sgd_step", like=params)
    expect_unchanged(result, "sgd_step", diagnosis="in_place")
