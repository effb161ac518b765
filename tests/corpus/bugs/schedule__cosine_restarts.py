"""Bug: The cosine schedule restarts after `total` epochs (t mod total), as warm restarts do.

step: schedule
diagnosis: restarts_after_total
"""

import math


def cosine_decay(lr0: float, lr_min: float, total: int, t: int) -> float:
    return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * (t % total) / total)) / 2
