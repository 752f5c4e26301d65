# attack: flood
# expect: not-pass
# must: call it a bad return and quote it briefly: an 8 MB string must not land in every report
"""returns an 8 MB string as w1's gradient (and shorter ones for the rest)"""


def backprop(X, y, weights, biases):
    text = "flood " * (8 * (1 << 20) // 6)
    return {"w1": text, "b1": text[:1000], "w2": text[:100], "b2": "x"}
