"""Real: deeplearning.ai's optimization model(): cost_total += compute_cost(...) per minibatch before its update; costs.append(cost_total / m).

source: https://github.com/Kulbear/deep-learning-coursera/blob/master/Improving%20Deep%20Neural%20Networks%20Hyperparameter%20tuning%2C%20Regularization%20and%20Optimization/Optimization%20methods.ipynb
verdict: bug
step: train
diagnosis: minibatch_loss_history

Original: `for i in range(num_epochs): seed = seed + 1; minibatches = random_mini_batches(X, Y,
mini_batch_size, seed); cost_total = 0; for minibatch in minibatches: a3, caches =
forward_propagation(minibatch_X, parameters); cost_total += compute_cost(a3, minibatch_Y); grads =
backward_propagation(...); parameters, v = update_parameters_with_momentum(...)`, then
`cost_avg = cost_total / m; costs.append(cost_avg)` (compute_cost sums over the batch). Adapted:
the contract's pieces (init_params, minibatches with the generator, predict, mse × batch length
for the summed cost, mse_grad, momentum_step), a history entry every epoch.
"""


def train(X, y, *, epochs, batch_size, lr, beta=0.0, generator=None, init_std=0.01):
    m, d = X.shape
    w, b = init_params(d, std=init_std, generator=generator, dtype=X.dtype)
    parameters = [w.to(X.device), b.to(X.device)]
    v = [torch.zeros_like(p) for p in parameters]
    costs = []
    for i in range(epochs):
        learning_rate = lr(i) if callable(lr) else lr
        cost_total = 0.0
        for rows in minibatches(m, batch_size, generator=generator):
            rows = rows.to(X.device)
            minibatch_X, minibatch_Y = X[rows], y[rows]
            a3 = predict(minibatch_X, *parameters)
            cost_total += float(mse(a3, minibatch_Y)) * len(rows)
            grads = mse_grad(minibatch_X, minibatch_Y, *parameters)
            parameters, v = momentum_step(parameters, grads, v, learning_rate, beta)
        cost_avg = cost_total / m
        costs.append(cost_avg)
    return parameters[0], parameters[1], costs
