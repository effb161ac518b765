"""Real: the torch.optim training loop (optimizer.zero_grad(); gradients; optimizer.step()), with the lr set per epoch.

source: https://pytorch.org/docs/stable/optim.html
verdict: correct
step: none
diagnosis: none

Original (torch.optim docs): `optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)`;
`for input, target in dataset: optimizer.zero_grad(); output = model(input); loss = loss_fn(output,
target); loss.backward(); optimizer.step()`; and to change the rate, `for param_group in
optimizer.param_groups: param_group['lr'] = lr`. Adapted: the batches come from minibatches with
the generator and the gradients from mse_grad (set as .grad, where backward() would put them);
torch's momentum is the contract's (dampening 0); history is the full-data mse after each epoch.
"""


def train(X, y, *, epochs, batch_size, lr, beta=0.0, generator=None, init_std=0.01):
    n, d = X.shape
    w, b = init_params(d, std=init_std, generator=generator, dtype=X.dtype)
    params = [w.to(X.device).requires_grad_(True), b.to(X.device).requires_grad_(True)]
    optimizer = torch.optim.SGD(params, lr=0.0, momentum=beta)
    history = []
    for epoch in range(epochs):
        for param_group in optimizer.param_groups:
            param_group["lr"] = lr(epoch) if callable(lr) else lr
        for rows in minibatches(n, batch_size, generator=generator):
            rows = rows.to(X.device)
            optimizer.zero_grad()
            with torch.no_grad():
                grads = mse_grad(X[rows], y[rows], *[p.detach() for p in params])
            for p, g in zip(params, grads):
                p.grad = g.detach().clone()
            optimizer.step()
        with torch.no_grad():
            history.append(float(mse(predict(X, *[p.detach() for p in params]), y)))
    return params[0].detach(), params[1].detach(), history
