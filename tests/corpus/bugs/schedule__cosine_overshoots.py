"""Bug: cosine_decay does not clamp t at total, so after total the learning rate follows the cosine back up.

step: schedule
diagnosis: cosine_overshoots
"""

import math


def cosine_decay(lr0: float, lr_min: float, total: int, t: int) -> float:
    """Learning-rate schedule: half a cosine wave from lr0 at t = 0 down to lr_min at t = total.

        lr(t) = lr_min + (lr0 − lr_min) · (1 + cos(π · min(t, total) / total)) / 2

    Slow to start falling, fast in the middle, gentle at the end; it stays at lr_min
    after `total`. (torch: `CosineAnnealingLR` with T_max = total, eta_min = lr_min.)

    >>> [round(cosine_decay(1.0, 0.0, 2, t), 6) for t in range(4)]
    [1.0, 0.5, 0.0, 0.0]
    """
    return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * t / total)) / 2
