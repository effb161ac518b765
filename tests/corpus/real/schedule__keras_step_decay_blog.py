"""Real: the Keras LearningRateScheduler step decay from the blogs: initial_lrate * drop ** floor((1+epoch)/epochs_drop).

source: https://marko-kovacevic.com/blog/learning-rate-schedules-in-deep-learning/
verdict: bug
step: schedule
diagnosis: off_by_one

Original (after Machine Learning Mastery): `lrate = initial_lrate * math.pow(drop,
math.floor((1+epoch)/epochs_drop))`. The 1+ shifts every drop one epoch early: epoch t gets
the rate of t + 1. Adapted: initial_lrate = lr0, drop = gamma, epochs_drop = step_size.
"""


def step_decay(lr0, gamma, step_size, t):
    initial_lrate, drop, epochs_drop, epoch = lr0, gamma, float(step_size), t
    lrate = initial_lrate * math.pow(drop, math.floor((1 + epoch) / epochs_drop))
    return lrate
