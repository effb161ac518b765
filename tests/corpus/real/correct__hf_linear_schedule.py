"""Real: Hugging Face's get_linear_schedule_with_warmup: max(0, (num_training_steps − step) / (num_training_steps − warmup)).

source: https://github.com/huggingface/transformers/blob/main/src/transformers/optimization.py
verdict: correct
step: none
diagnosis: none

Original: `_get_linear_schedule_with_warmup_lr_lambda(current_step, *, num_warmup_steps,
num_training_steps)`: after warmup, `return max(0.0, float(num_training_steps - current_step) /
float(max(1, num_training_steps - num_warmup_steps)))`, a factor on the initial rate that
reaches 0 at the end and stays there. Adapted: no warmup; the factor scales lr0 − lr_end above
lr_end (Hugging Face decays to 0).
"""


def _lr_lambda(current_step, *, num_warmup_steps, num_training_steps):
    if current_step < num_warmup_steps:
        return float(current_step) / float(max(1, num_warmup_steps))
    return max(0.0, float(num_training_steps - current_step) / float(max(1, num_training_steps - num_warmup_steps)))


def linear_decay(lr0, lr_end, total, t):
    return lr_end + (lr0 - lr_end) * _lr_lambda(t, num_warmup_steps=0, num_training_steps=total)
