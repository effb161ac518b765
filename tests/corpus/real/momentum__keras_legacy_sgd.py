"""Real: Keras 2's SGD.get_updates: v = momentum * m - lr * g; p + v, or p + momentum * v - lr * g with nesterov.

source: https://github.com/keras-team/keras/blob/2.2.4/keras/optimizers.py
verdict: bug
step: momentum
diagnosis: lr_in_velocity

Original: `v = self.momentum * m - lr * g  # velocity; self.updates.append(K.update(m, v));
if self.nesterov: new_p = p + self.momentum * v - lr * g else: new_p = p + v`. Adapted: tensors
for Keras variables, new lists instead of K.update.
"""


def momentum_step(params, grads, velocities, lr, beta, *, nesterov=False):
    new_params, moments = [], []
    for p, g, m in zip(params, grads, velocities):
        v = beta * m - lr * g
        moments.append(v)
        if nesterov:
            new_p = p + beta * v - lr * g
        else:
            new_p = p + v
        new_params.append(new_p)
    return new_params, moments
