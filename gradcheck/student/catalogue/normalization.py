"""Batch, layer and group normalisation, as in CS231n assignment 2 (2019-2024 versions).

All of them compute ``out = gamma · x̂ + beta`` with ``x̂ = (x − μ) / √(σ² + eps)``, μ and σ²
the mean and the biased variance over the normalised axes:

- ``batchnorm``: x (N, D) over the batch; in train mode the running statistics in
  ``bn_param`` are updated in place (running = momentum · running + (1 − momentum) · batch),
  in test mode they replace the batch statistics;
- ``layernorm``: x (N, D) over the features of each row;
- ``spatial_batchnorm``: x (N, C, H, W) over N, H and W for each channel;
- ``spatial_groupnorm``: x (N, C, H, W) over each group of C / G consecutive channels and
  H, W, with gamma and beta of shape (1, C, 1, 1).

The backward is the usual closed form ``dx = (m·dx̂ − Σ dx̂ − x̂ · Σ dx̂·x̂) / (m √(σ² + eps))``
over the same m entries; in test mode batchnorm is the affine map it reduces to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gradcheck.student.catalogue.groupnorm import EPS, eps_param
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

__all__ = ["bn_param"]

Array = np.ndarray
_STATE = ("running_mean", "running_var")
_MOMENTUM = (0.9, 0.8, 0.99)  # not 0.5: a swapped momentum must differ
_RM, _RV = "bn_param['running_mean']", "bn_param['running_var']"


def _stats_strategy(width: int, low: float, high: float) -> st.SearchStrategy[Array]:
    floats = st.floats(low, high, allow_nan=False, allow_infinity=False)
    return hnp.arrays(np.float64, (width,), elements=floats)


def bn_param(width: str, modes: tuple[str, ...]) -> Callable[[Sizes], st.SearchStrategy[Any]]:
    """A ``bn_param`` build: a mode of ``modes``, eps, momentum and explicit running
    statistics of the size named ``width`` (running_var positive)."""

    def build(sizes: Sizes) -> st.SearchStrategy[Any]:
        return st.fixed_dictionaries(
            {
                "mode": st.sampled_from(modes),
                "eps": st.sampled_from(EPS),
                "momentum": st.sampled_from(_MOMENTUM),
                "running_mean": _stats_strategy(sizes[width], -2.0, 2.0),
                "running_var": _stats_strategy(sizes[width], 0.1, 3.0),
            }
        )

    return build


# -- batch normalisation over the axes ``axes`` of x, gamma broadcast as ``shape`` --------


def _bn_forward(v: Values, axes: Axes, ddof: int = 0) -> dict[str, Array]:
    x, param = v["x"], v["bn_param"]
    eps, momentum = param["eps"], param["momentum"]
    keep = _keep_shape(x, axes)
    gamma, beta = v["gamma"].reshape(keep), v["beta"].reshape(keep)
    rm, rv = param["running_mean"], param["running_var"]
    if param["mode"] == "test":
        xhat = (x - rm.reshape(keep)) / np.sqrt(rv.reshape(keep) + eps)
        return {"out": gamma * xhat + beta, **_state(rm.copy(), rv.copy())}
    xhat, mu, var = normalise(x, axes, eps, ddof)
    return {
        "out": gamma * xhat + beta,
        **_state(
            momentum * rm + (1 - momentum) * mu.reshape(rm.shape),
            momentum * rv + (1 - momentum) * var.reshape(rv.shape),
        ),
    }


def _bn_backward(v: Values, d: Mapping[str, Array], axes: Axes) -> dict[str, Array]:
    x, param, dout = v["x"], v["bn_param"], d["dout"]
    eps = param["eps"]
    keep = _keep_shape(x, axes)
    gamma = v["gamma"].reshape(keep)
    if param["mode"] == "test":
        inv_std = 1.0 / np.sqrt(param["running_var"].reshape(keep) + eps)
        xhat = (x - param["running_mean"].reshape(keep)) * inv_std
        dx = dout * gamma * inv_std
    else:
        xhat, _, var = normalise(x, axes, eps)
        dx = normalise_dx(dout * gamma, xhat, var, eps, axes)
    shape = v["gamma"].shape
    return {
        "dx": dx,
        "dgamma": (dout * xhat).sum(axis=axes).reshape(shape),
        "dbeta": dout.sum(axis=axes).reshape(shape),
    }


def _keep_shape(x: Array, axes: Axes) -> tuple[int, ...]:
    return tuple(1 if a in axes else n for a, n in enumerate(x.shape))


def _state(running_mean: Array, running_var: Array) -> dict[str, Array]:
    return {_RM: running_mean, _RV: running_var}


def _bn_train_mutants(v: Values, d: Mapping[str, Array], axes: Axes) -> list[MutantTensors]:
    x, param, dout = v["x"], v["bn_param"], d["dout"]
    eps, momentum = param["eps"], param["momentum"]
    rm, rv = param["running_mean"], param["running_var"]
    keep = _keep_shape(x, axes)
    _, mu, var = normalise(x, axes, eps)
    dxhat = dout * v["gamma"].reshape(keep)
    inv_std = 1.0 / np.sqrt(var + eps)
    unbiased = {**_bn_layer(v, d, x.shape, axes, ddof=1), **_bn_forward(v, axes, ddof=1)}
    return [
        (Label.WRONG_MODE, "running statistics not updated", _state(rm.copy(), rv.copy())),
        (
            Label.WRONG_MODE,
            "momentum and 1 − momentum swapped in the running averages",
            _state(
                (1 - momentum) * rm + momentum * mu.reshape(rm.shape),
                (1 - momentum) * rv + momentum * var.reshape(rv.shape),
            ),
        ),
        (
            Label.WRONG_FORWARD,
            "the unbiased variance (divided by m − 1) instead of the biased one",
            {k: t for k, t in unbiased.items() if k != _RM},
        ),
        (
            Label.LOST_ACCUMULATION,
            "dx without the paths through the mean and the variance: dx̂ / √(σ² + eps)",
            {"dx": dxhat * inv_std},
        ),
        (
            Label.LOST_ACCUMULATION,
            "dx without the path through the variance",
            {"dx": (dxhat - dxhat.mean(axis=axes, keepdims=True)) * inv_std},
        ),
    ]


def _bn_test_mutants(v: Values, axes: Axes) -> list[MutantTensors]:
    param = v["bn_param"]
    batch = _bn_forward({**v, "bn_param": {**param, "mode": "train"}}, axes)
    keep = _keep_shape(v["x"], axes)
    by_var = (v["x"] - param["running_mean"].reshape(keep)) / (
        param["running_var"].reshape(keep) + param["eps"]
    )
    return [
        (
            Label.WRONG_MODE,
            "test mode normalised with the batch statistics",
            {"out": batch["out"]},
        ),
        (
            Label.WRONG_MODE,
            "test mode ran the train-mode code (batch statistics, running averages updated)",
            batch,
        ),
        (
            Label.WRONG_FORWARD,
            "test mode divided by running_var + eps instead of its square root",
            {"out": v["gamma"].reshape(keep) * by_var + v["beta"].reshape(keep)},
        ),
    ]


def _bn_mutants(axes: Axes) -> Callable[[Values, Mapping[str, Array]], list[MutantTensors]]:
    def mutants(v: Values, d: Mapping[str, Array]) -> list[MutantTensors]:
        if v["bn_param"]["mode"] == "test":
            return _bn_test_mutants(v, axes)
        found = _bn_train_mutants(v, d, axes)
        if axes == (0,):
            found += _over_features(v, d)
        else:
            found.append(_spatial_without_transpose(v, d))
        return found

    return mutants


def _bn_layer(
    v: Values, d: Mapping[str, Array], view: tuple[int, ...], axes: Axes, ddof: int = 0
) -> dict[str, Array]:
    """out, dx, dgamma, dbeta of a batchnorm normalising over ``axes`` of ``x.reshape(view)``
    (the wrong axes or view of a mutant), gamma applied per channel."""
    x, gamma, beta = v["x"], v["gamma"], v["beta"]
    if view == x.shape and x.ndim == 4:
        gamma, beta = gamma.reshape(1, -1, 1, 1), beta.reshape(1, -1, 1, 1)
    eps, on_view = v["bn_param"]["eps"], view != x.shape
    found = layer_on_view(x, gamma, beta, d["dout"], view, axes, eps, ddof, on_view)
    shape = v["gamma"].shape
    return {
        **found,
        "dgamma": found["dgamma"].reshape(shape),
        "dbeta": found["dbeta"].reshape(shape),
    }


def _over_features(v: Values, d: Mapping[str, Array]) -> list[MutantTensors]:
    x, eps = v["x"], v["bn_param"]["eps"]
    xhat, _, var = normalise(x, (0,), eps)
    dxhat = d["dout"] * v["gamma"]
    n = x.shape[0]
    total = dxhat.sum(axis=1, keepdims=True)
    along = (dxhat * xhat).sum(axis=1, keepdims=True)
    return [
        (
            Label.WRONG_AXIS,
            "normalised over the features (axis 1) instead of the batch",
            _bn_layer(v, d, x.shape, (1,)),
        ),
        (
            Label.WRONG_AXIS,
            "dx's sums over the features (axis 1) instead of the batch",
            {"dx": (n * dxhat - total - xhat * along) / (n * np.sqrt(var + eps))},
        ),
    ]


def _spatial_without_transpose(v: Values, d: Mapping[str, Array]) -> MutantTensors:
    """x.reshape(-1, C) without moving C last first: rows mix channels and positions."""
    x = v["x"]
    view = (x.size // x.shape[1], x.shape[1])
    state = _bn_forward({**v, "x": x.reshape(view)}, (0,))
    return (
        Label.WRONG_FORWARD,
        "x reshaped to (N·H·W, C) without transposing C to the last axis first",
        {**state, **_bn_layer(v, d, view, (0,))},
    )


def _bn_rounding(axes: Axes) -> Callable[[Values, Mapping[str, Array]], dict[str, Array]]:
    def rounding(v: Values, d: Mapping[str, Array]) -> dict[str, Array]:
        x, param = v["x"], v["bn_param"]
        keep = _keep_shape(x, axes)
        gamma, beta = v["gamma"].reshape(keep), v["beta"].reshape(keep)
        rm, rv, m = param["running_mean"], param["running_var"], param["momentum"]
        if param["mode"] == "test":
            std = np.sqrt(rv.reshape(keep) + param["eps"])
            xmag = (np.abs(x) + np.abs(rm.reshape(keep))) / std
            return {"out": np.abs(gamma) * xmag + np.abs(beta)}
        found = rounding_bounds(x, gamma, beta, d.get("dout"), x.shape, axes, param["eps"])
        for key in ("dgamma", "dbeta"):
            if key in found:
                found[key] = found[key].reshape(v["gamma"].shape)
        spread = np.abs(x) + np.abs(x.mean(axis=axes, keepdims=True))
        found[_RM] = m * np.abs(rm) + (1 - m) * np.abs(x).mean(axis=axes).reshape(rm.shape)
        found[_RV] = m * np.abs(rv) + (1 - m) * (spread**2).mean(axis=axes).reshape(rv.shape)
        return found

    return rounding


def _bn_reference(axes: Axes) -> Reference:
    return Reference(
        forward=lambda v: _bn_forward(v, axes),
        backward=lambda v, d: _bn_backward(v, d, axes),
        mutants=_bn_mutants(axes),
        rounding=_bn_rounding(axes),
    )


def _batchnorm_sizes() -> st.SearchStrategy[dict[str, int]]:
    return st.fixed_dictionaries({"N": st.integers(2, 5), "D": st.integers(1, 4)})


def _spatial_sizes() -> st.SearchStrategy[dict[str, int]]:
    """N·H·W ≥ 2, so that every channel has a variance to normalise by."""
    dims = {"N": st.integers(1, 3), "C": st.integers(1, 3), "H": st.integers(1, 3)}
    return st.fixed_dictionaries({**dims, "W": st.integers(1, 3)}).filter(
        lambda s: s["N"] * s["H"] * s["W"] >= 2
    )


_BN_DESCRIPTION = (
    "{forward}(x, gamma, beta, bn_param) -> (out, cache); {backward}(dout, cache) -> "
    "(dx, dgamma, dbeta); x {shape}, gamma and beta {param}; bn_param {{'mode': 'train' | "
    "'test', 'eps', 'momentum', 'running_mean', 'running_var'}}: train mode normalises with "
    "the batch mean and biased variance and updates the running statistics in bn_param "
    "(running = momentum · running + (1 − momentum) · batch), test mode uses them"
)


def _bn_entry(name: str, backward: str, spatial: bool) -> LayerFunction:
    forward = "spatial_batchnorm_forward" if spatial else "batchnorm_forward"
    shape: tuple[str, ...] = ("N", "C", "H", "W") if spatial else ("N", "D")
    width = "C" if spatial else "D"
    axes: Axes = (0, 2, 3) if spatial else (0,)
    return LayerFunction(
        name=name,
        family="normalization",
        forward=forward,
        backward=backward,
        inputs=(Input("x", shape), Input("gamma", (width,)), Input("beta", (width,))),
        outputs=(Output("out", shape),),
        grads=("dx", "dgamma", "dbeta"),
        sizes=_spatial_sizes if spatial else _batchnorm_sizes,
        configs=(Config("bn_param", bn_param(width, ("train", "test")), state=_STATE),),
        reference=_bn_reference(axes),
        description=_BN_DESCRIPTION.format(
            forward=forward,
            backward=backward,
            shape="(" + ", ".join(shape) + ")",
            param=f"({width},)",
        )
        + "; the backward is checked in train mode only (the course backpropagates train "
        "mode, and a test-mode cache is often None), test mode by its output",
        backward_when=_train_mode,
    )


def _train_mode(values: Values) -> bool:
    return bool(values["bn_param"]["mode"] == "train")


register_function(_bn_entry("batchnorm", "batchnorm_backward", False))
register_function(_bn_entry("batchnorm_alt", "batchnorm_backward_alt", False))
register_function(_bn_entry("spatial_batchnorm", "spatial_batchnorm_backward", True))


# -- layer normalisation: each row of x (N, D) over its features --------------------------


def _ln_forward(v: Values) -> dict[str, Array]:
    xhat = normalise(v["x"], (1,), v["ln_param"]["eps"])[0]
    return {"out": v["gamma"] * xhat + v["beta"]}


def _ln_backward(v: Values, d: Mapping[str, Array]) -> dict[str, Array]:
    eps, dout = v["ln_param"]["eps"], d["dout"]
    xhat, _, var = normalise(v["x"], (1,), eps)
    return {
        "dx": normalise_dx(dout * v["gamma"], xhat, var, eps, (1,)),
        "dgamma": (dout * xhat).sum(axis=0),
        "dbeta": dout.sum(axis=0),
    }


def _ln_mutants(v: Values, d: Mapping[str, Array]) -> list[MutantTensors]:
    x, eps, dout = v["x"], v["ln_param"]["eps"], d["dout"]
    xhat, _, var = normalise(x, (1,), eps)
    dxhat = dout * v["gamma"]
    return [
        (
            Label.WRONG_AXIS,
            "normalised over the batch (axis 0), as batchnorm, instead of each row",
            layer_on_view(x, v["gamma"], v["beta"], dout, x.shape, (0,), eps),
        ),
        (
            Label.WRONG_FORWARD,
            "the unbiased variance (divided by D − 1) instead of the biased one",
            layer_on_view(x, v["gamma"], v["beta"], dout, x.shape, (1,), eps, ddof=1),
        ),
        (
            Label.LOST_ACCUMULATION,
            "dx without the paths through the mean and the variance: dx̂ / √(σ² + eps)",
            {"dx": dxhat / np.sqrt(var + eps)},
        ),
        (
            Label.WRONG_AXIS,
            "dx's mean and variance terms summed over the batch instead of each row",
            {"dx": _dx_summed_over(dxhat, xhat, var, eps, 0)},
        ),
    ]


def _dx_summed_over(dxhat: Array, xhat: Array, var: Array, eps: float, axis: int) -> Array:
    """The layernorm dx formula with its two sums taken over ``axis`` instead of the row."""
    m = xhat.shape[1]
    total = dxhat.sum(axis=axis, keepdims=True)
    along = (dxhat * xhat).sum(axis=axis, keepdims=True)
    return (m * dxhat - total - xhat * along) / (m * np.sqrt(var + eps))


def _layernorm_sizes() -> st.SearchStrategy[dict[str, int]]:
    return st.fixed_dictionaries({"N": st.integers(1, 4), "D": st.integers(2, 5)})


register_function(
    LayerFunction(
        name="layernorm",
        family="normalization",
        forward="layernorm_forward",
        backward="layernorm_backward",
        inputs=(Input("x", ("N", "D")), Input("gamma", ("D",)), Input("beta", ("D",))),
        outputs=(Output("out", ("N", "D")),),
        grads=("dx", "dgamma", "dbeta"),
        sizes=_layernorm_sizes,
        configs=(Config("ln_param", eps_param),),
        reference=Reference(
            forward=_ln_forward,
            backward=_ln_backward,
            mutants=_ln_mutants,
            rounding=lambda v, d: rounding_bounds(
                v["x"],
                v["gamma"],
                v["beta"],
                d.get("dout"),
                v["x"].shape,
                (1,),
                v["ln_param"]["eps"],
            ),
        ),
        description="layernorm_forward(x, gamma, beta, ln_param) -> (out, cache); "
        "layernorm_backward(dout, cache) -> (dx, dgamma, dbeta); x (N, D) normalised over "
        "each row's D features with the biased variance, gamma and beta (D,), "
        "ln_param {'eps'}",
    )
)
