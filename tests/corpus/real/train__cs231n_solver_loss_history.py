"""Real: CS231n's Solver: every _step appends its minibatch loss to loss_history, before the update.

source: https://github.com/kingtaurus/cs231n/blob/HEAD/assignment2/cs231n/solver.py
verdict: bug
step: train
diagnosis: history_per_batch

Original: `def _step(self): ... loss, grads = self.model.loss(X_batch, y_batch);
self.loss_history.append(loss); for p, w in self.model.params.items(): ... next_w, next_config =
self.update_rule(w, dw, config)`, and train() calls _step num_epochs * iterations_per_epoch
times. Adapted: the contract's pieces for sampling (minibatches with the generator), loss (mse),
gradient and update (momentum_step), with the epoch's rate; the history is the Solver's
loss_history.
"""


def train(X, y, *, epochs, batch_size, lr, beta=0.0, generator=None, init_std=0.01):
    num_train, d = X.shape
    w, b = init_params(d, std=init_std, generator=generator, dtype=X.dtype)
    params = [w.to(X.device), b.to(X.device)]
    configs = [torch.zeros_like(p) for p in params]
    loss_history = []
    for epoch in range(epochs):
        rate = lr(epoch) if callable(lr) else lr
        for batch_mask in minibatches(num_train, batch_size, generator=generator):
            batch_mask = batch_mask.to(X.device)
            X_batch, y_batch = X[batch_mask], y[batch_mask]
            loss = float(mse(predict(X_batch, *params), y_batch))
            grads = mse_grad(X_batch, y_batch, *params)
            loss_history.append(loss)
            params, configs = momentum_step(params, grads, configs, rate, beta)
    return params[0], params[1], loss_history
