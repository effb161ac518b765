"""Bug: linear_decay does not clamp t at total, so the learning rate keeps falling past lr_end.

step: schedule
diagnosis: linear_overshoots
"""


def linear_decay(lr0: float, lr_end: float, total: int, t: int) -> float:
    """Learning-rate schedule: a straight line from lr0 at t = 0 to lr_end at t = total.

        lr(t) = lr0 + (lr_end − lr0) · min(t, total) / total

    After `total` epochs it stays at lr_end. (torch: `LinearLR` with start_factor 1 and
    end_factor lr_end / lr0.)

    >>> [linear_decay(1.0, 0.0, 4, t) for t in (0, 1, 4, 9)]
    [1.0, 0.75, 0.0, 0.0]
    """
    return lr0 + (lr_end - lr0) * t / total
