# expect: fail forbidden_import
"""forbidden: imports torch at top level and lets autograd do the work"""

import numpy as np
import torch


def backprop(X, y, weights, biases):
    params = {k: torch.tensor(v, requires_grad=True) for k, v in {**weights, **biases}.items()}
    a1 = torch.sigmoid(torch.tensor(X) @ params["w1"] + params["b1"])
    y_pred = a1 @ params["w2"] + params["b2"]
    loss = 0.5 * ((y_pred - torch.tensor(y)) ** 2).sum()
    loss.backward()
    return {k: np.asarray(p.grad.detach().numpy()) for k, p in params.items()}
