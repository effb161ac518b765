"""Small hypothesis strategies, composed into the inputs each step needs.

Values are float32-representable and bounded, so float32 and float64 submissions are
judged on the same numbers, and shrinking heads for small, round counterexamples.
"""

from __future__ import annotations

import torch
from hypothesis import strategies as st

dtypes = st.sampled_from([torch.float32, torch.float64])


def numbers(bound: float = 10.0) -> st.SearchStrategy[float]:
    return st.floats(-bound, bound, allow_nan=False, allow_infinity=False, allow_subnormal=False, width=32)


def tensors(shape: tuple[int, ...], dtype: torch.dtype, bound: float = 10.0) -> st.SearchStrategy[torch.Tensor]:
    count = 1
    for size in shape:
        count *= size
    return st.lists(numbers(bound), min_size=count, max_size=count).map(
        lambda values: torch.tensor(values, dtype=dtype).reshape(shape)
    )


@st.composite
def pairs(draw: st.DrawFn, max_n: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """(preds, targets): two vectors of one length and dtype."""
    dtype, n = draw(dtypes), draw(st.integers(1, max_n))
    return draw(tensors((n,), dtype)), draw(tensors((n,), dtype))


@st.composite
def linear_problems(draw: st.DrawFn, max_n: int = 8, max_d: int = 4) -> tuple[torch.Tensor, ...]:
    """(X, y, w, b): a batch of N rows with D features, targets, weights and a bias."""
    dtype = draw(dtypes)
    n, d = draw(st.integers(1, max_n)), draw(st.integers(1, max_d))
    return (
        draw(tensors((n, d), dtype)),
        draw(tensors((n,), dtype)),
        draw(tensors((d,), dtype)),
        draw(tensors((), dtype)),
    )


learning_rates = st.floats(0.0, 2.0, allow_subnormal=False, width=32)
betas = st.floats(0.0, 0.984375, allow_subnormal=False, width=32)


@st.composite
def parameter_lists(draw: st.DrawFn, with_velocities: bool = False) -> tuple:
    """(params, grads[, velocities]): 1-3 tensors of assorted shapes (0-dim included)."""
    dtype = draw(dtypes)
    shapes = draw(st.lists(st.sampled_from([(), (1,), (3,), (2, 2)]), min_size=1, max_size=3))
    lists = [[draw(tensors(shape, dtype)) for shape in shapes] for _ in range(3 if with_velocities else 2)]
    return tuple(lists)


epoch_sizes = st.tuples(st.integers(1, 30), st.integers(1, 12))
"""(n, batch_size) for one epoch of minibatches."""
