# attack: flood
# expect: not-pass
# must: stop it: a 40-level tree of shared references unfolds into 2**40 nodes when encoded
"""returns a list of two references to a list of two references to ... 40 levels deep: tiny in
memory, astronomically large when walked"""


def backprop(X, y, weights, biases):
    tree = [1.0]
    for _ in range(40):
        tree = [tree, tree]
    return {"w1": tree, "b1": tree, "w2": tree, "b2": tree}
