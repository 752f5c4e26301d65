# attack: hang
# expect: error
# must: stop it at the wall-clock limit (timeout) and go on with the next submission
"""spins forever in pure Python inside backprop"""


def backprop(X, y, weights, biases):
    n = 0
    while True:
        n += 1
