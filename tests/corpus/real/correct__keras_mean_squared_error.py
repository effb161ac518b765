"""Real: Keras' mean_squared_error loss: ops.mean(ops.square(y_true - y_pred), axis=-1).

source: https://github.com/keras-team/keras/blob/master/keras/src/losses/losses.py
verdict: correct
step: none
diagnosis: none

Original: `return ops.mean(ops.square(y_true - y_pred), axis=-1)`. Adapted: torch for keras.ops;
with 1-dim inputs, axis -1 is the only axis, so the result is 0-dim.
"""


def mse(preds, targets):
    y_true, y_pred = targets, preds
    return torch.mean(torch.square(y_true - y_pred), dim=-1)
