"""Checks of `gradient`: the hand-derived gradient of the mse of a linear model."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from grader.checks import strategies as st_
from grader.checks.answers import stored
from grader.checks.expect import (
    constant_ratio,
    expect_close,
    expect_tensor,
    expect_unchanged,
    f64,
    fmt,
    is_close,
    observe_mistakes,
    tolerance,
    value_of,
)
from grader.checks.model import Call, Failure, Mistake, Raw, check, mistakes


def loss(X: torch.Tensor, y: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The loss whose gradient mse_grad computes, built from torch's own pieces."""
    return F.mse_loss(F.linear(X, w[None, :], b[None])[:, 0], y)


@stored
def autograd_gradient(X, y, w, b) -> torch.Tensor:
    """∂L/∂w and ∂L/∂b by torch.autograd, in float64, as one vector [w..., b]."""
    w64, b64 = f64(w).requires_grad_(), f64(b).requires_grad_()
    grad_w, grad_b = torch.autograd.grad(loss(f64(X), f64(y), w64, b64), (w64, b64))
    return torch.cat([grad_w, grad_b[None]])


@stored
def numerical_gradient(X, y, w, b, eps: float = 1e-6) -> torch.Tensor:
    """Central differences (L(θ + ε) − L(θ − ε)) / 2ε in float64, as one vector [w..., b]."""
    theta = torch.cat([f64(w), f64(b)[None]])
    grads = torch.empty_like(theta)
    for i in range(theta.numel()):
        up, down = theta.clone(), theta.clone()
        up[i] += eps
        down[i] -= eps
        grads[i] = (loss(f64(X), f64(y), up[:-1], up[-1]) - loss(f64(X), f64(y), down[:-1], down[-1])) / (2 * eps)
    return grads


def _vector(got: tuple, X: torch.Tensor) -> torch.Tensor:
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise Failure(f"mse_grad returned {type(got).__name__}; expected a pair (grad_w, grad_b).")
    grad_w = expect_tensor(got[0], what="mse_grad's grad_w", shape=(X.shape[1],), like=X)
    grad_b = expect_tensor(got[1], what="mse_grad's grad_b", shape=(), like=X)
    return torch.cat([f64(grad_w), f64(grad_b)[None]])


def _scale(X, y, w, b) -> float:
    residual = (f64(X) @ f64(w) + f64(b) - f64(y)).abs().max()
    return float(2 * (f64(X).abs().max() + 1) * (residual + f64(X).abs().sum(dim=1).max() * f64(w).abs().max() + 1))


def expect_gradient(got, inputs: tuple, expected: torch.Tensor) -> None:
    """Fail unless mse_grad's `got` on `inputs` = (X, y, w, b) is `expected` (grad_w then grad_b, flat)."""
    X, y, w, b = inputs
    expect_close(
        _vector(got, X),
        expected,
        rtol=tolerance(X.dtype),
        scale=_scale(X, y, w, b),
        context=lambda: f"mse_grad fails for X={fmt(X)}, y={fmt(y)}, w={fmt(w)}, b={fmt(b)}",
        mistakes=MISTAKES,
        inputs=inputs,
    )


def side_by_side(numerical: torch.Tensor, analytical: torch.Tensor, d: int) -> str:
    """A gradcheck-style table: numerical and analytical gradients, entry by entry."""
    names = [f"w[{i}]" for i in range(d)] + ["b"]
    lines = [f"  {'':6}{'numerical':>16}{'analytical (yours)':>22}"]
    for name, num, ana in zip(names, numerical.tolist(), analytical.tolist()):
        lines.append(f"  {name:6}{num:>16.6g}{ana:>22.6g}")
    return "\n".join(lines)


def _mistake(id_: str, message: str, transform) -> Mistake:
    def wrong(X, y, w, b):
        g = autograd_gradient(X, y, w, b)
        return transform(g, X.shape[0])

    return Mistake(id_, message, wrong)


