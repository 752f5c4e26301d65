# expect: fail missing_activation_derivative
"""bug: conv_relu_backward passes dout straight to the conv backward, skipping the relu
gate; the conv is written inline (einsum over strided windows), so only the sandwich is
defined."""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _windows(x, w, conv_param):
    p, s = conv_param['pad'], conv_param['stride']
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    return xp, sliding_window_view(xp, w.shape[2:], axis=(2, 3))[:, :, ::s, ::s]


def conv_relu_forward(x, w, b, conv_param):
    _, win = _windows(x, w, conv_param)
    a = np.einsum('nchwij,fcij->nfhw', win, w) + b[:, None, None]
    out = np.maximum(a, 0)
    return out, (x, w, b, conv_param, a)


def conv_relu_backward(dout, cache):
    x, w, b, conv_param, a = cache
    p, s = conv_param['pad'], conv_param['stride']
    xp, win = _windows(x, w, conv_param)
    da = dout  # TODO relu? (forgot)
    dw = np.einsum('nchwij,nfhw->fcij', win, da)
    db = da.sum(axis=(0, 2, 3))
    g = np.einsum('nfhw,fcij->nchwij', da, w)
    dxp = np.zeros(xp.shape)
    Ho, Wo = da.shape[2:]
    for i in range(w.shape[2]):
        for j in range(w.shape[3]):
            dxp[:, :, i:i + s * (Ho - 1) + 1:s, j:j + s * (Wo - 1) + 1:s] += g[..., i, j]
    return dxp[:, :, p:p + x.shape[2], p:p + x.shape[3]], dw, db
