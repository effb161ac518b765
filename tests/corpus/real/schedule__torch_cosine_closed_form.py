"""Real: torch's CosineAnnealingLR._get_closed_form_lr: eta_min + (base_lr − eta_min)(1 + cos(π·last_epoch/T_max))/2, no clamp.

source: https://github.com/pytorch/pytorch/blob/main/torch/optim/lr_scheduler.py
verdict: bug
step: schedule
diagnosis: cosine_overshoots

Original: `return [self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch /
self.T_max)) / 2 for base_lr in self.base_lrs]`. In torch this is meant (the docs say so) to
keep following the cosine after T_max, back up to base_lr; the contract's schedule stays at
lr_min. Adapted: base_lr = lr0, eta_min = lr_min, T_max = total, last_epoch = t.
"""


def cosine_decay(lr0, lr_min, total, t):
    base_lr, eta_min, T_max, last_epoch = lr0, lr_min, total, t
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * last_epoch / T_max)) / 2
