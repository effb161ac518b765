"""Real: the code of "Gradient Descent diverges, learning rate too high": sum(...)/len(X) per coefficient, in Python loops.

source: https://example-a.com/answer/41151319
verdict: bug
step: gradient
diagnosis: missing_factor_2

Original: `theta0 = theta[0] - alpha * sum( theta[0]+theta[1]*x-y for x,y in zip(X,Y))/len(X);
theta1 = theta[1] - alpha * sum((theta[0]+theta[1]*x-y)*x for x,y in zip(X,Y))/len(X)`
(the answer blames only the learning rate). The gradient is (1/N)·Σ rᵢxᵢ: half the mean squared
error's. Adapted: one such sum per feature (theta[1:] = w, theta[0] = b), tensors out.
"""


def mse_grad(X, y, w, b):
    theta = [float(b)] + [float(v) for v in w]
    rows = X.tolist()
    Y = y.tolist()

    def h(x):
        return theta[0] + sum(t * xj for t, xj in zip(theta[1:], x))

    grad_b = sum(h(x) - yi for x, yi in zip(rows, Y)) / len(rows)
    grad_w = [sum((h(x) - yi) * x[j] for x, yi in zip(rows, Y)) / len(rows) for j in range(len(theta) - 1)]
    return (
        torch.tensor(grad_w, dtype=X.dtype, device=X.device).reshape(w.shape),
        torch.tensor(grad_b, dtype=X.dtype, device=X.device),
    )
