"""The conv sandwich layers of CS231n assignment 2's layer_utils.py: a conv layer, a relu
and, in ``conv_relu_pool``, a max pool; ``conv_bn_relu`` puts a spatial batchnorm between.

``conv_relu_forward(x, w, b, conv_param)`` and ``conv_relu_pool_forward(x, w, b,
conv_param, pool_param)`` return (out, cache); their backwards return (dx, dw, db). The
course builds them on its fast functions, students often on their naive ones: only the
contract counts. A pre-activation at exactly 0, or a tie for a pooling max above 0, leaves
the gradient to convention, and every gradient entry it reaches is skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from hypothesis import strategies as st

from gradcheck.student.catalogue import sliding
from gradcheck.student.catalogue.conv import (
    INPUTS,
    conv,
    conv_grads,
    conv_param,
    conv_sizes,
    geometry,
)
from gradcheck.student.catalogue.pooling import (
    max_pool,
    max_pool_grads,
    max_pool_ties,
    pool_param,
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
    ranges,
)
from gradcheck.student.labels import Label

__all__ = ["relu"]

Array = np.ndarray


def relu(a: Array) -> Array:
    return np.maximum(a, 0.0)


def _reach(ambiguous: Array, values: Values) -> dict[str, Array]:
    """The gradient entries an ambiguous conv output (N, F, Ho, Wo) reaches: the receptive
    field of its position in every channel of dx, and the whole of its filter in dw and db."""
    x, w = values["x"], values["w"]
    s, p = geometry(values)
    n, c, h, wd = x.shape
    field = np.asarray(ambiguous.any(axis=1), dtype=np.float64)[:, None, :, :, None, None]
    g = np.broadcast_to(field, (n, c, *ambiguous.shape[2:], *w.shape[2:]))
    hit = sliding.scatter(g, (n, c, h + 2 * p, wd + 2 * p), s)[:, :, p : p + h, p : p + wd]
    filters = np.asarray(ambiguous.any(axis=(0, 2, 3)))
    return {
        "dx": hit > 0,
        "dw": np.broadcast_to(filters[:, None, None, None], w.shape).copy(),
        "db": filters.copy(),
    }


def _rounding(values: Values) -> Array:
    """A bound on the rounding error of each conv output (N, F, Ho, Wo) as a submission may
    sum it, in any order: 4·(terms + 1)·eps·Σ|x|·|w| + |b|."""
    x, w, b = values["x"], values["w"], values["b"]
    terms = w[0].size + 1
    bound = conv(np.abs(x), np.abs(w), np.abs(b), *geometry(values))
    return 4 * terms * np.finfo(np.float64).eps * bound


def _kinks(values: Values) -> Array:
    """The pre-activations at 0 or within rounding of it, where relu′ is either answer."""
    return np.asarray(np.abs(_pre(values)) <= _rounding(values))


def _pre(values: Values) -> Array:
    return conv(values["x"], values["w"], values["b"], *geometry(values))


def _conv_relu_grads(values: Values, dout: Array) -> dict[str, Array]:
    return conv_grads(values["x"], values["w"], dout * (_pre(values) > 0), *geometry(values))


def _conv_relu_mutants(values: Values, douts: Mapping[str, Array]) -> list[MutantTensors]:
    x, w, dout = values["x"], values["w"], douts["dout"]
    return [
        (
            Label.MISSING_ACTIVATION_DERIVATIVE,
            "relu′ left out: dout passed straight to the conv backward",
            conv_grads(x, w, dout, *geometry(values)),
        )
    ]


register_function(
    LayerFunction(
        name="conv_relu",
        family="sandwich",
        forward="conv_relu_forward",
        backward="conv_relu_backward",
        inputs=INPUTS,
        outputs=(Output("out", ("N", "F", "Ho", "Wo")),),
        grads=("dx", "dw", "db"),
        sizes=conv_sizes,
        configs=(Config("conv_param", conv_param),),
        reference=Reference(
            forward=lambda v: {"out": relu(_pre(v))},
            backward=lambda v, d: _conv_relu_grads(v, d["dout"]),
            skip=lambda v: _reach(_kinks(v), v),
            mutants=_conv_relu_mutants,
        ),
        examples=15,
        description="conv_relu_forward(x, w, b, conv_param) -> (out, cache); "
        "conv_relu_backward(dout, cache) -> (dx, dw, db): a conv layer then a relu",
    )
)


def _conv_pool_sizes() -> st.SearchStrategy[dict[str, int]]:
    """A pooled output of 1–2 by 1–2 (windows 1–2, stride 1–2) over a conv output of
    Hc = (Ho − 1)·ps + ph, itself from H = (Hc − 1)·stride + HH − 2·pad ≥ 1."""

    def whole(s: dict[str, int]) -> dict[str, int]:
        hc, wc = (s["Ho"] - 1) * s["ps"] + s["ph"], (s["Wo"] - 1) * s["ps"] + s["pw"]
        h = (hc - 1) * s["stride"] + s["HH"] - 2 * s["pad"]
        w = (wc - 1) * s["stride"] + s["WW"] - 2 * s["pad"]
        return {**s, "Hc": hc, "Wc": wc, "H": h, "W": w}

    one, two, three = (1, 2), (1, 2), (1, 3)
    draw = ranges(N=one, C=one, F=two, HH=three, WW=three, stride=two, pad=(0, 1))
    pool = ranges(ph=two, pw=two, ps=two, Ho=two, Wo=two)
    return (
        st.tuples(draw(), pool())
        .map(lambda t: whole({**t[0], **t[1]}))
        .filter(lambda s: s["H"] >= 1 and s["W"] >= 1)
    )


def _pool(values: Values) -> tuple[int, int, int]:
    p = values["pool_param"]
    return int(p["pool_height"]), int(p["pool_width"]), int(p["stride"])


def _crp_grads(values: Values, dout: Array, *, relu_prime: bool = True) -> dict[str, Array]:
    a = _pre(values)
    da = max_pool_grads(relu(a), _pool(values), dout)
    if relu_prime:
        da = da * (a > 0)
    return conv_grads(values["x"], values["w"], da, *geometry(values))


def _crp_skip(values: Values) -> dict[str, Array]:
    a, slack = _pre(values), 2 * _rounding(values)
    ties = max_pool_ties(relu(a), _pool(values), positive=True, slack=slack)
    return _reach(_kinks(values) | ties, values)


def _crp_mutants(values: Values, douts: Mapping[str, Array]) -> list[MutantTensors]:
    dout = douts["dout"]
    a = _pre(values)
    every = np.broadcast_to(dout[..., None, None], (*dout.shape, *_pool(values)[:2]))
    spread = sliding.scatter(every, a.shape, _pool(values)[2]) * (a > 0)
    return [
        (
            Label.MISSING_ACTIVATION_DERIVATIVE,
            "relu′ left out between the pool and the conv backward",
            _crp_grads(values, dout, relu_prime=False),
        ),
        (
            Label.WRONG_ROUTING,
            "the pooling gradient sent to every entry of the window, not only to its max",
            conv_grads(values["x"], values["w"], spread, *geometry(values)),
        ),
    ]


register_function(
    LayerFunction(
        name="conv_relu_pool",
        family="sandwich",
        forward="conv_relu_pool_forward",
        backward="conv_relu_pool_backward",
        inputs=INPUTS,
        outputs=(Output("out", ("N", "F", "Ho", "Wo")),),
        grads=("dx", "dw", "db"),
        sizes=_conv_pool_sizes,
        configs=(Config("conv_param", conv_param), Config("pool_param", pool_param)),
        reference=Reference(
            forward=lambda v: {"out": max_pool(relu(_pre(v)), _pool(v))},
            backward=lambda v, d: _crp_grads(v, d["dout"]),
            skip=_crp_skip,
            mutants=_crp_mutants,
        ),
        examples=15,
        description="conv_relu_pool_forward(x, w, b, conv_param, pool_param) -> (out, cache); "
        "conv_relu_pool_backward(dout, cache) -> (dx, dw, db): a conv layer, a relu and a "
        "max pool (pool_param {'pool_height', 'pool_width', 'stride'})",
    )
)


# -- conv, spatial batchnorm, relu ---------------------------------------------------------

_RM, _RV = "bn_param['running_mean']", "bn_param['running_var']"
_AXES = (0, 2, 3)  # spatial batchnorm: statistics per channel over N, H and W


def _bn_param(sizes: Sizes) -> st.SearchStrategy[dict[str, Any]]:
    """A bn_param of either mode with explicit eps, momentum and running statistics."""
    stats = {
        "running_mean": (-1.0, 1.0),
        "running_var": (0.5, 2.0),
    }
    return st.fixed_dictionaries(
        {
            "mode": st.sampled_from(["train", "test"]),
            "eps": st.just(1e-5),
            "momentum": st.sampled_from([0.9, 0.5]),
            **{
                k: st.lists(st.floats(lo, hi), min_size=sizes["F"], max_size=sizes["F"]).map(
                    np.array
                )
                for k, (lo, hi) in stats.items()
            },
        }
    )


def _bn_stats(values: Values) -> tuple[Array, Array, Array]:
    """The conv output a, and the mean and variance batchnorm normalises it with."""
    a, param = _pre(values), values["bn_param"]
    if param["mode"] == "test":
        return a, param["running_mean"], param["running_var"]
    return a, a.mean(axis=_AXES), a.var(axis=_AXES)


def _bn(values: Values) -> tuple[Array, Array]:
    """x̂ and y = γ·x̂ + β, the relu's input, of shape (N, F, Ho, Wo)."""
    a, mu, var = _bn_stats(values)
    xhat = (a - mu[:, None, None]) / np.sqrt(var + values["bn_param"]["eps"])[:, None, None]
    return xhat, values["gamma"][:, None, None] * xhat + values["beta"][:, None, None]


