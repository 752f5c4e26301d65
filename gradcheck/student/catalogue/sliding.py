"""The sliding windows that convolution and pooling share, vectorised.

``windows(x, kh, kw, stride)`` views the (kh, kw) windows of an (N, C, H, W) array at every
``stride``-th position as an (N, C, Ho, Wo, kh, kw) array, with Ho = 1 + (H − kh) / stride;
``scatter`` is its adjoint: it adds each window's entries back onto the positions they
came from, so that overlapping windows (stride < kh) accumulate.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["out_size", "overwrite", "pad", "scatter", "windows"]

Array = np.ndarray


def out_size(size: int, kernel: int, stride: int, padding: int = 0) -> int:
    """1 + (size + 2·padding − kernel) / stride, which the course requires to be whole."""
    span = size + 2 * padding - kernel
    if span < 0 or span % stride:
        raise ValueError(
            f"a window of {kernel} with stride {stride} and padding {padding} "
            f"does not tile a size of {size}"
        )
    return 1 + span // stride


def pad(x: Array, padding: int) -> Array:
    """``x`` (N, C, H, W) with ``padding`` zeros on both sides of H and W."""
    return np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))


def windows(x: Array, kh: int, kw: int, stride: int) -> Array:
    """The (N, C, Ho, Wo, kh, kw) read-only view of ``x``'s windows at the given stride."""
    out_size(x.shape[2], kh, stride)
    out_size(x.shape[3], kw, stride)
    return sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]


def scatter(g: Array, shape: tuple[int, ...], stride: int) -> Array:
    """The (N, C, H, W) sum of each window entry ``g[n, c, i, j, a, b]`` at its position
    (stride·i + a, stride·j + b): the gradient of ``windows`` applied to ``g``."""
    out = np.zeros(shape, dtype=np.result_type(g.dtype, np.float64))
    ho, wo, kh, kw = g.shape[2:]
    for a in range(kh):
        for b in range(kw):
            rows = slice(a, a + stride * (ho - 1) + 1, stride)
            cols = slice(b, b + stride * (wo - 1) + 1, stride)
            out[:, :, rows, cols] += g[:, :, :, :, a, b]
    return out


def overwrite(g: Array, shape: tuple[int, ...], stride: int, where: Array | None = None) -> Array:
    """Like ``scatter``, but each window *assigns* its (kh, kw) block in raster order
    (``dx[..., window] = …`` instead of ``+=``), the later window winning where they overlap:
    the classic lost accumulation. With ``where`` (g's shape, boolean) only those entries
    are assigned (``dx[argmax] = dout``), the others left as they were."""
    out = np.zeros(shape, dtype=np.float64)
    ho, wo, kh, kw = g.shape[2:]
    for i in range(ho):
        for j in range(wo):
            block = out[:, :, stride * i : stride * i + kh, stride * j : stride * j + kw]
            block[...] = (
                g[:, :, i, j]
                if where is None
                else np.where(where[:, :, i, j], g[:, :, i, j], block)
            )
    return out
