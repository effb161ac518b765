"""Real: torch's ExponentialLR, StepLR and LinearLR, stepped epoch by epoch on an optimizer, reading its lr.

source: https://github.com/pytorch/pytorch/blob/main/torch/optim/lr_scheduler.py
verdict: correct
step: none
diagnosis: none
rules: schedule.no_lr_scheduler

Original usage: `scheduler = ExponentialLR(optimizer, gamma)` (or StepLR(optimizer, step_size,
gamma), LinearLR(optimizer, start_factor=1.0, end_factor=..., total_iters=total)), then
`scheduler.step()` once per epoch; their recursive get_lr multiplies the current lr. Adapted: a
one-parameter SGD optimizer, t steps, then its param_groups[0]["lr"]; end_factor = lr_end / lr0.
"""

import warnings


def _lr_after(make_scheduler, lr0, t):
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr0)
    scheduler = make_scheduler(optimizer)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(t):
            optimizer.step()
            scheduler.step()
    return optimizer.param_groups[0]["lr"]


def exponential_decay(lr0, gamma, t):
    return _lr_after(lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma), lr0, t)


def step_decay(lr0, gamma, step_size, t):
    return _lr_after(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size, gamma), lr0, t)


def linear_decay(lr0, lr_end, total, t):
    return _lr_after(
        lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=1.0, end_factor=lr_end / lr0, total_iters=total),
        lr0,
        t,
    )
