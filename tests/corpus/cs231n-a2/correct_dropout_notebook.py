# expect: partial
"""correct inverted dropout exported from a notebook: the mask drawn as np.random.uniform(size=x.shape) >= 1 - p (valid, but not the course's replay), with prints and a top-level sanity check over several p"""

import numpy as np

print("dropout cell")


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    mask = None
    if mode == "train":
        keep = np.random.uniform(size=x.shape) >= 1 - p
        mask = keep.astype(x.dtype) / p
        out = x * mask
    elif mode == "test":
        out = x
    # print('fraction kept', (out != 0).mean())
    return out, (dropout_param, mask)


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    if dropout_param["mode"] == "train":
        dx = dout * mask
    else:
        dx = dout
    return dx


x = np.random.randn(500, 500) + 10
for p in [0.25, 0.4, 0.7]:
    out, _ = dropout_forward(x, {"mode": "train", "p": p})
    out_test, _ = dropout_forward(x, {"mode": "test", "p": p})
    print("Running tests with p = ", p)
    print("Mean of input: ", x.mean())
    print("Mean of train-time output: ", out.mean())
    print("Mean of test-time output: ", out_test.mean())
    print("Fraction of train-time output set to zero: ", (out == 0).mean())
