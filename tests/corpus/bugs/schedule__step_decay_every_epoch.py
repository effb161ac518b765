"""Bug: step_decay ignores step_size and decays every epoch.

step: schedule
diagnosis: step_decay_every_epoch
"""


def step_decay(lr0: float, gamma: float, step_size: int, t: int) -> float:
    """Learning-rate schedule: multiply by `gamma` once every `step_size` epochs.

        lr(t) = lr0 · gamma^⌊t / step_size⌋

    Epochs 0 .. step_size−1 use lr0. (torch: `StepLR`.)

    >>> [step_decay(1.0, 0.1, 2, t) for t in range(5)]
    [1.0, 1.0, 0.1, 0.1, 0.010000000000000002]
    """
    return lr0 * gamma**t
