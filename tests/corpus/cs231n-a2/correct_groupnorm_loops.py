# expect: partial
"""correct spatial_groupnorm with loops over samples and groups, the backward written through dmean and dvar as in the course's batchnorm graph"""

import numpy as np


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    eps = gn_param.get("eps", 1e-5)
    N, C, H, W = x.shape
    cg = C // G
    xhat = np.zeros_like(x)
    stats = {}
    for n in range(N):
        for g in range(G):
            chunk = x[n, g * cg:(g + 1) * cg]
            m = chunk.mean()
            v = ((chunk - m) ** 2).mean()
            xhat[n, g * cg:(g + 1) * cg] = (chunk - m) / np.sqrt(v + eps)
            stats[(n, g)] = (m, v)
    out = gamma * xhat + beta
    cache = (x, xhat, gamma, G, eps, stats)
    return out, cache


def spatial_groupnorm_backward(dout, cache):
    x, xhat, gamma, G, eps, stats = cache
    N, C, H, W = x.shape
    cg = C // G
    dgamma = np.zeros((1, C, 1, 1))
    dbeta = np.zeros((1, C, 1, 1))
    for c in range(C):
        dgamma[0, c, 0, 0] = np.sum(dout[:, c] * xhat[:, c])
        dbeta[0, c, 0, 0] = np.sum(dout[:, c])
    dxhat = dout * gamma
    dx = np.zeros_like(x)
    for n in range(N):
        for g in range(G):
            sl = slice(g * cg, (g + 1) * cg)
            m, v = stats[(n, g)]
            xc = x[n, sl] - m
            d = dxhat[n, sl]
            M = d.size
            dvar = np.sum(d * xc) * -0.5 * (v + eps) ** -1.5
            dmean = -np.sum(d) / np.sqrt(v + eps) + dvar * -2.0 * np.mean(xc)
            dx[n, sl] = d / np.sqrt(v + eps) + dvar * 2.0 * xc / M + dmean / M
    return dx, dgamma, dbeta
