"""Real: a Keras LearningRateScheduler callback from a Stack Overflow answer: lr * 0.1 when epoch % 5 == 0 and epoch != 0.

source: https://isolution.pro/pt/q/so73026825/parametro-de-deterioracao-do-otimizador-adam-em-keras
verdict: correct
step: none
diagnosis: none

Original: `def decay_schedule(epoch, lr): if (epoch % 5 == 0) and (epoch != 0): lr = lr * 0.1;
return lr`, which Keras calls at the start of every epoch with the current rate. Adapted: 0.1 is
gamma and 5 is step_size; the callback is applied for epochs 0..t, as fit does.
"""


def step_decay(lr0, gamma, step_size, t):
    def decay_schedule(epoch, lr):
        if (epoch % step_size == 0) and (epoch != 0):
            lr = lr * gamma
        return lr

    lr = lr0
    for epoch in range(t + 1):
        lr = decay_schedule(epoch, lr)
    return lr
