"""The reference model: a declaration's layers run through the catalogue's NumPy references.

The forward applies each :class:`~gradcheck.student.models.declaration.Layer`'s reference
forward to the previous output; the loss is the catalogue's ``softmax_loss`` of the scores
plus ``0.5·reg·ΣW²`` over the regularised parameters; the backward runs each reference
backward in reverse order, sending ``dx`` down and collecting the parameters' gradients, to
which ``reg·W`` is added. Layers are found by name (``get_function``), so a family of the
catalogue (normalisation, dropout, convolution) plugs in by being registered.

Dropout is the catalogue's: in train mode it replays the course's mask from the seed, which
the course's model passes to every dropout layer (each layer reseeds, so each draws the
first ``rand`` after the seed); or, given ``masks``, inverted dropout with those masks.
A :class:`Variation` gives the reference with one known mistake, for the diagnosis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from gradcheck.student.catalogue.registry import get_function
from gradcheck.student.models.declaration import Layer

__all__ = ["Outcome", "Variation", "run_model"]

Array = np.ndarray
Mode = Literal["train", "test"]
# Dropout masks given by the shape of the layer's input: kept units True.
Masks = Mapping[tuple[int, ...], Array]


@dataclass(frozen=True)
class Variation:
    """How a mutant reference differs from the correct one: the factor of the L2 term in
    the loss (0.5) and of its gradient (1.0, that is reg·W), whether every parameter is
    regularised (biases, gamma and beta too), whether the data loss is averaged over the
    batch, and the mode dropout layers run in whatever the loss's mode (None: the same)."""

    reg_loss: float = 0.5
    reg_grad: float = 1.0
    regularise_all: bool = False
    average: bool = True
    dropout_mode: Mode | None = None


CORRECT = Variation()


@dataclass(frozen=True)
class Outcome:
    """The scores, and in train mode the loss, every parameter's gradient and ``terms``, a
    bound on the size of the terms summed into any gradient entry (for the rounding error a
    correct evaluation order may make, as where a bias before batchnorm has gradient 0)."""

    scores: Array
    loss: float | None = None
    grads: Mapping[str, Array] | None = None
    terms: float = 0.0


def _configs(layer: Layer, mode: Mode, variation: Variation) -> dict[str, Any]:
    """Fresh copies of the layer's configs with ``mode`` set where they have one."""
    if layer.function == "dropout" and variation.dropout_mode is not None:
        mode = variation.dropout_mode
    configs: dict[str, Any] = {}
    for name, value in layer.config.items():
        if isinstance(value, dict):
            value = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in value.items()}
            if "mode" in value:
                value["mode"] = mode
        configs[name] = value
    return configs


def _given_mask(layer: Layer, values: Mapping[str, Any], masks: Masks | None) -> Array | None:
    """The mask a train-mode dropout layer is given instead of the seed's replay, if any."""
    if masks is None or layer.function != "dropout":
        return None
    if values["dropout_param"]["mode"] != "train":
        return None
    return masks.get(values["x"].shape)


def _forward(
    layers: Sequence[Layer],
    params: Mapping[str, Array],
    X: Array,
    mode: Mode,
    v: Variation,
    masks: Masks | None,
) -> tuple[Array, list[dict[str, Any]]]:
    """The scores and, per layer, the values its reference was called with."""
    h = np.asarray(X, dtype=np.float64)
    called: list[dict[str, Any]] = []
    for layer in layers:
        fn = get_function(layer.function)
        assert fn.reference is not None, f"catalogue function {fn.name} has no reference"
        values = {fn.inputs[0].name: h, **_configs(layer, mode, v)}
        values.update({arg: params[name] for arg, name in layer.params.items()})
        mask = _given_mask(layer, values, masks)
        if mask is not None:  # inverted dropout with the given mask: x·m / p
            h = h * mask / values["dropout_param"]["p"]
            values["given mask"] = mask
        else:
            h = np.asarray(fn.reference.forward(values)["out"], dtype=np.float64)
        called.append(values)
    return h, called


def _backward(
    layers: Sequence[Layer], called: Sequence[dict[str, Any]], dscores: Array
) -> tuple[dict[str, Array], float]:
    """Every parameter's gradient, and the largest |upstream gradient| × |input| product
    met on the way times the batch and the depth: a bound on any summed term."""
    grads: dict[str, Array] = {}
    d = dscores
    largest = 0.0
    for layer, values in zip(reversed(layers), reversed(called), strict=True):
        size = max(
            (
                float(np.max(np.abs(v), initial=0.0))
                for v in values.values()
                if isinstance(v, np.ndarray)
            ),
            default=0.0,
        )
        largest = max(largest, float(np.max(np.abs(d), initial=0.0)) * max(1.0, size))
        if "given mask" in values:
            d = d * values["given mask"] / values["dropout_param"]["p"]
            continue
        fn = get_function(layer.function)
        assert fn.reference is not None
        found = fn.reference.backward(values, {"dout": d})
        for arg, name in layer.params.items():
            grads[name] = np.asarray(found[f"d{arg}"], dtype=np.float64)
        d = np.asarray(found[f"d{fn.inputs[0].name}"], dtype=np.float64)
    return grads, largest * len(dscores) * len(layers)


def run_model(
    layers: Sequence[Layer],
    params: Mapping[str, Array],
    X: Array,
    y: Array | None,
    *,
    reg: float,
    regularised: Sequence[str],
    variation: Variation = CORRECT,
    masks: Masks | None = None,
) -> Outcome:
    """The reference model's scores (``y`` None) or its loss and gradients; ``masks`` are
    the submission's own dropout masks, used instead of the seed's replay (see ``check``)."""
    mode: Mode = "test" if y is None else "train"
    scores, called = _forward(layers, params, X, mode, variation, masks)
    if y is None:
        return Outcome(scores)
    softmax = get_function("softmax_loss").reference
    assert softmax is not None
    loss = float(softmax.forward({"x": scores, "y": y})["loss"])
    dscores = np.asarray(softmax.backward({"x": scores, "y": y}, {})["dx"])
    if not variation.average:
        loss, dscores = loss * len(y), dscores * len(y)
    grads, terms = _backward(layers, called, dscores)
    names = list(params) if variation.regularise_all else list(regularised)
    for name in names:
        w = params[name]
        loss += variation.reg_loss * reg * float(np.sum(w * w))
        grads[name] = grads[name] + variation.reg_grad * reg * w
        terms = max(terms, reg * float(np.max(np.abs(w), initial=0.0)))
    return Outcome(scores, loss, {name: grads[name] for name in params}, terms)
