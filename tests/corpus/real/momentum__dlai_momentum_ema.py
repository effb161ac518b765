"""Real: deeplearning.ai's update_parameters_with_momentum: v = beta * v + (1 - beta) * dW; W = W - learning_rate * v.

source: https://github.com/DeepakSridhar/Deep-Learning-Coursera/blob/HEAD/Course-2/Optimization/update_momentum.py
verdict: bug
step: momentum
diagnosis: ema_momentum

Original: `v["dW" + str(l + 1)] = beta * v["dW" + str(l + 1)] + (1 - beta) * grads["dW" + str(l + 1)]`,
then `parameters["W" + str(l + 1)] = parameters["W" + str(l + 1)] - learning_rate * v["dW" + str(l + 1)]`.
Adapted: lists instead of the W1/b1 dictionaries. The course has no Nesterov; with nesterov the
look-ahead is taken in the course's own convention, (1 − beta)·dW + beta·v_new, so the whole step
is torch's on (1 − beta)·dW.
"""


def momentum_step(params, grads, velocities, lr, beta, *, nesterov=False):
    learning_rate = lr
    new_params, v = [], []
    for W, dW, vW in zip(params, grads, velocities):
        vW = beta * vW + (1 - beta) * dW
        step = (1 - beta) * dW + beta * vW if nesterov else vW
        new_params.append(W - learning_rate * step)
        v.append(vW)
    return new_params, v