def _cbr_forward(values: Values) -> dict[str, Array]:
    param = values["bn_param"]
    _, mu, var = _bn_stats(values)
    rm, rv = param["running_mean"], param["running_var"]
    if param["mode"] == "train":
        m = param["momentum"]
        rm, rv = m * rm + (1 - m) * mu, m * rv + (1 - m) * var
    return {"out": relu(_bn(values)[1]), _RM: np.array(rm), _RV: np.array(rv)}


def _cbr_grads(values: Values, dout: Array, *, relu_prime: bool = True) -> dict[str, Array]:
    xhat, y = _bn(values)
    dy = dout * (y > 0) if relu_prime else dout
    _, _, var = _bn_stats(values)
    inv_std = 1.0 / np.sqrt(var + values["bn_param"]["eps"])[:, None, None]
    dxhat = dy * values["gamma"][:, None, None]
    if values["bn_param"]["mode"] == "train":
        dxhat = dxhat - dxhat.mean(axis=_AXES, keepdims=True)
        dxhat = dxhat - xhat * (dxhat * xhat).mean(axis=_AXES, keepdims=True)
    grads = conv_grads(values["x"], values["w"], dxhat * inv_std, *geometry(values))
    if values["bn_param"]["mode"] == "train":
        # exactly 0, not its rounding residue: the batch mean removes b, and a submission
        # whose own sums cancel exactly must not fail against noise
        grads["db"] = np.zeros_like(grads["db"])
    return {**grads, "dgamma": (dy * xhat).sum(axis=_AXES), "dbeta": dy.sum(axis=_AXES)}


