# expect: partial
"""correct: exported from a notebook -- einsum over strided views, shape prints left in,
a top-level sanity check that runs at import, and avg pooling as well as max pooling."""

import numpy as np
from numpy.lib.stride_tricks import as_strided

DEBUG = True

# In[1]:


def _views(x, kh, kw, stride):
    # (N, C, Hout, Wout, kh, kw) view without copying
    N, C, H, W = x.shape
    Hout = (H - kh) // stride + 1
    Wout = (W - kw) // stride + 1
    sN, sC, sH, sW = x.strides
    return as_strided(
        x,
        shape=(N, C, Hout, Wout, kh, kw),
        strides=(sN, sC, sH * stride, sW * stride, sH, sW),
        writeable=False,
    )


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param['stride'], conv_param['pad']
    xp = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)])
    v = _views(np.ascontiguousarray(xp), w.shape[2], w.shape[3], stride)
    if DEBUG:
        print("conv fwd: x", x.shape, "-> patches", v.shape)
    out = np.einsum('nchwij,fcij->nfhw', v, w) + b[None, :, None, None]
    return out, (x, w, b, conv_param)


# In[2]:


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param['stride'], conv_param['pad']
    xp = np.ascontiguousarray(np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)]))
    HH, WW = w.shape[2], w.shape[3]
    v = _views(xp, HH, WW, stride)
    dw = np.einsum('nchwij,nfhw->fcij', v, dout)
    db = np.einsum('nfhw->f', dout)
    dxp = np.zeros_like(xp)
    Hout, Wout = dout.shape[2], dout.shape[3]
    g = np.einsum('nfhw,fcij->nchwij', dout, w)
    for i in range(HH):          # one slice per filter tap, every window at once
        for j in range(WW):
            dxp[:, :, i:i + stride * Hout:stride, j:j + stride * Wout:stride] += g[..., i, j]
    dx = dxp[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]]
    if DEBUG:
        print("conv bwd:", dx.shape, dw.shape, db.shape)
    return dx, dw, db


# In[3]:


def max_pool_forward_naive(x, pool_param):
    ph, pw, stride = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    v = _views(np.ascontiguousarray(x), ph, pw, stride)
    out = v.max(axis=(4, 5))
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    ph, pw, stride = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    v = _views(np.ascontiguousarray(x), ph, pw, stride)
    mask = v == v.max(axis=(4, 5), keepdims=True)   # ties: every max shares (fine)
    g = mask * dout[..., None, None]
    dx = np.zeros_like(x, dtype=float)
    Hout, Wout = dout.shape[2], dout.shape[3]
    for i in range(ph):
        for j in range(pw):
            dx[:, :, i:i + stride * Hout:stride, j:j + stride * Wout:stride] += g[..., i, j]
    return dx


def avg_pool_forward_naive(x, pool_param):
    ph, pw, stride = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    out = _views(np.ascontiguousarray(x), ph, pw, stride).mean(axis=(4, 5))
    return out, (x.shape, pool_param)


def avg_pool_backward_naive(dout, cache):
    shape, pool_param = cache
    ph, pw, stride = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    dx = np.zeros(shape)
    Hout, Wout = dout.shape[2], dout.shape[3]
    for i in range(ph):
        for j in range(pw):
            dx[:, :, i:i + stride * Hout:stride, j:j + stride * Wout:stride] += dout / (ph * pw)
    return dx


# In[4]:

x_shape = (2, 3, 4, 4)
w_shape = (3, 3, 4, 4)
x_demo = np.linspace(-0.1, 0.5, num=np.prod(x_shape)).reshape(x_shape)
w_demo = np.linspace(-0.2, 0.3, num=np.prod(w_shape)).reshape(w_shape)
out_demo, _ = conv_forward_naive(x_demo, w_demo, np.linspace(-0.1, 0.2, num=3),
                                 {'stride': 2, 'pad': 1})
print(out_demo.shape)  # (2, 3, 2, 2)
DEBUG = False
