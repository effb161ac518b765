"""Real: torch's CosineAnnealingWarmRestarts (SGDR) with T_mult=1: T_cur = epoch % T_0, so the rate restarts at lr0 after T_0 epochs.

source: https://github.com/pytorch/pytorch/blob/main/torch/optim/lr_scheduler.py
verdict: bug
step: schedule
diagnosis: restarts_after_total

Original: `step(epoch)`: `if self.T_mult == 1: self.T_cur = epoch % self.T_0`; `get_lr`:
`self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2`.
Adapted: T_0 = T_i = total, eta_min = lr_min, base_lr = lr0, called with epoch = t.
"""


def cosine_decay(lr0, lr_min, total, t):
    T_0 = T_i = total
    T_cur = t % T_0
    return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * T_cur / T_i)) / 2
