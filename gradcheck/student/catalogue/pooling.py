"""Max and average pooling, naive and fast, in the conventions of CS231n assignment 2.

``max_pool_forward_naive(x, pool_param) -> (out, cache)`` with x (N, C, H, W) and
pool_param {'pool_height', 'pool_width', 'stride'}; ``max_pool_backward_naive(dout, cache)
-> dx``. Sizes are drawn so that the windows tile x exactly, Ho = 1 + (H − ph) / stride (the
course's fast versions assert it), and stride < ph overlaps windows, whose gradients add.

A tie for a window's max leaves the gradient to convention (the course's fast backward
sends it to every tied entry, most naive ones to the first, as the reference does): x is
drawn distinct, and every dx entry of a window holding a tie is skipped, so a shrunk
example with repeated values is inconclusive there, never failed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

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

__all__ = ["max_pool", "max_pool_grads", "max_pool_ties", "pool_param"]

Array = np.ndarray
Pool = tuple[int, int, int]  # pool_height, pool_width, stride


def pool_param(sizes: Sizes) -> st.SearchStrategy[dict[str, int]]:
    """The pool_param dict of sizes ph, pw and ps, a fresh dict per case."""
    return st.builds(
        lambda: {"pool_height": sizes["ph"], "pool_width": sizes["pw"], "stride": sizes["ps"]}
    )


def _pool(values: Values) -> Pool:
    p = values["pool_param"]
    return int(p["pool_height"]), int(p["pool_width"]), int(p["stride"])


def _pool_sizes() -> st.SearchStrategy[dict[str, int]]:
    """Windows of 1–3 by 1–3 at stride 1–2 tiling H = (Ho − 1)·ps + ph exactly."""
    return st.fixed_dictionaries(
        {
            "N": st.integers(1, 2),
            "C": st.integers(1, 2),
            "ph": st.integers(1, 3),
            "pw": st.integers(1, 3),
            "ps": st.integers(1, 2),
            "Ho": st.integers(1, 3),
            "Wo": st.integers(1, 3),
        }
    ).map(
        lambda s: {
            **s,
            "H": (s["Ho"] - 1) * s["ps"] + s["ph"],
            "W": (s["Wo"] - 1) * s["ps"] + s["pw"],
        }
    )


def max_pool(x: Array, pool: Pool) -> Array:
    ph, pw, s = pool
    return sliding.windows(x, ph, pw, s).max(axis=(4, 5))


def _argmax_mask(x: Array, pool: Pool) -> Array:
    """(N, C, Ho, Wo, ph, pw): True at each window's first max in raster order. Of the
    conventions for a tie this is the one finite differences agree with when the tied
    entries move together (windows over zero padding, all equal to the conv's bias)."""
    ph, pw, s = pool
    win = sliding.windows(x, ph, pw, s)
    flat = win.reshape(*win.shape[:4], ph * pw)
    first = np.argmax(flat, axis=-1)[..., None]
    mask = np.zeros(flat.shape, dtype=bool)
    np.put_along_axis(mask, first, True, axis=-1)
    return mask.reshape(win.shape)


def max_pool_grads(x: Array, pool: Pool, dout: Array) -> Array:
    """dx: each window's upstream gradient sent to its (first) max."""
    g = _argmax_mask(x, pool) * dout[..., None, None]
    return sliding.scatter(g, x.shape, pool[2])


def max_pool_ties(
    x: Array, pool: Pool, *, positive: bool = False, slack: Array | None = None
) -> Array:
    """The dx entries covered by a window whose max is tied (and, with ``positive``, above
    0: after a relu, a window of zeros ties harmlessly, its gradient stopped by relu′).
    With ``slack`` (x's shape), entries within it of the max count as tied: x computed by
    the submission may order them otherwise by a rounding."""
    ph, pw, s = pool
    win = sliding.windows(x, ph, pw, s)
    top = win.max(axis=(4, 5), keepdims=True)
    near = win >= top - (0.0 if slack is None else sliding.windows(slack, ph, pw, s))
    tied = near.sum(axis=(4, 5)) > 1
    if positive:
        tied &= max_pool(x, pool) > 0
    g = np.broadcast_to(tied[..., None, None], near.shape).astype(np.float64)
    return sliding.scatter(g, x.shape, s) > 0


def _max_pool_mutants(values: Values, douts: Mapping[str, Array]) -> list[MutantTensors]:
    x, dout, pool = values["x"], douts["dout"], _pool(values)
    ph, pw, s = pool
    win = sliding.windows(x, ph, pw, s)
    mask = _argmax_mask(x, pool)
    every = np.broadcast_to(dout[..., None, None], mask.shape)
    across = win == win.max(axis=(1, 4, 5), keepdims=True)
    return [
        (
            Label.WRONG_ROUTING,
            "the gradient sent to every entry of the window, not only to its max",
            {"dx": sliding.scatter(every, x.shape, s)},
        ),
        (
            Label.WRONG_ROUTING,
            "the max taken over all channels at once in the backward: only the channel "
            "holding the largest value gets a gradient",
            {"dx": sliding.scatter(across * dout[..., None, None], x.shape, s)},
        ),
        (
            Label.LOST_ACCUMULATION,
            "overlapping windows overwrite dx (dx[window] = …) instead of adding to it",
            {"dx": sliding.overwrite(mask * dout[..., None, None], x.shape, s)},
        ),
        (
            Label.LOST_ACCUMULATION,
            "the max's entry assigned (dx[argmax] = dout) instead of added to, so a max "
            "shared by overlapping windows keeps only the last one's gradient",
            {"dx": sliding.overwrite(every, x.shape, s, where=mask)},
        ),
    ]


def avg_pool(x: Array, pool: Pool) -> Array:
    ph, pw, s = pool
    return sliding.windows(x, ph, pw, s).mean(axis=(4, 5))


def _avg_pool_spread(dout: Array, pool: Pool) -> Array:
    """dout[n, c, i, j] on every entry of its (ph, pw) window, not yet divided."""
    ph, pw, _ = pool
    return np.broadcast_to(dout[..., None, None], (*dout.shape, ph, pw))


def avg_pool_grads(x: Array, pool: Pool, dout: Array) -> Array:
    ph, pw, s = pool
    return sliding.scatter(_avg_pool_spread(dout, pool) / (ph * pw), x.shape, s)


def _avg_pool_mutants(values: Values, douts: Mapping[str, Array]) -> list[MutantTensors]:
    x, dout, pool = values["x"], douts["dout"], _pool(values)
    ph, pw, s = pool
    spread = _avg_pool_spread(dout, pool)
    return [
        (
            Label.SCALED,
            "the 1/(pool_height·pool_width) of the mean left out of dx",
            {"dx": sliding.scatter(spread, x.shape, s)},
        ),
        (
            Label.LOST_ACCUMULATION,
            "overlapping windows overwrite dx (dx[window] = …) instead of adding to it",
            {"dx": sliding.overwrite(spread / (ph * pw), x.shape, s)},
        ),
    ]


def _max_reference() -> Reference:
    return Reference(
        forward=lambda v: {"out": max_pool(v["x"], _pool(v))},
        backward=lambda v, d: {"dx": max_pool_grads(v["x"], _pool(v), d["dout"])},
        skip=lambda v: {"dx": max_pool_ties(v["x"], _pool(v))},
        mutants=_max_pool_mutants,
    )


def _avg_reference() -> Reference:
    return Reference(
        forward=lambda v: {"out": avg_pool(v["x"], _pool(v))},
        backward=lambda v, d: {"dx": avg_pool_grads(v["x"], _pool(v), d["dout"])},
        mutants=_avg_pool_mutants,
    )


_KINDS: dict[str, tuple[Callable[[], Reference], str]] = {
    "max": (_max_reference, "the max of each window"),
    "avg": (_avg_reference, "the mean of each window"),
}


def _pool_entry(kind: str, variant: str) -> LayerFunction:
    reference, what = _KINDS[kind]
    forward, backward = f"{kind}_pool_forward_{variant}", f"{kind}_pool_backward_{variant}"
    return LayerFunction(
        name=f"{kind}_pool_{variant}",
        family="pooling",
        forward=forward,
        backward=backward,
        inputs=(Input("x", ("N", "C", "H", "W"), domain="distinct" if kind == "max" else "real"),),
        outputs=(Output("out", ("N", "C", "Ho", "Wo")),),
        grads=("dx",),
        sizes=_pool_sizes,
        configs=(Config("pool_param", pool_param),),
        reference=reference(),
        examples=15,
        description=f"{forward}(x, pool_param) -> (out, cache); {backward}(dout, cache) -> dx: "
        f"{what}; x (N, C, H, W), pool_param {{'pool_height', 'pool_width', 'stride'}}, "
        "Ho = 1 + (H - pool_height) / stride"
        + (" (graded only when present: the course ships it)" if variant == "fast" else ""),
    )


for _kind in _KINDS:
    for _variant in ("naive", "fast"):
        register_function(_pool_entry(_kind, _variant))
