"""Real: d2l's CosineScheduler: a stateful cosine from base_lr to final_lr over max_update epochs, held afterwards.

source: https://github.com/d2l-ai/d2l-en/blob/master/chapter_optimization/lr-scheduler.md
verdict: correct
step: none
diagnosis: none

Original: `if epoch <= self.max_update: self.base_lr = self.final_lr + (self.base_lr_orig -
self.final_lr) * (1 + math.cos(math.pi * (epoch - self.warmup_steps) / self.max_steps)) / 2;
return self.base_lr`. Adapted: no warmup; the scheduler is called for every epoch 0..t, as a
training loop does, and the last rate returned.
"""


class CosineScheduler:
    def __init__(self, max_update, base_lr=0.01, final_lr=0, warmup_steps=0, warmup_begin_lr=0):
        self.base_lr_orig = base_lr
        self.max_update = max_update
        self.final_lr = final_lr
        self.warmup_steps = warmup_steps
        self.warmup_begin_lr = warmup_begin_lr
        self.max_steps = self.max_update - self.warmup_steps

    def get_warmup_lr(self, epoch):
        increase = (self.base_lr_orig - self.warmup_begin_lr) * float(epoch) / float(self.warmup_steps)
        return self.warmup_begin_lr + increase

    def __call__(self, epoch):
        if epoch < self.warmup_steps:
            return self.get_warmup_lr(epoch)
        if epoch <= self.max_update:
            self.base_lr = (
                self.final_lr
                + (self.base_lr_orig - self.final_lr)
                * (1 + math.cos(math.pi * (epoch - self.warmup_steps) / self.max_steps))
                / 2
            )
        return self.base_lr


def cosine_decay(lr0, lr_min, total, t):
    scheduler = CosineScheduler(max_update=total, base_lr=lr0, final_lr=lr_min)
    for epoch in range(t + 1):
        lr = scheduler(epoch)
    return lr
