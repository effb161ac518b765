"""Real: d2l's FactorScheduler: base_lr = max(stop_factor_lr, base_lr * factor) at every call, with stop_factor_lr = 1e-7.

source: https://github.com/d2l-ai/d2l-en/blob/master/chapter_optimization/lr-scheduler.md
verdict: bug
step: schedule
diagnosis: none

Original: `class FactorScheduler: def __init__(self, factor=1, stop_factor_lr=1e-7, base_lr=0.1): ...
def __call__(self, num_update): self.base_lr = max(self.stop_factor_lr, self.base_lr * self.factor);
return self.base_lr`. Adapted: the stateful scheduler is stepped once per epoch 1..t (epoch 0 uses
base_lr). It floors the rate at 1e-7, which lr0 · gammaᵗ does not; no registered mistake names that.
"""


class FactorScheduler:
    def __init__(self, factor=1, stop_factor_lr=1e-7, base_lr=0.1):
        self.factor = factor
        self.stop_factor_lr = stop_factor_lr
        self.base_lr = base_lr

    def __call__(self, num_update):
        self.base_lr = max(self.stop_factor_lr, self.base_lr * self.factor)
        return self.base_lr


def exponential_decay(lr0, gamma, t):
    scheduler = FactorScheduler(factor=gamma, base_lr=lr0)
    lr = lr0
    for epoch in range(1, t + 1):
        lr = scheduler(epoch)
    return lr
