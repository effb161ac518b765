"""Bug: exponential_decay uses gamma to the power t + 1, so epoch 0 already has a decayed learning rate.

step: schedule
diagnosis: off_by_one
"""


def exponential_decay(lr0: float, gamma: float, t: int) -> float:
    """Learning-rate schedule: multiply by `gamma` every epoch. lr(t) = lr0 · gammaᵗ.

    Big steps early cover ground; small steps late settle into the minimum instead of
    bouncing around it. (torch: `ExponentialLR`.)

    >>> exponential_decay(1.0, 0.5, 3)
    0.125
    """
    return lr0 * gamma ** (t + 1)
