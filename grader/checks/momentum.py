"""Checks of `momentum`: the update of torch.optim.SGD(momentum=beta, nesterov=...)."""

from __future__ import annotations

import torch
from hypothesis import strategies as st

from grader.checks import strategies as st_
from grader.checks.diagnosis import observe
from grader.checks.expect import expect_unchanged, f64, fmt, value_of
from grader.checks.model import Call, Failure, Raw, check, diagnoses
from grader.checks.step import close_lists, expect_tensor_list, scale, torch_sgd

examples = st.tuples(st_.parameter_lists(with_velocities=True), st_.learning_rates, st_.betas, st.booleans())


def _pair(got, like, what: str = "momentum_step"):
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise Failure(f"{what} returned a {type(got).__name__}; expected (new_params, new_velocities).")
    return expect_tensor_list(got[0], what=f"{what}'s new_params", like=like), expect_tensor_list(
        got[1], what=f"{what}'s new_velocities", like=like
    )


HINTS = diagnoses(
    "momentum",
    ema_momentum="Your velocity is an exponential moving average, v = β·v + (1−β)·g. "
    "torch.optim.SGD (and this exercise) use v = β·v + g.",
    nesterov_ignored="With nesterov=True, step along g + β·v_new (look ahead), not v_new.",
    velocity_not_updated="Return the new velocities v_new = β·v + g, not the old ones.",
    lr_in_velocity="Your velocity has the learning rate folded in (v = β·v − lr·g then p + v, as in CS231n; or "
    "v = β·v + lr·g then p − v). torch.optim.SGD, and this exercise, keep it out: v = β·v + g, then p − lr·v.",
)


def _lr_in_velocity(params, grads, velocities, lr, beta, nesterov, sign):
    """The update with the learning rate inside the velocity: v = β·v − sign·lr·g, p = p + sign·(…)."""
    new_v = [beta * f64(v) - sign * lr * f64(g) for v, g in zip(velocities, grads)]
    steps = [f64(v) + beta * (f64(v) - f64(old)) for v, old in zip(new_v, velocities)] if nesterov else new_v
    return [f64(p) + sign * s for p, s in zip(params, steps)], new_v


def _predictions(params, grads, velocities, lr, beta, nesterov) -> dict[str, list[tuple]]:
    """What each known convention returns, as (params or None, velocities or None) alternatives."""
    ema_v = [beta * f64(v) + (1 - beta) * f64(g) for v, g in zip(velocities, grads)]
    plain = torch_sgd(params, grads, lr, momentum=beta, velocities=velocities)
    return {
        "ema_momentum": [(None, ema_v)],
        "nesterov_ignored": [plain],
        "velocity_not_updated": [(None, [f64(v) for v in velocities])],
        "lr_in_velocity": [
            _lr_in_velocity(params, grads, velocities, lr, beta, nesterov, sign) for sign in (1.0, -1.0)
        ],
    }


def _observe_conventions(example, got_params, got_velocities, expected, tol_scale) -> None:
    """Observe, for each known convention, whether the answer is its answer and whether that is wrong."""
    (params, grads, velocities), lr, beta, nesterov = example
    dtype = params[0].dtype

    def same(a, b) -> bool:
        return all(x is None or close_lists(y, x, dtype, tol_scale) for x, y in zip(a, b))

    def judge():
        for mistake, alternatives in _predictions(params, grads, velocities, lr, beta, nesterov).items():
            fits = any(same(alt, (got_params, got_velocities)) for alt in alternatives)
            yield mistake, fits, not all(same(alt, expected) for alt in alternatives)

    observe(judge)


