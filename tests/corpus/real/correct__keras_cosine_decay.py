"""Real: Keras' CosineDecay: step = min(step, decay_steps); (1 − alpha)·½(1 + cos(π·step/decay_steps)) + alpha, times the initial rate.

source: https://github.com/keras-team/keras/blob/master/keras/src/optimizers/schedules/learning_rate_schedule.py
verdict: correct
step: none
diagnosis: none

Original (decay part, no warmup): `global_step_recomp = ops.minimum(global_step_recomp, decay_steps)`,
`completed_fraction = global_step_recomp / decay_steps`,
`cosine_decayed = 0.5 * (1.0 + ops.cos(math.pi * completed_fraction))`,
`decayed = (1 - self.alpha) * cosine_decayed + self.alpha`, `initial_learning_rate * decayed`.
Adapted: alpha is a fraction of the initial rate, so alpha = lr_min / lr0.
"""


def cosine_decay(lr0, lr_min, total, t):
    initial_learning_rate, decay_steps, alpha = lr0, total, lr_min / lr0
    global_step_recomp = min(t, decay_steps)
    completed_fraction = global_step_recomp / decay_steps
    cosine_decayed = 0.5 * (1.0 + math.cos(math.pi * completed_fraction))
    decayed = (1 - alpha) * cosine_decayed + alpha
    return initial_learning_rate * decayed
