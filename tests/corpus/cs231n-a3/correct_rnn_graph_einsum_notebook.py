# expect: pass
"""correct, notebook-exported rnn_layers with step-by-step computational graphs, einsum, np.split for the LSTM gates, leftover prints, plots and top-level test code"""

import matplotlib.pyplot as plt
import numpy as np
from cs231n.gradient_check import eval_numerical_gradient_array, rel_error

plt.rcParams["figure.figsize"] = (10.0, 8.0)
np.random.seed(231)
DEBUG = False


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    # step 1: the two matrix products
    xWx = np.einsum("nd,dh->nh", x, Wx)
    hWh = np.einsum("nh,hk->nk", prev_h, Wh)
    # step 2: add the bias
    a = xWx + hWh + b
    # step 3: squash
    next_h = np.tanh(a)
    if DEBUG:
        print("a", a.shape, "next_h", next_h.shape)
    cache = (x, prev_h, Wx, Wh, a)
    return next_h, cache


def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, a = cache
    # step 3 backwards: d tanh(a) / da = 1 - tanh(a)^2
    da = dnext_h * (1 - np.tanh(a) ** 2)
    # step 2 backwards
    db = np.einsum("nh->h", da)
    # step 1 backwards
    dx = np.einsum("nh,dh->nd", da, Wx)
    dWx = np.einsum("nd,nh->dh", x, da)
    dprev_h = np.einsum("nk,hk->nh", da, Wh)
    dWh = np.einsum("nh,nk->hk", prev_h, da)
    return dx, dprev_h, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b):
    h, cache = [], []
    prev = h0
    for x_t in np.moveaxis(x, 1, 0):
        prev, c = rnn_step_forward(x_t, prev, Wx, Wh, b)
        h.append(prev)
        cache.append(c)
    h = np.stack(h, axis=1)
    return h, cache


def rnn_backward(dh, cache):
    dxs = []
    dWx = dWh = db = 0
    dh_next = np.zeros_like(dh[:, 0, :])
    for t in range(dh.shape[1] - 1, -1, -1):
        dx_t, dh_next, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t, :] + dh_next, cache[t])
        dxs.insert(0, dx_t)
        dWx = dWx + dWx_t
        dWh = dWh + dWh_t
        db = db + db_t
    dx = np.stack(dxs, axis=1)
    dh0 = dh_next
    return dx, dh0, dWx, dWh, db


def word_embedding_forward(x, W):
    V = W.shape[0]
    one_hot = np.eye(V)[x]  # (N, T, V)
    out = np.einsum("ntv,vd->ntd", one_hot, W)
    return out, one_hot


def word_embedding_backward(dout, cache):
    one_hot = cache
    dW = np.einsum("ntv,ntd->vd", one_hot, dout)
    return dW


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    a = np.einsum("nd,dk->nk", x, Wx) + np.einsum("nh,hk->nk", prev_h, Wh) + b
    ai, af, ao, ag = np.split(a, 4, axis=1)
    i = 1 / (1 + np.exp(-ai))
    f = 1 / (1 + np.exp(-af))
    o = 1 / (1 + np.exp(-ao))
    g = np.tanh(ag)
    fc = f * prev_c
    ig = i * g
    next_c = fc + ig
    tc = np.tanh(next_c)
    next_h = o * tc
    cache = dict(x=x, prev_h=prev_h, prev_c=prev_c, Wx=Wx, Wh=Wh, i=i, f=f, o=o, g=g, tc=tc)
    return next_h, next_c, cache


def lstm_step_backward(dnext_h, dnext_c, cache):
    c = cache
    # next_h = o * tc
    do = dnext_h * c["tc"]
    dtc = dnext_h * c["o"]
    # tc = tanh(next_c); next_c also gets its own upstream gradient
    dnext_c_total = dnext_c + dtc * (1 - c["tc"] ** 2)
    # next_c = f * prev_c + i * g
    df = dnext_c_total * c["prev_c"]
    dprev_c = dnext_c_total * c["f"]
    di = dnext_c_total * c["g"]
    dg = dnext_c_total * c["i"]
    # the activations
    dai = di * c["i"] * (1 - c["i"])
    daf = df * c["f"] * (1 - c["f"])
    dao = do * c["o"] * (1 - c["o"])
    dag = dg * (1 - c["g"] ** 2)
    da = np.concatenate([dai, daf, dao, dag], axis=1)
    dx = np.einsum("nk,dk->nd", da, c["Wx"])
    dprev_h = np.einsum("nk,hk->nh", da, c["Wh"])
    dWx = np.einsum("nd,nk->dk", c["x"], da)
    dWh = np.einsum("nh,nk->hk", c["prev_h"], da)
    db = da.sum(0)
    return dx, dprev_h, dprev_c, dWx, dWh, db


def lstm_forward(x, h0, Wx, Wh, b):
    T = x.shape[1]
    hs, cache = [], []
    h_t, c_t = h0, np.zeros_like(h0)
    for t in range(T):
        h_t, c_t, step = lstm_step_forward(x[:, t], h_t, c_t, Wx, Wh, b)
        hs.append(h_t)
        cache.append(step)
    return np.stack(hs, 1), cache


def lstm_backward(dh, cache):
    T = dh.shape[1]
    dx = [None] * T
    dh_carry = np.zeros_like(dh[:, 0])
    dc_carry = np.zeros_like(dh[:, 0])
    dWx, dWh, db = 0.0, 0.0, 0.0
    for t in reversed(range(T)):
        out = lstm_step_backward(dh[:, t] + dh_carry, dc_carry, cache[t])
        dx[t], dh_carry, dc_carry = out[0], out[1], out[2]
        dWx += out[3]
        dWh += out[4]
        db += out[5]
    return np.stack(dx, 1), dh_carry, dWx, dWh, db


def temporal_affine_forward(x, w, b):
    out = np.einsum("ntd,dm->ntm", x, w) + b
    return out, (x, w, b)


def temporal_affine_backward(dout, cache):
    x, w, b = cache
    dx = np.einsum("ntm,dm->ntd", dout, w)
    dw = np.einsum("ntd,ntm->dm", x, dout)
    db = np.einsum("ntm->m", dout)
    return dx, dw, db


def temporal_softmax_loss(x, y, mask, verbose=False):
    N, T, V = x.shape
    shifted = x - x.max(axis=2, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))
    one_hot = np.eye(V)[y]
    loss = -np.einsum("nt,ntv,ntv->", mask.astype(float), one_hot, log_probs) / N
    dx = (np.exp(log_probs) - one_hot) * mask[:, :, None] / N
    if verbose:
        print("dx: ", dx.shape)
    return loss, dx


# ---- notebook cells left at the end of the file ----
N, T, D, H = 2, 3, 4, 5
x = np.random.randn(N, T, D)
h0 = np.random.randn(N, H)
Wx = np.random.randn(D, H)
Wh = np.random.randn(H, H)
b = np.random.randn(H)
out, cache = rnn_forward(x, h0, Wx, Wh, b)
dout = np.random.randn(*out.shape)
dx, dh0, dWx, dWh, db = rnn_backward(dout, cache)
fx = lambda x: rnn_forward(x, h0, Wx, Wh, b)[0]
dx_num = eval_numerical_gradient_array(fx, x, dout)
print("dx error: ", rel_error(dx_num, dx))
plt.plot(out[0])
plt.show()
