"""Real: d2l's from-scratch training loop: the summed batch gradient divided by batch_size in sgd, also on a short last batch.

source: https://github.com/d2l-ai/d2l-en/blob/013ce9e6442c9edb050fcc24948b768f99f7f05b/chapter_linear-networks/linear-regression-scratch.md
verdict: bug
step: train
diagnosis: nominal_batch_size

Original (MXNet): `for X, y in data_iter(batch_size, features, labels): l = loss(net(X, w, b), y);
l.backward(); sgd([w, b], lr, batch_size)` with `param[:] = param - lr * param.grad / batch_size`;
then `train_l = loss(net(features, w, b), labels)` after each epoch. The book warns it assumes
the number of examples is divisible by the batch size; otherwise the short last batch's sum is
divided by the nominal batch_size. Adapted to the contract's pieces: the batch's summed gradient
is len(rows) · mse_grad, divided by batch_size, then a momentum_step; the epoch's rate, the
generator, init_params and the full-data mse history as the docstring asks.
"""


def train(X, y, *, epochs, batch_size, lr, beta=0.0, generator=None, init_std=0.01):
    n, d = X.shape
    w, b = init_params(d, std=init_std, generator=generator, dtype=X.dtype)
    params = [w.to(X.device), b.to(X.device)]
    velocities = [torch.zeros_like(p) for p in params]
    history = []
    for epoch in range(epochs):
        rate = lr(epoch) if callable(lr) else lr
        for rows in minibatches(n, batch_size, generator=generator):
            rows = rows.to(X.device)
            summed = [g * len(rows) for g in mse_grad(X[rows], y[rows], *params)]
            grads = [g / batch_size for g in summed]
            params, velocities = momentum_step(params, grads, velocities, rate, beta)
        train_l = mse(predict(X, *params), y)
        history.append(float(train_l))
    return params[0], params[1], history
