"""Real: a question on Stack Overflow in Japanese: cost ½‖Xb − y‖², gradient X.T.dot(h - y) (no 2, no 1/N).

source: https://gamwe6.github.io/obafuro/python/%E6%A9%9F%E6%A2%B0%E5%AD%A6%E7%BF%92/2018/08/22/47721.html
verdict: bug
step: gradient
diagnosis: sum_without_factor_2

Original: `h = X.dot(param); loss = h - y; gradient = X.T.dot(loss); param = param - eta * gradient`,
with a leading column of ones in X and `costf = np.sum((X.dot(param) - y) ** 2)/2.`. For the mean
squared error this gradient is N/2 times too big. Adapted: param = [b, w], split back into
(grad_w, grad_b).
"""

import numpy as np


def mse_grad(X, y, w, b):
    Xn = X.detach().cpu().numpy()
    X1 = np.concatenate([np.ones((len(Xn), 1), dtype=Xn.dtype), Xn], axis=1)
    param = np.concatenate([[b.item()], w.detach().cpu().numpy()]).astype(Xn.dtype)
    h = X1.dot(param)
    loss = h - y.detach().cpu().numpy()
    gradient = torch.as_tensor(X1.T.dot(loss), dtype=X.dtype, device=X.device)
    return gradient[1:], gradient[0]
