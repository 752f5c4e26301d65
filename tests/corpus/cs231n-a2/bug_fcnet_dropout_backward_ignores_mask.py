# expect: partial
# Its dropout draws with np.random.binomial, so its masks are not the seed's replay and its
# dropout cases are judged by finite differences of its own loss: the backward ignores the mask.
import numpy as np


def affine_forward(x, w, b):
    return np.einsum("nd,dm->nm", x.reshape(len(x), -1), w) + b, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    return (dout @ w.T).reshape(x.shape), np.einsum("nd,nm->dm", x.reshape(len(x), -1), dout), dout.sum(0)


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    if mode == "train":
        mask = np.random.binomial(1, p, size=x.shape) / p
        return x * mask, (mode, mask)
    return x, (mode, None)


def dropout_backward(dout, cache):
    mode, mask = cache
    p = mask.max() if mask is not None and mask.any() else 1.0
    return dout / p if mode == "train" else dout  # forgot the mask, kept the 1/p


def layernorm_forward(x, gamma, beta, ln_param):
    eps = ln_param.get("eps", 1e-5)
    xc = x - x.mean(1, keepdims=True)
    ivar = 1.0 / np.sqrt((xc ** 2).mean(1, keepdims=True) + eps)
    xn = xc * ivar
    return gamma * xn + beta, (xn, ivar, gamma)


def layernorm_backward(dout, cache):
    xn, ivar, gamma = cache
    dxn = dout * gamma
    dx = ivar * (dxn - dxn.mean(1, keepdims=True) - xn * (dxn * xn).mean(1, keepdims=True))
    return dx, (dout * xn).sum(0), dout.sum(0)


def batchnorm_forward(x, gamma, beta, bn_param):
    eps = bn_param.get("eps", 1e-5)
    m = bn_param.get("momentum", 0.9)
    D = x.shape[1]
    rm = bn_param.get("running_mean", np.zeros(D))
    rv = bn_param.get("running_var", np.zeros(D))
    if bn_param["mode"] == "train":
        mu, var = x.mean(0), x.var(0)
        bn_param["running_mean"] = m * rm + (1 - m) * mu
        bn_param["running_var"] = m * rv + (1 - m) * var
    else:
        mu, var = rm, rv
    ivar = 1.0 / np.sqrt(var + eps)
    xn = (x - mu) * ivar
    return gamma * xn + beta, (xn, ivar, gamma)


def batchnorm_backward(dout, cache):
    xn, ivar, gamma = cache
    dxn = dout * gamma
    dx = ivar * (dxn - dxn.mean(0) - xn * (dxn * xn).mean(0))
    return dx, (dout * xn).sum(0), dout.sum(0)


def softmax_loss(x, y):
    p = np.exp(x - x.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    n = len(y)
    loss = -np.log(p[range(n), y]).sum() / n
    p[range(n), y] -= 1
    return loss, p / n


class FullyConnectedNet:
    def __init__(self, hidden_dims, input_dim=3 * 32 * 32, num_classes=10,
                 dropout_keep_ratio=1, normalization=None, reg=0.0,
                 weight_scale=1e-2, dtype=np.float32, seed=None):
        self.normalization = normalization
        self.use_dropout = dropout_keep_ratio != 1
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = dtype
        dims = [input_dim, *hidden_dims, num_classes]
        self.params = {}
        for i, (a, b) in enumerate(zip(dims[:-1], dims[1:]), 1):
            self.params[f"W{i}"] = (weight_scale * np.random.randn(a, b)).astype(dtype)
            self.params[f"b{i}"] = np.zeros(b, dtype=dtype)
            if normalization and i < self.num_layers:
                self.params[f"gamma{i}"] = np.ones(b, dtype=dtype)
                self.params[f"beta{i}"] = np.zeros(b, dtype=dtype)
        self.dropout_param = {"mode": "train", "p": dropout_keep_ratio}
        if seed is not None:
            self.dropout_param["seed"] = seed
        self.bn_params = [{"mode": "train"} for _ in range(self.num_layers - 1)]

    def loss(self, X, y=None):
        X = X.astype(self.dtype)
        mode = "test" if y is None else "train"
        self.dropout_param["mode"] = mode
        for bp in self.bn_params:
            bp["mode"] = mode
        norm = {"batchnorm": (batchnorm_forward, batchnorm_backward),
                "layernorm": (layernorm_forward, layernorm_backward)}.get(self.normalization)
        h, stack = X, []
        for i in range(1, self.num_layers):
            h, c_fc = affine_forward(h, self.params[f"W{i}"], self.params[f"b{i}"])
            c_norm = None
            if norm:
                h, c_norm = norm[0](h, self.params[f"gamma{i}"], self.params[f"beta{i}"], self.bn_params[i - 1])
            relu_mask = h > 0
            h = h * relu_mask
            c_drop = None
            if self.use_dropout:
                h, c_drop = dropout_forward(h, self.dropout_param)
            stack.append((c_fc, c_norm, relu_mask, c_drop))
        L = self.num_layers
        scores, c_last = affine_forward(h, self.params[f"W{L}"], self.params[f"b{L}"])
        if mode == "test":
            return scores

        loss, d = softmax_loss(scores, y)
        grads = {}
        d, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(d, c_last)
        for i in range(L - 1, 0, -1):
            c_fc, c_norm, relu_mask, c_drop = stack[i - 1]
            if self.use_dropout:
                d = dropout_backward(d, c_drop)
            d = d * relu_mask
            if norm:
                d, grads[f"gamma{i}"], grads[f"beta{i}"] = norm[1](d, c_norm)
            d, grads[f"W{i}"], grads[f"b{i}"] = affine_backward(d, c_fc)
        for i in range(1, L + 1):
            W = self.params[f"W{i}"]
            loss += 0.5 * self.reg * np.sum(W * W)
            grads[f"W{i}"] += self.reg * W
        return loss, grads
