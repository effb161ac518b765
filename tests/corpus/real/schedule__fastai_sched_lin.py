"""Real: fastai's sched_lin(start, end, pos) = start + pos*(end-start), called with pos = t/total.

source: https://github.com/fastai/fastai/blob/master/fastai/callback/schedule.py
verdict: bug
step: schedule
diagnosis: linear_overshoots

Original: `def sched_lin(start, end, pos): return start + pos*(end-start)`; fastai only calls it
with pos in [0, 1] (the fraction of training done). Adapted: pos = t / total, unclamped, so after
total the rate keeps falling past lr_end.
"""


def sched_lin(start, end, pos):
    return start + pos * (end - start)


def linear_decay(lr0, lr_end, total, t):
    return sched_lin(lr0, lr_end, t / total)
