"""The student contract: which functions exist, and which step of SGD each belongs to."""

from __future__ import annotations

STEPS: tuple[str, ...] = (
    "init",
    "predict",
    "mse",
    "gradient",
    "step",
    "minibatch",
    "momentum",
    "schedule",
    "train",
)

FUNCTION_STEP: dict[str, str] = {
    "init_params": "init",
    "predict": "predict",
    "mse": "mse",
    "mse_grad": "gradient",
    "sgd_step": "step",
    "minibatches": "minibatch",
    "momentum_step": "momentum",
    "exponential_decay": "schedule",
    "step_decay": "schedule",
    "linear_decay": "schedule",
    "cosine_decay": "schedule",
    "train": "train",
}


def functions_of(step: str) -> tuple[str, ...]:
    """The contract functions that make up one step."""
    return tuple(name for name, s in FUNCTION_STEP.items() if s == step)
