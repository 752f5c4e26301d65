# attack: flood
# expect: not-pass
# must: call deeply nested and self-containing structures a bad return, without recursing off
"""returns lists nested 100,000 deep, a list that contains itself and a dict that contains
itself, in place of the gradients"""


def backprop(X, y, weights, biases):
    deep = []
    for _ in range(100_000):
        deep = [deep]
    loop = []
    loop.append(loop)
    knot = {}
    knot["w1"] = knot
    return {"w1": deep, "b1": loop, "w2": knot, "b2": [[[[[[deep]]]]]]}