def _near_kinks(values: Values) -> Array:
    """The y (N, F, Ho, Wo) that rounding may put on either side of 0: within 64 ulps of the
    error x̂ = (a − μ)/σ inherits from a − μ, or in a channel whose batch is (nearly)
    constant, where x̂ is rounding noise amplified by 1/√eps (a shrunk case of equal
    inputs: the reference's exact 0 against a submission's 1e-14)."""
    a, mu, var = _bn_stats(values)
    gamma, beta = np.abs(values["gamma"]), np.abs(values["beta"])
    std = np.sqrt(var + values["bn_param"]["eps"])
    largest = np.abs(a).max(axis=_AXES)
    delta = 64 * np.finfo(np.float64).eps * (gamma * (largest + np.abs(mu)) / std + beta)
    constant = (values["bn_param"]["mode"] == "train") & (np.sqrt(var) <= 1e-7 * largest)
    near = np.abs(_bn(values)[1]) <= delta[:, None, None]
    return np.asarray(near | constant[:, None, None])


def _cbr_skip(values: Values) -> dict[str, Array]:
    """A relu kink at y = 0 (or within rounding of it): in test mode it reaches its
    receptive field, in train mode the batch statistics spread it over its whole channel,
    hence all of dx; the output there is within rounding of 0 either way. In train mode db
    (exactly 0) is never compared by value, only by shape."""
    near = _near_kinks(values)
    channels = np.asarray(near.any(axis=_AXES))
    kink = near
    if values["bn_param"]["mode"] == "train":
        kink = np.broadcast_to(channels[None, :, None, None], near.shape)
    reach = _reach(kink, values)
    if values["bn_param"]["mode"] == "train":
        # db is 0 exactly and any rounding residue of the submission's sums is right too:
        # against an exact 0 no tolerance relative to db's own scale can tell them apart
        reach["db"] = np.ones_like(reach["db"])
    return {**reach, "out": near, "dgamma": channels.copy(), "dbeta": channels.copy()}


