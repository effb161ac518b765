"""Real: Keras' ExponentialDecay, staircase=False by default: initial_learning_rate * decay_rate ** (step / decay_steps).

source: https://github.com/keras-team/keras/blob/master/keras/src/optimizers/schedules/learning_rate_schedule.py
verdict: bug
step: schedule
diagnosis: none

Original: `p = global_step_recomp / decay_steps; if self.staircase: p = ops.floor(p);
return ops.multiply(initial_learning_rate, ops.power(decay_rate, p))`, with staircase=False
unless asked. Used as the step decay, it decays smoothly instead of once every step_size.
Adapted: decay_steps = step_size, decay_rate = gamma, plain floats.
"""


def step_decay(lr0, gamma, step_size, t, staircase=False):
    p = t / step_size
    if staircase:
        p = math.floor(p)
    return lr0 * gamma**p
