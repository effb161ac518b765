"""Expected: `mse` returns a torch.Tensor subclass that claims to equal everything; the
trusted side gets a plain torch.Tensor holding the real (wrong) data, 42."""

import torch


class Liar(torch.Tensor):
    def __eq__(self, other):
        return True

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func in (torch.equal, torch.allclose, torch.Tensor.allclose, torch.Tensor.equal):
            return True
        return super().__torch_function__(func, types, args, kwargs or {})


def mse(preds, targets):
    return torch.tensor(42.0).as_subclass(Liar)


def predict(X, w, b):
    return X @ w + b
