"""Bug: The CS231n convention, with the learning rate inside the velocity: v = μv − lr·g, p = p + v.

step: momentum
diagnosis: lr_in_velocity
"""

from collections.abc import Sequence

from torch import Tensor


def momentum_step(
    params: Sequence[Tensor],
    grads: Sequence[Tensor],
    velocities: Sequence[Tensor],
    lr: float,
    beta: float,
    *,
    nesterov: bool = False,
) -> tuple[list[Tensor], list[Tensor]]:
    new_params, new_velocities = [], []
    for p, g, v in zip(params, grads, velocities):
        v_new = beta * v - lr * g
        new_params.append(p + v_new + beta * (v_new - v) if nesterov else p + v_new)
        new_velocities.append(v_new)
    return new_params, new_velocities
