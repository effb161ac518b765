"""Real: d2l's linear regression from scratch draws w with random.normal(scale=0.01) and sets b to 0.

source: https://github.com/d2l-ai/d2l-en/blob/013ce9e6442c9edb050fcc24948b768f99f7f05b/chapter_linear-networks/linear-regression-scratch.md
verdict: bug
step: init
diagnosis: ignores_generator

Original (MXNet): `w = nd.random.normal(scale=0.01, shape=(num_inputs, 1)); b = nd.zeros(shape=(1,))`
(the PyTorch tab: `torch.normal(0, 0.01, size=(2, 1))`). Adapted: torch.normal, scale is std,
w has shape (n_features,) and b is 0-dim, in the requested dtype and device. The draw comes
from the library's global random state, as in the book, which has no generator.
"""


def init_params(n_features, *, std=0.01, generator=None, dtype=torch.float32, device="cpu"):
    w = torch.normal(0, std, size=(n_features,), dtype=dtype, device=device)
    b = torch.zeros((), dtype=dtype, device=device)
    return w, b
