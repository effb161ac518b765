"""Real: "Python gradient descent - cost keeps increasing": theta =- alpha * gradient, a reassignment instead of -=.

source: https://codehunter.cc/a/numpy/python-gradient-descent-cost-keeps-increasing
verdict: bug
step: step
diagnosis: none

Original answer: "you are using: =- and you should be using: -=. Instead of updating theta, you
are reassigning it to - (alpha * gradient)". Adapted: `p =- lr * g` for each parameter, the
results returned as the new list. No registered mistake names a step that forgets p.
"""


def sgd_step(params, grads, lr):
    new_params = []
    for theta, gradient in zip(params, grads):
        # the original's typo, kept: =- reassigns theta to -(lr * gradient)
        theta =- lr * gradient  # fmt: skip
        new_params.append(theta)
    return new_params
