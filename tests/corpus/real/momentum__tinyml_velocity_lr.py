"""Real: Tinyml's SGDOptimizer with momentum: velocity = momentum * velocity + lr * gradient; tensor -= velocity.

source: https://github.com/autoai-org/Tinyml/blob/HEAD/tinynet/optims/sgd.py
verdict: bug
step: momentum
diagnosis: lr_in_velocity

Original: `param.velocity = self.momentum * param.velocity + self.lr * param.gradient;
param.tensor -= param.velocity`. The step is torch's, but the velocity carries the learning rate
(the positive-sign convention). Adapted: lists of tensors, new tensors instead of the Parameter
objects' in-place update; Tinyml has no Nesterov, so nesterov looks ahead in the same convention,
p − (lr·g + momentum·velocity).
"""


def momentum_step(params, grads, velocities, lr, beta, *, nesterov=False):
    new_params, new_velocities = [], []
    for tensor, gradient, velocity in zip(params, grads, velocities):
        velocity = beta * velocity + lr * gradient
        if nesterov:
            new_params.append(tensor - (lr * gradient + beta * velocity))
        else:
            new_params.append(tensor - velocity)
        new_velocities.append(velocity)
    return new_params, new_velocities
