"""Mutant references: the core's backprop with one known mistake each, used to diagnose.

Each mutant replaces f′ in the delta recursion, in every hidden layer at once or in one
layer only (a student may get one layer of a loop wrong), and at a non-linear output:

- ``missing_activation_derivative``: f′ left out (taken as 1);
- ``wrong_activation_derivative``: f′ taken at a = f(z) instead of z (σ′(σ(z))); the
  "in terms of a" formula applied to z (σ: z(1 − z), tanh: 1 − z²); leaky ReLU given the
  plain ReLU derivative.

Factors (sign flips, scalings, sum/mean confusions), transposes and zeros need no mutant:
the diagnosis measures them directly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gradcheck.case import Case
from gradcheck.nn.activations import ACTIVATIONS, Activation
from gradcheck.nn.network import backward, forward
from gradcheck.student.labels import Label

__all__ = ["NetworkMutant", "network_mutants"]

Array = np.ndarray
_Override = Callable[[Activation, Array, Array], Array | None]


@dataclass(frozen=True)
class NetworkMutant:
    label: Label
    mistake: str
    grads: dict[str, Array]  # in the core's naming


def _overrides(activation: Activation) -> list[tuple[Label, str, _Override]]:
    found: list[tuple[Label, str, _Override]] = [
        (
            Label.MISSING_ACTIVATION_DERIVATIVE,
            f"{activation.name}′ left out",
            lambda a, z, f: np.ones_like(z),
        ),
        (
            Label.WRONG_ACTIVATION_DERIVATIVE,
            f"{activation.name}′ taken at the activation, f′(f(z)), instead of at z",
            lambda a, z, f: a.df(f, a.f(f)),
        ),
    ]
    if activation.df_of_output is not None:
        of_output = activation.df_of_output
        found.append(
            (
                Label.WRONG_ACTIVATION_DERIVATIVE,
                f"{activation.name}′ written for a = f(z) but applied to z",
                lambda a, z, f: of_output(z),
            )
        )
    if activation.name.startswith("leaky_relu"):
        relu = ACTIVATIONS.get("relu")
        found.append(
            (
                Label.WRONG_ACTIVATION_DERIVATIVE,
                "leaky ReLU given the ReLU derivative (0 for z < 0)",
                lambda a, z, f: relu.df(z, f),
            )
        )
    return found


def network_mutants(case: Case) -> list[NetworkMutant]:
    """Every mutant of ``case``'s network: each override in each set of layers."""
    spec = case.spec
    cache = forward(spec, case.params, case.X)
    hidden = list(range(1, spec.depth))
    layer_sets: list[tuple[str, set[int]]] = []
    if hidden:
        layer_sets.append(("every hidden layer", set(hidden)))
        if len(hidden) > 1:
            layer_sets.extend((f"layer {layer}", {layer}) for layer in hidden)
    if spec.output != "identity":
        layer_sets.append(("the output layer", {spec.depth}))
        if hidden:
            layer_sets.append(("every layer", set(range(1, spec.depth + 1))))
    mutants = []
    for where, layers in layer_sets:
        activation = spec.activation(min(layers))
        for label, mistake, override in _overrides(activation):

            def derivative(
                layer: int,
                act: Activation,
                z: Array,
                f: Array,
                *,
                o: _Override = override,
                at: set[int] = layers,
            ) -> Array:
                return act.df(z, f) if layer not in at else np.asarray(o(act, z, f), dtype=z.dtype)

            with np.errstate(all="ignore"):
                grads = backward(spec, case.params, cache, case.y, derivative=derivative)
            mutants.append(NetworkMutant(label, f"{mistake}, in {where}", grads))
    return mutants
