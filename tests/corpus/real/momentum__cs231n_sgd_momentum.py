"""Real: CS231n's sgd_momentum: v = mu * v - learning_rate * dw; next_w = w + v (and the notes' Nesterov form).

source: https://cs231n.github.io/neural-networks-3/
verdict: bug
step: momentum
diagnosis: lr_in_velocity

Original (assignment 2, optim.py): `v = config.get('velocity', np.zeros_like(w));
v = config['momentum'] * v - config['learning_rate'] * dw; next_w = w + v`; the notes' Nesterov
update: `v_prev = v; v = mu * v - learning_rate * dx; x += -mu * v_prev + (1 + mu) * v`.
Adapted: a list of parameters, nesterov selecting the notes' form; the velocity has the learning
rate folded in (and the opposite sign), so it is not the contract's v.
"""


def momentum_step(params, grads, velocities, lr, beta, *, nesterov=False):
    mu, learning_rate = beta, lr
    new_params, new_velocities = [], []
    for w, dw, v in zip(params, grads, velocities):
        v_prev = v
        v = mu * v - learning_rate * dw
        if nesterov:
            next_w = w + (-mu * v_prev + (1 + mu) * v)
        else:
            next_w = w + v
        new_params.append(next_w)
        new_velocities.append(v)
    return new_params, new_velocities
