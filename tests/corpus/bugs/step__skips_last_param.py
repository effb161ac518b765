"""Bug: The loop stops one parameter early, so the last parameter (the bias) is dropped from the result.

step: step
diagnosis: none
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
    return [params[i] - lr * grads[i] for i in range(len(params) - 1)]
