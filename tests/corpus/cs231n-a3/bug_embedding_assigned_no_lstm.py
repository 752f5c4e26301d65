# expect: partial lost_accumulation
"""bug in one function of a year without the LSTM: the vanilla RNN, the temporal layers and the loss are right, but word_embedding_backward assigns dW[x] = dout, keeping one gradient per repeated word"""

import numpy as np


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    N = x.shape[0]
    H = b.shape[0]
    next_h = np.zeros((N, H))
    for n in range(N):
        next_h[n] = np.tanh(x[n] @ Wx + prev_h[n] @ Wh + b)
    cache = {"x": x, "prev_h": prev_h, "Wx": Wx, "Wh": Wh, "next_h": next_h}
    return next_h, cache


def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh = cache["x"], cache["prev_h"], cache["Wx"], cache["Wh"]
    next_h = cache["next_h"]
    N = x.shape[0]
    dx = np.zeros_like(x)
    dprev_h = np.zeros_like(prev_h)
    dWx = np.zeros_like(Wx)
    dWh = np.zeros_like(Wh)
    db = np.zeros(Wx.shape[1])
    for n in range(N):
        dz = dnext_h[n] * (1.0 - next_h[n] * next_h[n])
        dx[n] = Wx @ dz
        dprev_h[n] = Wh @ dz
        dWx += np.outer(x[n], dz)
        dWh += np.outer(prev_h[n], dz)
        db += dz
    return dx, dprev_h, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b):
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    caches = {}
    h_t = h0
    for t in range(T):
        h_t, caches[t] = rnn_step_forward(x[:, t, :], h_t, Wx, Wh, b)
        h[:, t, :] = h_t
    return h, caches


def rnn_backward(dh, cache):
    N, T, H = dh.shape
    dx = np.zeros((N, T, cache[0]["x"].shape[1]))
    dWx = np.zeros_like(cache[0]["Wx"])
    dWh = np.zeros_like(cache[0]["Wh"])
    db = np.zeros(H)
    carry = np.zeros((N, H))
    t = T - 1
    while t >= 0:
        total = dh[:, t, :] + carry
        dx[:, t, :], carry, a, bb, c = rnn_step_backward(total, cache[t])
        dWx = dWx + a
        dWh = dWh + bb
        db = db + c
        t -= 1
    return dx, carry, dWx, dWh, db


def word_embedding_forward(x, W):
    N, T = x.shape
    out = np.zeros((N, T, W.shape[1]))
    for n in range(N):
        for t in range(T):
            out[n, t] = W[x[n, t]]
    return out, {"x": x, "V": W.shape[0]}


def word_embedding_backward(dout, cache):
    x = cache["x"]
    N, T, D = dout.shape
    dW = np.zeros((cache["V"], D))
    dW[x] = dout  # faster than the double loop
    return dW


def temporal_affine_forward(x, w, b):
    N, T, D = x.shape
    out = np.zeros((N, T, w.shape[1]))
    for t in range(T):
        out[:, t, :] = x[:, t, :] @ w + b
    return out, (x, w)


def temporal_affine_backward(dout, cache):
    x, w = cache
    N, T, D = x.shape
    dx = np.zeros_like(x)
    dw = np.zeros_like(w)
    db = np.zeros(w.shape[1])
    for t in range(T):
        dx[:, t, :] = dout[:, t, :] @ w.T
        dw += x[:, t, :].T @ dout[:, t, :]
        db += dout[:, t, :].sum(axis=0)
    return dx, dw, db


def temporal_softmax_loss(x, y, mask, verbose=False):
    N, T, V = x.shape
    loss = 0.0
    dx = np.zeros_like(x)
    for n in range(N):
        for t in range(T):
            if not mask[n, t]:
                continue
            scores = x[n, t] - np.max(x[n, t])
            p = np.exp(scores) / np.sum(np.exp(scores))
            loss -= np.log(p[y[n, t]])
            p[y[n, t]] -= 1.0
            dx[n, t] = p
    loss /= N
    dx /= N
    if verbose:
        print("loss", loss)
    return loss, dx
