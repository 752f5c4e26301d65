"""The model classes of CS231n assignment 2 (2019-2024 versions), declared for ``ModelCheck``.

- ``TwoLayerNet(input_dim, hidden_dim, num_classes, weight_scale, reg)``:
  affine - relu - affine - softmax;
- ``FullyConnectedNet(hidden_dims, input_dim, num_classes, dropout_keep_ratio,
  normalization, reg, weight_scale, dtype, seed)``: {affine - [batch/layer norm] - relu -
  [dropout]} × (L − 1) - affine - softmax, with ``gamma1``, ``beta1``, … for the
  normalisation layers and the seed passed to every dropout layer;
- ``ThreeLayerConvNet(input_dim=(C, H, W), num_filters, filter_size, hidden_dim,
  num_classes, weight_scale, reg, dtype)``: conv (stride 1, pad (filter_size − 1) / 2) -
  relu - 2x2 max pool - affine - relu - affine - softmax.

Every loss adds ``0.5·reg·ΣW²`` over the weights W1, W2, … only. Sizes stay tiny (input
dimension ≤ 6, hidden ≤ 5, classes ≤ 4; convolution input (≤ 2, ≤ 6, ≤ 6)), so that each
check takes well under a few seconds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from gradcheck.student.models.declaration import (
    NORMALIZATIONS,
    Architecture,
    Layer,
    ModelDeclaration,
    ModelOptions,
)
from gradcheck.student.models.registry import register_model

__all__: list[str] = []

_WEIGHT_SCALE = 1e-2
_EPS, _MOMENTUM = 1e-5, 0.9
_KEEP_RATIOS = (1.0, 0.5, 0.75)
_REGS = (0.0, 0.3, 1.7)


def _input_shapes() -> st.SearchStrategy[tuple[int, ...]]:
    """A flat input of 1-6 features, or a (2, k) one that the affine layer must flatten."""
    return st.one_of(st.integers(1, 6).map(lambda d: (d,)), st.integers(1, 3).map(lambda k: (2, k)))


def _affine(i: int) -> Layer:
    return Layer("affine", {"w": f"W{i}", "b": f"b{i}"})


# TwoLayerNet -------------------------------------------------------------------------------
def _two_layer_architectures(options: ModelOptions) -> st.SearchStrategy[Architecture]:
    return st.builds(
        lambda shape, hidden, classes, reg: Architecture(shape, (hidden,), classes, reg=reg),
        _input_shapes(),
        st.integers(1, 5),
        st.integers(2, 4),
        st.sampled_from(options.reg),
    )


register_model(
    ModelDeclaration(
        name="TwoLayerNet",
        architectures=_two_layer_architectures,
        constructor=lambda a: {
            "input_dim": a.input_dim,
            "hidden_dim": a.hidden_dims[0],
            "num_classes": a.num_classes,
            "weight_scale": _WEIGHT_SCALE,
            "reg": a.reg,
        },
        param_shapes=lambda a: {
            "W1": (a.input_dim, a.hidden_dims[0]),
            "b1": (a.hidden_dims[0],),
            "W2": (a.hidden_dims[0], a.num_classes),
            "b2": (a.num_classes,),
        },
        layers=lambda a: (_affine(1), Layer("relu"), _affine(2)),
        options=ModelOptions(reg=_REGS),
        defaults=ModelOptions(reg=_REGS),
        description="TwoLayerNet(input_dim, hidden_dim, num_classes, weight_scale, reg): "
        "affine - relu - affine - softmax; loss(X) -> scores, loss(X, y) -> (loss, grads)",
    )
)


# FullyConnectedNet ------------------------------------------------------------------------
def _fc_architectures(options: ModelOptions) -> st.SearchStrategy[Architecture]:
    low, high = options.hidden_layers
    return st.builds(
        lambda shape, hidden, classes, norm, keep, reg, seed: Architecture(
            shape, tuple(hidden), classes, norm, keep, reg, seed
        ),
        _input_shapes(),
        st.lists(st.integers(1, 5), min_size=low, max_size=high),
        st.integers(2, 4),
        st.sampled_from(options.normalization),
        st.sampled_from(options.keep_ratio),
        st.sampled_from(options.reg),
        st.integers(0, 10_000),
    )


def _fc_shapes(a: Architecture) -> dict[str, tuple[int, ...]]:
    widths = (a.input_dim, *a.hidden_dims, a.num_classes)
    shapes: dict[str, tuple[int, ...]] = {}
    for i in range(1, len(widths)):
        shapes[f"W{i}"], shapes[f"b{i}"] = (widths[i - 1], widths[i]), (widths[i],)
        if a.normalization and i < len(widths) - 1:
            shapes[f"gamma{i}"], shapes[f"beta{i}"] = (widths[i],), (widths[i],)
    return shapes


def _normalisation(a: Architecture, i: int, width: int) -> Layer:
    params = {"gamma": f"gamma{i}", "beta": f"beta{i}"}
    if a.normalization == "batchnorm":
        bn_param: dict[str, Any] = {
            "mode": "train",
            "eps": _EPS,
            "momentum": _MOMENTUM,
            "running_mean": np.zeros(width),
            "running_var": np.zeros(width),
        }
        return Layer("batchnorm", params, {"bn_param": bn_param})
    return Layer("layernorm", params, {"ln_param": {"eps": _EPS}})


def _fc_layers(a: Architecture) -> tuple[Layer, ...]:
    layers: list[Layer] = []
    for i, width in enumerate(a.hidden_dims, start=1):
        layers.append(_affine(i))
        if a.normalization:
            layers.append(_normalisation(a, i, width))
        layers.append(Layer("relu"))
        if a.dropout:
            param = {"mode": "train", "p": a.keep_ratio, "seed": a.seed}
            layers.append(Layer("dropout", {}, {"dropout_param": param}))
    layers.append(_affine(len(a.hidden_dims) + 1))
    return tuple(layers)


register_model(
    ModelDeclaration(
        name="FullyConnectedNet",
        architectures=_fc_architectures,
        constructor=lambda a: {
            "hidden_dims": list(a.hidden_dims),
            "input_dim": a.input_dim,
            "num_classes": a.num_classes,
            "dropout_keep_ratio": a.keep_ratio,
            "normalization": a.normalization,
            "reg": a.reg,
            "weight_scale": _WEIGHT_SCALE,
            "dtype": "float64",
            "seed": a.seed,
        },
        param_shapes=_fc_shapes,
        layers=_fc_layers,
        options=ModelOptions((1, 3), NORMALIZATIONS, _KEEP_RATIOS, _REGS),
        defaults=ModelOptions((1, 3), NORMALIZATIONS, _KEEP_RATIOS, _REGS),
        description="FullyConnectedNet(hidden_dims, input_dim, num_classes, "
        "dropout_keep_ratio, normalization, reg, weight_scale, dtype, seed): {affine - "
        "[batchnorm | layernorm] - relu - [dropout]} x (L - 1) - affine - softmax",
    )
)


# ThreeLayerConvNet ------------------------------------------------------------------------
def _conv_architectures(options: ModelOptions) -> st.SearchStrategy[Architecture]:
    return st.builds(
        lambda c, side, filters, size, hidden, classes, reg: Architecture(
            (c, side, side), (hidden,), classes, reg=reg, filters=filters, filter_size=size
        ),
        st.integers(1, 2),
        st.sampled_from((2, 4, 6)),
        st.integers(1, 2),
        st.sampled_from((3, 1)),
        st.integers(1, 4),
        st.integers(2, 3),
        st.sampled_from(options.reg),
    )


def _conv_shapes(a: Architecture) -> dict[str, tuple[int, ...]]:
    c, h, w = a.input_shape
    pooled = a.filters * (h // 2) * (w // 2)
    hidden = a.hidden_dims[0]
    return {
        "W1": (a.filters, c, a.filter_size, a.filter_size),
        "b1": (a.filters,),
        "W2": (pooled, hidden),
        "b2": (hidden,),
        "W3": (hidden, a.num_classes),
        "b3": (a.num_classes,),
    }


def _conv_layers(a: Architecture) -> tuple[Layer, ...]:
    conv_param = {"stride": 1, "pad": (a.filter_size - 1) // 2}
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    return (
        Layer("conv_naive", {"w": "W1", "b": "b1"}, {"conv_param": conv_param}),
        Layer("relu"),
        Layer("max_pool_naive", {}, {"pool_param": pool_param}),
        _affine(2),
        Layer("relu"),
        _affine(3),
    )


register_model(
    ModelDeclaration(
        name="ThreeLayerConvNet",
        architectures=_conv_architectures,
        constructor=lambda a: {
            "input_dim": a.input_shape,
            "num_filters": a.filters,
            "filter_size": a.filter_size,
            "hidden_dim": a.hidden_dims[0],
            "num_classes": a.num_classes,
            "weight_scale": _WEIGHT_SCALE,
            "reg": a.reg,
            "dtype": "float64",
        },
        param_shapes=_conv_shapes,
        layers=_conv_layers,
        options=ModelOptions(reg=_REGS),
        defaults=ModelOptions(reg=_REGS),
        description="ThreeLayerConvNet(input_dim=(C, H, W), num_filters, filter_size, "
        "hidden_dim, num_classes, weight_scale, reg, dtype): conv (stride 1, pad "
        "(filter_size - 1) / 2) - relu - 2x2 max pool - affine - relu - affine - softmax",
    )
)
