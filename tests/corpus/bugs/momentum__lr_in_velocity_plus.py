"""Bug: The learning rate inside the velocity, the other sign convention: v = μv + lr·g, p = p − v.

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
    new_velocities = [beta * v + lr * g for v, g in zip(velocities, grads)]
    if nesterov:
        steps = [v_new + beta * (v_new - v) for v_new, v in zip(new_velocities, velocities)]
    else:
        steps = new_velocities
    return [p - s for p, s in zip(params, steps)], new_velocities
