"""Bug: The velocity is an exponential moving average beta*v + (1 - beta)*g instead of beta*v + g.

step: momentum
diagnosis: ema_momentum
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
    """Step 5, with momentum: keep rolling in the direction you were already going.

    Like a ball rolling downhill, the velocity remembers past gradients, which smooths
    out the noise of minibatches and speeds up travel along long, gentle valleys. For
    each parameter (the convention of `torch.optim.SGD`, with dampening 0):

        v_new = beta · v + g
        p_new = p − lr · v_new                     (plain momentum)
        p_new = p − lr · (g + beta · v_new)        (nesterov=True: look ahead)

    Velocities start at zeros. With beta = 0 this is exactly `sgd_step`. The velocity is
    often called a "moving average of gradients"; strictly, this form is a decaying
    *sum*: the exponential moving average v = beta·v + (1 − beta)·g is another
    convention, equal to this one up to a rescaling of the learning rate by 1 − beta.

    Returns `(new_params, new_velocities)`, two lists of new tensors.

    >>> p, v = momentum_step([torch.tensor(1.0)], [torch.tensor(2.0)], [torch.tensor(1.0)], lr=0.1, beta=0.9)
    >>> p, v
    ([tensor(0.7100)], [tensor(2.9000)])
    """
    new_velocities = [beta * v + (1 - beta) * g for v, g in zip(velocities, grads)]
    if nesterov:
        directions = [g + beta * v for g, v in zip(grads, new_velocities)]
    else:
        directions = new_velocities
    new_params = [p - lr * d for p, d in zip(params, directions)]
    return new_params, new_velocities