def _cbr_mutants(values: Values, douts: Mapping[str, Array]) -> list[MutantTensors]:
    dout = douts["dout"]
    return [
        (
            Label.MISSING_ACTIVATION_DERIVATIVE,
            "relu′ left out between the relu and the batchnorm backward",
            _cbr_grads(values, dout, relu_prime=False),
        )
    ]


register_function(
    LayerFunction(
        name="conv_bn_relu",
        family="sandwich",
        forward="conv_bn_relu_forward",
        backward="conv_bn_relu_backward",
        inputs=(*INPUTS, Input("gamma", ("F",), domain="positive"), Input("beta", ("F",))),
        outputs=(Output("out", ("N", "F", "Ho", "Wo")),),
        grads=("dx", "dw", "db", "dgamma", "dbeta"),
        sizes=lambda: conv_sizes().filter(lambda s: s["N"] * s["Ho"] * s["Wo"] >= 2),
        configs=(
            Config("conv_param", conv_param),
            Config("bn_param", _bn_param, state=("running_mean", "running_var")),
        ),
        reference=Reference(
            forward=_cbr_forward,
            backward=lambda v, d: _cbr_grads(v, d["dout"]),
            skip=_cbr_skip,
            mutants=_cbr_mutants,
        ),
        examples=15,
        # the course's spatial_batchnorm_backward assumes a train-mode cache
        backward_when=lambda v: v["bn_param"]["mode"] == "train",
        description="conv_bn_relu_forward(x, w, b, gamma, beta, conv_param, bn_param) -> "
        "(out, cache); conv_bn_relu_backward(dout, cache) -> (dx, dw, db, dgamma, dbeta): a "
        "conv layer, spatial batchnorm (bn_param {'mode': 'train' | 'test', 'eps', "
        "'momentum', 'running_mean', 'running_var'}, biased batch variance, running "
        "statistics updated in place in train mode) and a relu; in train mode db is 0; the "
        "backward is called in train mode only",
    )
)
