import numpy as np

from gradcheck import check_gradients


def loss(p):  # L(w) = Σ sin(w)
    return np.sum(np.sin(p["w"]))


def grad(p):  # its gradient, with a planted 0.1 % error
    return {"w": np.cos(p["w"]) * 1.001}


result = check_gradients(loss, grad, {"w": np.array([0.1, 2.0])})
print(result.summary())
assert result.verdict == "fail"
