"""Real: the Keras custom loss from "RMSE/RMSLE loss function in Keras": K.sqrt(K.mean(K.square(y_pred - y_true))).

source: https://stackoverflow.com/questions/43855162/rmse-rmsle-loss-function-in-keras
verdict: bug
step: mse
diagnosis: rmse

Original: `def root_mean_squared_error(y_true, y_pred): return K.sqrt(K.mean(K.square(y_pred - y_true)))`,
used as the model's loss. Adapted: torch for the Keras backend.
"""


def mse(preds, targets):
    return torch.sqrt(torch.mean(torch.square(preds - targets)))
