"""Spatial group normalisation, as in CS231n assignment 2 (2019-2024):
``spatial_groupnorm_forward(x, gamma, beta, G, gn_param)`` normalises x (N, C, H, W) over
each group of C // G consecutive channels and H, W, with the biased variance; gamma and
beta are (1, C, 1, 1). Registered by ``normalization`` (the family module)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from hypothesis import strategies as st

from gradcheck.student.catalogue.normalise_math import (
    Axes,
    layer_on_view,
    normalise,
    normalise_dx,
    rounding_bounds,
)
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

__all__ = ["EPS", "eps_param"]

Array = np.ndarray
EPS = (1e-5, 1e-3)
_GN_AXES: Axes = (2, 3, 4)


def eps_param(_: Sizes) -> st.SearchStrategy[Any]:
    """An ``{'eps': …}`` config (ln_param, gn_param)."""
    return st.fixed_dictionaries({"eps": st.sampled_from(EPS)})


def _grouped(v: Values) -> tuple[tuple[int, ...], float]:
    n, c, h, w = v["x"].shape
    return (n, v["G"], c // v["G"], h, w), v["gn_param"]["eps"]


def _gn_forward(v: Values) -> dict[str, Array]:
    view, eps = _grouped(v)
    xhat = normalise(v["x"].reshape(view), _GN_AXES, eps)[0].reshape(v["x"].shape)
    return {"out": v["gamma"] * xhat + v["beta"]}


def _gn_backward(v: Values, d: Mapping[str, Array]) -> dict[str, Array]:
    view, eps = _grouped(v)
    dout = d["dout"]
    xhat, _, var = normalise(v["x"].reshape(view), _GN_AXES, eps)
    dxhat = (dout * v["gamma"]).reshape(view)
    return {
        "dx": normalise_dx(dxhat, xhat, var, eps, _GN_AXES).reshape(dout.shape),
        "dgamma": (dout * xhat.reshape(dout.shape)).sum(axis=(0, 2, 3), keepdims=True),
        "dbeta": dout.sum(axis=(0, 2, 3), keepdims=True),
    }


def _gn_mutants(v: Values, d: Mapping[str, Array]) -> list[MutantTensors]:
    """Each wrong grouping as a whole layer (its output and its own gradients), so that it
    is recognised whichever tensor shows it first."""
    x, g, dout = v["x"], v["G"], d["dout"]
    n, c, h, w = x.shape
    view, eps = _grouped(v)
    var = normalise(x.reshape(view), _GN_AXES, eps)[2]
    dxhat = (dout * v["gamma"]).reshape(view)

    def layer(shape: tuple[int, ...], axes: Axes) -> dict[str, Array]:
        return layer_on_view(x, v["gamma"], v["beta"], dout, shape, axes, eps)

    return [
        (
            Label.WRONG_FORWARD,
            "groups split as x.reshape(N, C // G, G, H, W): every G-th channel together",
            layer((n, c // g, g, h, w), (1, 3, 4)),
        ),
        (
            Label.WRONG_AXIS,
            "normalised over each channel (as instance norm) instead of each group",
            layer(x.shape, (2, 3)),
        ),
        (
            Label.WRONG_AXIS,
            "the group statistics taken over the batch too",
            layer(view, (0, 2, 3, 4)),
        ),
        (
            Label.LOST_ACCUMULATION,
            "dx without the paths through the mean and the variance: dx̂ / √(σ² + eps)",
            {"dx": (dxhat / np.sqrt(var + eps)).reshape(x.shape)},
        ),
    ]


def _gn_rounding(v: Values, d: Mapping[str, Array]) -> dict[str, Array]:
    view, eps = _grouped(v)
    return rounding_bounds(v["x"], v["gamma"], v["beta"], d.get("dout"), view, _GN_AXES, eps)


def _groupnorm_sizes() -> st.SearchStrategy[dict[str, int]]:
    """C = G · (channels per group), each group holding at least two entries."""
    dims = {"N": st.integers(1, 2), "G": st.integers(1, 3), "per_group": st.integers(1, 3)}
    dims |= {"H": st.integers(1, 3), "W": st.integers(1, 3)}
    return (
        st.fixed_dictionaries(dims)
        .filter(lambda s: s["per_group"] * s["H"] * s["W"] >= 2)
        .map(lambda s: {**s, "C": s["G"] * s["per_group"]})
    )


register_function(
    LayerFunction(
        name="spatial_groupnorm",
        family="normalization",
        forward="spatial_groupnorm_forward",
        backward="spatial_groupnorm_backward",
        inputs=(
            Input("x", ("N", "C", "H", "W")),
            Input("gamma", (1, "C", 1, 1)),
            Input("beta", (1, "C", 1, 1)),
        ),
        outputs=(Output("out", ("N", "C", "H", "W")),),
        grads=("dx", "dgamma", "dbeta"),
        sizes=_groupnorm_sizes,
        configs=(Config("G", lambda s: st.just(s["G"])), Config("gn_param", eps_param)),
        reference=Reference(
            forward=_gn_forward,
            backward=_gn_backward,
            mutants=_gn_mutants,
            rounding=_gn_rounding,
        ),
        arguments=("x", "gamma", "beta", "G", "gn_param"),
        description="spatial_groupnorm_forward(x, gamma, beta, G, gn_param) -> (out, cache); "
        "spatial_groupnorm_backward(dout, cache) -> (dx, dgamma, dbeta); x (N, C, H, W) "
        "normalised over each group of C // G consecutive channels and H, W (biased "
        "variance), gamma and beta (1, C, 1, 1) as the 2019-2024 notebooks pass them (some "
        "later docstrings say (C,)), gn_param {'eps'}",
    )
)
