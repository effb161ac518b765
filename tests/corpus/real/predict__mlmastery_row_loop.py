"""Real: Machine Learning Mastery's predict loops over range(len(row)-1), because its rows end with the target.

source: https://machinelearningmastery.com/implement-linear-regression-stochastic-gradient-descent-scratch-python/
verdict: bug
step: predict
diagnosis: missing_feature

Original: `yhat = coefficients[0]; for i in range(len(row)-1): yhat += coefficients[i + 1] * row[i]`,
with coefficients[0] the bias. In that tutorial each row's last entry is the target, so the
loop skips it; here the rows of X hold features only, so the last feature is dropped. Adapted:
coefficients = [b, w...], one prediction per row of X, returned as a tensor.
"""


def predict(X, w, b):
    coefficients = [b] + list(w)
    preds = []
    for row in X:
        yhat = coefficients[0]
        for i in range(len(row) - 1):
            yhat = yhat + coefficients[i + 1] * row[i]
        preds.append(yhat)
    return torch.stack(preds) if preds else X.new_zeros(0)