MISTAKES = mistakes(
    "gradient",
    _mistake(
        "missing_factor_2",
        "Your gradient is half the true one: d/dr r² = 2r, so keep the factor 2.",
        lambda g, n: g / 2,
    ),
    _mistake(
        "flipped_sign",
        "Your gradient points the wrong way (its sign is flipped): use residuals "
        "r = predictions − targets, not targets − predictions.",
        lambda g, n: -g,
    ),
    _mistake(
        "zero_bias_grad",
        "Your bias gradient is zero: the bias changes every prediction, so ∂L/∂b = (2/N) Σ rᵢ.",
        lambda g, n: torch.cat([g[:-1], g[-1:] * 0]),
    ),
    _mistake(
        "grad_sum_not_mean", "Your gradient is N times too big: the loss is a mean, so divide by N.", lambda g, n: g * n
    ),
    _mistake(
        "sum_without_factor_2",
        "Your gradient is N/2 times the true one: it sums rᵢ·xᵢ without the factor 2 and without dividing by N; "
        "the loss is a mean of squares, so ∂L/∂w = (2/N) · Xᵀ r.",
        lambda g, n: g * n / 2,
    ),
)


@check(
    "gradient",
    "agrees with central finite differences (float64)",
    points=3,
    examples=st_.linear_problems(max_n=6, max_d=3),
)
def finite_differences(example):
    X, y, w, b = (f64(t) for t in example)
    (got,) = yield [Call("mse_grad", (X, y, w, b))]
    analytical = _vector(got, X)
    numerical = numerical_gradient(X, y, w, b)
    if not is_close(numerical, autograd_gradient(X, y, w, b), rtol=1e-6, scale=_scale(X, y, w, b)):
        return  # the oracle itself is unreliable here; autograd decides in `matches_autograd`
    observe_mistakes(analytical, numerical, MISTAKES, (X, y, w, b), rtol=1e-6, scale=_scale(X, y, w, b))
    error = (analytical - numerical).abs().max() / (numerical.abs().max() + 1.0)
    if error > 1e-6:
        ratio = constant_ratio(analytical, numerical, rtol=1e-6)
        raise Failure(
            f"gradient check failed for X={fmt(X)}, y={fmt(y)}, w={fmt(w)}, b={fmt(b)} "
            f"(relative error {float(error):.3g}):\n{side_by_side(numerical, analytical, X.shape[1])}",
            ratio=ratio,
        )


@check("gradient", "equals torch.autograd's gradient in float32 and float64", points=3, examples=st_.linear_problems())
def matches_autograd(example):
    X, y, w, b = example
    (got,) = yield [Call("mse_grad", (X, y, w, b))]
    expect_gradient(got, (X, y, w, b), autograd_gradient(X, y, w, b))


@check("gradient", "is zero at a perfect fit (y = X @ w + b)", points=2, examples=st_.linear_problems())
def zero_at_perfect_fit(example):
    X, _, w, b = example
    y = (f64(X) @ f64(w) + f64(b)).to(X.dtype)
    (got,) = yield [Call("mse_grad", (X, y, w, b))]
    grads = _vector(got, X)
    if not is_close(grads, torch.zeros_like(grads), rtol=tolerance(X.dtype), scale=_scale(X, y, w, b)):
        raise Failure(
            f"at a perfect fit the gradient should be 0, but mse_grad gives {fmt(grads)} "
            f"for X={fmt(X)}, y={fmt(y)}, w={fmt(w)}, b={fmt(b)}."
        )


@check(
    "gradient",
    "returns (grad_w (D,), grad_b ()) in the input dtype and leaves its inputs unchanged",
    points=1,
    examples=st_.linear_problems(),
    max_examples=10,
)
def keeps_contract(example):
    X, y, w, b = example
    call = Call("mse_grad", (X, y, w, b))
    (result,) = yield Raw([call])
    _vector(value_of(call, result), X)
    expect_unchanged(result, "mse_grad")
