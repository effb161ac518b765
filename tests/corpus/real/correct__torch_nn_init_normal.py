"""Real: torch.nn.init.normal_(tensor, mean, std, generator) fills w in place; the bias is zeros.

source: https://github.com/pytorch/pytorch/blob/main/torch/nn/init.py
verdict: correct
step: none
diagnosis: none

Original: `def normal_(tensor, mean=0.0, std=1.0, generator=None)`: `tensor.normal_(mean, std,
generator=generator)` under no_grad. Used here on a fresh empty tensor, so the draws come from
the generator; they equal torch.randn(...) * std up to rounding.
"""


def init_params(n_features, *, std=0.01, generator=None, dtype=torch.float32, device="cpu"):
    w = torch.empty(n_features, dtype=dtype, device=device)
    torch.nn.init.normal_(w, mean=0.0, std=std, generator=generator)
    return w, torch.nn.init.zeros_(torch.empty((), dtype=dtype, device=device))
