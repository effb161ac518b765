"""Bug: The parameters are updated in place with -=, which modifies the caller's tensors.

step: step
diagnosis: in_place
"""

from collections.abc import Sequence

from torch import Tensor


def sgd_step(params: Sequence[Tensor], grads: Sequence[Tensor], lr: float) -> list[Tensor]:
    """Step 5, step: move every parameter a little against its gradient.

        p_new = p − lr · g          for each (p, g) in zip(params, grads)

    Returns a new list of new tensors; the old ones stay unchanged. The learning rate
    `lr` sets the size of the move: too low and training crawls; too high and the loss
    bounces around or diverges.

    >>> sgd_step([torch.tensor([1.0, 2.0])], [torch.tensor([10.0, -10.0])], lr=0.1)
    [tensor([0., 3.])]
    """
    new_params = []
    for p, g in zip(params, grads):
        p -= lr * g
        new_params.append(p)
    return new_params