@check(
    "momentum",
    "equals one step of torch.optim.SGD(momentum=beta, nesterov=...)",
    points=3,
    examples=examples,
    max_examples=40,
)
def matches_torch_sgd(example):
    (params, grads, velocities), lr, beta, nesterov = example
    (got,) = yield [Call("momentum_step", (params, grads, velocities, lr, beta), {"nesterov": nesterov})]
    got_params, got_velocities = _pair(got, params)
    expected_params, expected_velocities = torch_sgd(
        params, grads, lr, momentum=beta, nesterov=nesterov, velocities=velocities
    )
    tol_scale = scale(params, grads, velocities) * 4 * max(lr, 1.0)
    dtype = params[0].dtype
    expected = (expected_params, expected_velocities)
    _observe_conventions(example, got_params, got_velocities, expected, tol_scale)
    if close_lists(got_params, expected_params, dtype, tol_scale) and close_lists(
        got_velocities, expected_velocities, dtype, tol_scale
    ):
        return
    raise Failure(
        f"momentum_step fails for params={fmt(params)}, grads={fmt(grads)}, velocities={fmt(velocities)}, "
        f"lr={fmt(lr)}, beta={fmt(beta)}, nesterov={nesterov}: got params {fmt(got_params)} and velocities "
        f"{fmt(got_velocities)}; expected {fmt(expected_params)} and {fmt(expected_velocities)}."
    )


@check(
    "momentum",
    "follows torch.optim.SGD for 5 steps in a row, starting from zero velocities",
    points=3,
    examples=st.tuples(
        st_.parameter_lists(), st_.learning_rates.filter(lambda lr: lr <= 0.5), st_.betas, st.booleans()
    ),
    max_examples=15,
)
def matches_torch_sgd_over_steps(example):
    (params, grads), lr, beta, nesterov = example
    current, velocities = list(params), [torch.zeros_like(p) for p in params]
    expected, buffers = [f64(p) for p in params], None
    for step in range(5):
        step_grads = [g * (step + 1) + c for g, c in zip(grads, current)]
        (got,) = yield [Call("momentum_step", (current, step_grads, velocities, lr, beta), {"nesterov": nesterov})]
        current, velocities = _pair(got, params)
        expected, buffers = torch_sgd(expected, step_grads, lr, momentum=beta, nesterov=nesterov, velocities=buffers)
        tol_scale = scale(params, grads, expected) * 8 * (step + 1)
        if not close_lists(current, expected, params[0].dtype, tol_scale):
            raise Failure(
                f"after {step + 1} momentum steps (lr={fmt(lr)}, beta={fmt(beta)}, nesterov={nesterov}) "
                f"from params={fmt(params)}: got {fmt(current)}, torch.optim.SGD has {fmt(expected)}."
            )


@check(
    "momentum",
    "with beta = 0 equals a plain sgd_step",
    points=2,
    examples=st.tuples(st_.parameter_lists(with_velocities=True), st_.learning_rates),
    max_examples=15,
)
def zero_beta_is_sgd(example):
    (params, grads, velocities), lr = example
    momentum, plain = yield [
        Call("momentum_step", (params, grads, velocities, lr, 0.0)),
        Call("sgd_step", (params, grads, lr)),
    ]
    got_params, _ = _pair(momentum, params)
    plain = expect_tensor_list(plain, what="sgd_step", like=params)
    if not close_lists(got_params, plain, params[0].dtype, scale(params, grads) * 4 * max(lr, 1.0)):
        raise Failure(
            f"momentum_step with beta=0 gives {fmt(got_params)}, but sgd_step gives {fmt(plain)} "
            f"for params={fmt(params)}, grads={fmt(grads)}, lr={fmt(lr)}."
        )


@check(
    "momentum",
    "returns new tensors and leaves params, grads and velocities unchanged",
    points=1,
    examples=examples,
    max_examples=10,
)
def keeps_contract(example):
    (params, grads, velocities), lr, beta, nesterov = example
    call = Call("momentum_step", (params, grads, velocities, lr, beta), {"nesterov": nesterov})
    (result,) = yield Raw([call])
    _pair(value_of(call, result), params)
    expect_unchanged(result, "momentum_step")
