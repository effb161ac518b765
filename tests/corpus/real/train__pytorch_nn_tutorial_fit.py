"""Real: PyTorch's "What is torch.nn really?" first fit loop: xb = x_train[start_i:end_i] in order, no shuffling.

source: https://github.com/pytorch/tutorials/blob/main/beginner_source/nn_tutorial.py
verdict: bug
step: train
diagnosis: fixed_seed

Original: `for epoch in range(epochs): for i in range((n - 1) // bs + 1): start_i = i * bs;
end_i = start_i + bs; xb = x_train[start_i:end_i]; yb = y_train[start_i:end_i]; pred = model(xb);
loss = loss_func(pred, yb); loss.backward(); with torch.no_grad(): weights -= weights.grad * lr ...`.
The tutorial shuffles only later, with a DataLoader. Adapted: init_params for the tutorial's
randn / sqrt(784) weights, mse_grad for loss.backward(), momentum_step for the update, the epoch's
rate, and the full-data mse history the contract asks for.
"""


def train(X, y, *, epochs, batch_size, lr, beta=0.0, generator=None, init_std=0.01):
    n, d = X.shape
    bs = batch_size
    weights, bias = init_params(d, std=init_std, generator=generator, dtype=X.dtype)
    params = [weights.to(X.device), bias.to(X.device)]
    velocities = [torch.zeros_like(p) for p in params]
    history = []
    for epoch in range(epochs):
        rate = lr(epoch) if callable(lr) else lr
        for i in range((n - 1) // bs + 1):
            start_i = i * bs
            end_i = start_i + bs
            xb = X[start_i:end_i]
            yb = y[start_i:end_i]
            grads = mse_grad(xb, yb, *params)
            params, velocities = momentum_step(params, grads, velocities, rate, beta)
        history.append(float(mse(predict(X, *params), y)))
    return params[0], params[1], history
