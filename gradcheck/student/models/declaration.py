"""What a graded model class is, as data: the architecture a case draws, the layers its loss
runs (each a layer of the catalogue, by name), the shapes of its ``params`` and the keyword
arguments its constructor takes.

A model class in the CS231n style is built with keyword arguments, keeps its parameters in
``self.params`` (``W1``, ``b1``, …, ``gamma1``, ``beta1``) and has ``loss(X, y=None)``,
which returns the class scores when ``y`` is None (test mode) and ``(loss, grads)`` with
``grads`` keyed like ``params`` otherwise (train mode). The loss is the softmax loss of
the scores, the mean over the batch, plus ``0.5·reg·ΣW²`` over the weights only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from gradcheck.errors import SpecError

__all__ = [
    "NORMALIZATIONS",
    "Architecture",
    "Layer",
    "ModelDeclaration",
    "ModelOptions",
]

NORMALIZATIONS: tuple[str | None, ...] = (None, "batchnorm", "layernorm")


@dataclass(frozen=True)
class Architecture:
    """The options of one constructed model: the sizes, the normalisation (None,
    ``batchnorm`` or ``layernorm``), the probability of keeping a unit in dropout (1: no
    dropout), the regularisation strength and the dropout seed; ``filters`` and
    ``filter_size`` for a convolutional model."""

    input_shape: tuple[int, ...]
    hidden_dims: tuple[int, ...]
    num_classes: int
    normalization: str | None = None
    keep_ratio: float = 1.0
    reg: float = 0.0
    seed: int = 0
    filters: int = 0
    filter_size: int = 0

    @property
    def input_dim(self) -> int:
        size = 1
        for d in self.input_shape:
            size *= d
        return size

    @property
    def dropout(self) -> bool:
        return self.keep_ratio < 1.0

    def describe(self) -> str:
        parts = [
            f"input {'x'.join(map(str, self.input_shape))}",
            f"hidden {list(self.hidden_dims)}",
            f"{self.num_classes} classes",
        ]
        if self.filters:
            parts.append(f"{self.filters} filters of {self.filter_size}x{self.filter_size}")
        if self.normalization:
            parts.append(self.normalization)
        if self.dropout:
            parts.append(f"dropout keeping {self.keep_ratio:g} (seed {self.seed})")
        parts.append(f"reg {self.reg:g}")
        return ", ".join(parts)


@dataclass(frozen=True)
class Layer:
    """One step of the reference model: the catalogue function ``function`` applied to the
    previous step's output (its first input), with its other inputs taken from the model's
    parameters (``params`` maps the function's input name to the parameter's name:
    ``{"w": "W1", "b": "b1"}``) and its configs given (``{"bn_param": {…}}``; a ``mode``
    key is set to the loss's mode on every call)."""

    function: str
    params: Mapping[str, str] = field(default_factory=dict)
    config: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelOptions:
    """What the cases of a model check draw from: the number of hidden layers (a closed
    range), the normalisations, the dropout keep ratios (1.0: none) and the regularisation
    strengths. An assignment narrows a declaration's options; it cannot widen them."""

    hidden_layers: tuple[int, int] = (1, 1)
    normalization: tuple[str | None, ...] = (None,)
    keep_ratio: tuple[float, ...] = (1.0,)
    reg: tuple[float, ...] = (0.0, 0.3, 1.7)

    def narrow(self, **chosen: Any) -> ModelOptions:
        """These options with some replaced by a subset of themselves; a value outside them
        (a normalisation the model has not, dropout on a model without it) is an error that
        names it."""
        unknown = sorted(set(chosen) - {"hidden_layers", "normalization", "keep_ratio", "reg"})
        if unknown:
            raise SpecError(
                f"unknown model option(s) {', '.join(unknown)} "
                "(known: hidden_layers, normalization, keep_ratio, reg)"
            )
        values: dict[str, Any] = {}
        for name in ("normalization", "keep_ratio"):
            if name in chosen:
                allowed = getattr(self, name)
                picked = tuple(chosen[name])
                outside = [v for v in picked if v not in allowed]
                if outside or not picked:
                    raise SpecError(
                        f"{name} {outside or picked!r} is not among this model's {allowed!r}"
                    )
                values[name] = picked
        if "reg" in chosen:
            regs = tuple(float(r) for r in chosen["reg"])
            if not regs or any(r < 0 for r in regs):
                raise SpecError(f"reg must be a non-empty list of numbers ≥ 0, not {regs!r}")
            values["reg"] = regs
        if "hidden_layers" in chosen:
            low, high = (int(v) for v in chosen["hidden_layers"])
            if not self.hidden_layers[0] <= low <= high <= self.hidden_layers[1]:
                raise SpecError(f"hidden_layers ({low}, {high}) is not within {self.hidden_layers}")
            values["hidden_layers"] = (low, high)
        return ModelOptions(**{**self.__dict__, **values})


@dataclass(frozen=True)
class ModelDeclaration:
    """A graded model class.

    - ``name``: the class the submission defines;
    - ``architectures(options)``: a strategy of the architectures to construct;
    - ``constructor(arch)``: the keyword arguments of the class for ``arch``;
    - ``param_shapes(arch)``: the shape of every parameter, by name, in ``params`` order;
    - ``layers(arch)``: the reference model, the catalogue layers from X to the scores;
    - ``regularised(name)``: whether parameter ``name`` is in the L2 term (weights only);
    - ``options``: everything the model can be checked with; ``defaults``: what a check
      draws unless an assignment narrows it.
    """

    name: str
    architectures: Callable[[ModelOptions], st.SearchStrategy[Architecture]]
    constructor: Callable[[Architecture], dict[str, Any]]
    param_shapes: Callable[[Architecture], dict[str, tuple[int, ...]]]
    layers: Callable[[Architecture], tuple[Layer, ...]]
    options: ModelOptions
    defaults: ModelOptions
    description: str = ""
    regularised: Callable[[str], bool] = field(default=lambda name: name.startswith("W"))
