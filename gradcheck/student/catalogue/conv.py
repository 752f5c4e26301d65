"""The convolutional layer, naive and fast, in the conventions of CS231n assignment 2 (2019–2024).

``conv_forward_naive(x, w, b, conv_param) -> (out, cache)`` with x (N, C, H, W), w (F, C,
HH, WW), b (F,) and conv_param {'stride', 'pad'} (zeros on both sides of H and W) is a
cross-correlation: out[n, f, i, j] = Σ w[f] · x_pad[n, :, s·i : s·i + HH, s·j : s·j + WW]
+ b[f], of shape (N, F, Ho, Wo) with Ho = 1 + (H + 2·pad − HH) / stride, whole (the course
asserts it; the sizes are drawn so). ``conv_backward_naive(dout, cache) -> (dx, dw, db)``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from hypothesis import strategies as st

from gradcheck.student.catalogue import sliding
from gradcheck.student.catalogue.registry import register_function
from gradcheck.student.catalogue.spec import (
    Config,
    Input,
    LayerFunction,
    MutantTensors,
    Output,
    Reference,
    Sizes,
    Values,
)
from gradcheck.student.labels import Label

__all__ = ["INPUTS", "conv", "conv_grads", "conv_param", "conv_sizes", "geometry"]

Array = np.ndarray
INPUTS = (
    Input("x", ("N", "C", "H", "W")),
    Input("w", ("F", "C", "HH", "WW"), bound=1.0),
    Input("b", ("F",), bound=1.0),
)


def conv_param(sizes: Sizes) -> st.SearchStrategy[dict[str, int]]:
    return st.builds(lambda: {"stride": sizes["stride"], "pad": sizes["pad"]})


def geometry(values: Values) -> tuple[int, int]:
    p = values["conv_param"]
    return int(p["stride"]), int(p["pad"])


def conv_sizes(out_h: str = "Ho", out_w: str = "Wo") -> st.SearchStrategy[dict[str, int]]:
    """Filters 1–3 by 1–3, stride 1–2, pad 0–1 and an output of 1–3 by 1–3, with
    H = (Ho − 1)·stride + HH − 2·pad ≥ 1 so that the output size is whole."""
    return (
        st.fixed_dictionaries(
            {
                "N": st.integers(1, 2),
                "C": st.integers(1, 2),
                "F": st.integers(1, 3),
                "HH": st.integers(1, 3),
                "WW": st.integers(1, 3),
                "stride": st.integers(1, 2),
                "pad": st.integers(0, 1),
                out_h: st.integers(1, 3),
                out_w: st.integers(1, 3),
            }
        )
        .map(
            lambda s: {
                **s,
                "H": (s[out_h] - 1) * s["stride"] + s["HH"] - 2 * s["pad"],
                "W": (s[out_w] - 1) * s["stride"] + s["WW"] - 2 * s["pad"],
            }
        )
        .filter(lambda s: s["H"] >= 1 and s["W"] >= 1)
    )


def conv(x: Array, w: Array, b: Array, stride: int, padding: int) -> Array:
    """The (N, F, Ho, Wo) cross-correlation of x with the filters w, plus b."""
    win = sliding.windows(sliding.pad(x, padding), w.shape[2], w.shape[3], stride)
    return np.einsum("nchwij,fcij->nfhw", win, w) + b[None, :, None, None]


def conv_grads(x: Array, w: Array, dout: Array, stride: int, padding: int) -> dict[str, Array]:
    """dx (cropped back to x's shape), dw and db of ``conv``."""
    xp = sliding.pad(x, padding)
    win = sliding.windows(xp, w.shape[2], w.shape[3], stride)
    dxp = sliding.scatter(np.einsum("nfhw,fcij->nchwij", dout, w), xp.shape, stride)
    h, wd = x.shape[2:]
    return {
        "dx": dxp[:, :, padding : padding + h, padding : padding + wd],
        "dw": np.einsum("nchwij,nfhw->fcij", win, dout),
        "db": dout.sum(axis=(0, 2, 3)),
    }


def _stride_ignored(x: Array, w: Array, dout: Array, padding: int) -> dict[str, Array]:
    """The backward of a loop that reads and writes window (i, j) at (i, j), not (s·i, s·j)."""
    ho, wo = dout.shape[2:]
    xp = sliding.pad(x, padding)
    win = sliding.windows(xp, w.shape[2], w.shape[3], 1)[:, :, :ho, :wo]
    dxp = sliding.scatter(np.einsum("nfhw,fcij->nchwij", dout, w), xp.shape, 1)
    h, wd = x.shape[2:]
    return {
        "dx": dxp[:, :, padding : padding + h, padding : padding + wd],
        "dw": np.einsum("nchwij,nfhw->fcij", win, dout),
    }


def _conv_mutants(values: Values, douts: Mapping[str, Array]) -> list[MutantTensors]:
    """The classic mistakes, always all of them and in this order (the diagnosis pairs the
    mutants of two cases by position; one equal to the reference on a case matches nothing
    there). Shape mistakes (dx left padded, db kept spatial) are the contract's to label."""
    x, w, b, dout = values["x"], values["w"], values["b"], douts["dout"]
    s, p = geometry(values)
    flipped = w[:, :, ::-1, ::-1]
    true_conv = conv_grads(x, flipped, dout, s, p)
    xp = sliding.pad(x, p)
    g = np.einsum("nfhw,fcij->nchwij", dout, w)
    overwritten = sliding.overwrite(g, xp.shape, s)[:, :, p : p + x.shape[2], p : p + x.shape[3]]
    return [
        (
            Label.WRONG_FORWARD,
            "the kernel flipped: a true convolution instead of the cross-correlation, "
            "its backward consistent with it",
            {
                "out": conv(x, flipped, b, s, p),
                "dx": true_conv["dx"],
                "dw": true_conv["dw"][:, :, ::-1, ::-1],
            },
        ),
        (
            Label.WRONG_FORWARD,
            "the kernel flipped in the forward only",
            {"out": conv(x, flipped, b, s, p)},
        ),
        (Label.WRONG_ROUTING, "the stride ignored in the backward", _stride_ignored(x, w, dout, p)),
        (
            Label.LOST_ACCUMULATION,
            "dw overwritten per sample: the last one's only",
            {"dw": conv_grads(x[-1:], w, dout[-1:], s, p)["dw"]},
        ),
        (
            Label.LOST_ACCUMULATION,
            "overlapping windows overwrite dx (dx_pad[window] = …) instead of adding to it",
            {"dx": overwritten},
        ),
    ]


def _conv_reference() -> Reference:
    return Reference(
        forward=lambda v: {"out": conv(v["x"], v["w"], v["b"], *geometry(v))},
        backward=lambda v, d: conv_grads(v["x"], v["w"], d["dout"], *geometry(v)),
        mutants=_conv_mutants,
    )


def _conv_entry(variant: str) -> LayerFunction:
    forward, backward = f"conv_forward_{variant}", f"conv_backward_{variant}"
    return LayerFunction(
        name=f"conv_{variant}",
        family="conv",
        forward=forward,
        backward=backward,
        inputs=INPUTS,
        outputs=(Output("out", ("N", "F", "Ho", "Wo")),),
        grads=("dx", "dw", "db"),
        sizes=conv_sizes,
        configs=(Config("conv_param", conv_param),),
        reference=_conv_reference(),
        examples=15,
        description=f"{forward}(x, w, b, conv_param) -> (out, cache); {backward}(dout, cache) "
        "-> (dx, dw, db); x (N, C, H, W), w (F, C, HH, WW), b (F,), conv_param "
        "{'stride', 'pad'}, a cross-correlation with zero padding"
        + (" (graded only when present: the course ships it)" if variant == "fast" else ""),
    )


for _variant in ("naive", "fast"):
    register_function(_conv_entry(_variant))
