"""Affine layers, the elementwise activations and the affine-relu sandwich layer.

``affine_forward(x, w, b)`` flattens each row of ``x`` (N, d1, …, dk) to D = d1·…·dk;
``*_backward(dout, cache)`` returns the gradient of every input, dx in the shape of x.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
from hypothesis import strategies as st

from gradcheck.student.catalogue.registry import register_function
from gradcheck.student.catalogue.spec import (
    Input,
    LayerFunction,
    MutantTensors,
    Output,
    Reference,
    Values,
)
from gradcheck.student.labels import Label

__all__ = ["affine", "affine_grads", "relu"]

Array = np.ndarray
_LEAKY_SLOPE = 0.01


def _affine_sizes() -> st.SearchStrategy[dict[str, int]]:
    """N rows of shape (d1, d2) with D = d1·d2, and M outputs."""
    return st.fixed_dictionaries(
        {
            "N": st.integers(1, 4),
            "d1": st.integers(1, 3),
            "d2": st.integers(1, 3),
            "M": st.integers(1, 4),
        }
    ).map(lambda s: {**s, "D": s["d1"] * s["d2"]})


# x (N, d1, d2) flattened to D = d1·d2 columns, for the affine layer and its sandwich.
_AFFINE_INPUTS = (
    Input("x", ("N", "d1", "d2")),
    Input("w", ("D", "M"), bound=2.0),
    Input("b", ("M",), bound=1.0),
)


def affine(x: Array, w: Array, b: Array) -> Array:
    return x.reshape(x.shape[0], -1) @ w + b


def affine_grads(x: Array, w: Array, dout: Array) -> dict[str, Array]:
    flat = x.reshape(x.shape[0], -1)
    return {"dx": (dout @ w.T).reshape(x.shape), "dw": flat.T @ dout, "db": dout.sum(axis=0)}


def _affine_mutants(values: Values, douts: Mapping[str, Array]) -> list[MutantTensors]:
    x, w, dout = values["x"], values["w"], douts["dout"]
    flat = x.reshape(x.shape[0], -1)
    return [
        (
            Label.WRONG_AXIS,
            "db summed over the outputs instead of the batch",
            {"db": np.broadcast_to(dout.sum(axis=1).sum(), w.shape[1:]).copy()},
        ),
        (
            Label.BATCH_REDUCTION,
            "dw and db divided by the batch size",
            {"dw": flat.T @ dout / x.shape[0], "db": dout.sum(axis=0) / x.shape[0]},
        ),
    ]


register_function(
    LayerFunction(
        name="affine",
        family="affine",
        forward="affine_forward",
        backward="affine_backward",
        inputs=_AFFINE_INPUTS,
        outputs=(Output("out", ("N", "M")),),
        grads=("dx", "dw", "db"),
        sizes=_affine_sizes,
        reference=Reference(
            forward=lambda v: {"out": affine(v["x"], v["w"], v["b"])},
            backward=lambda v, d: affine_grads(v["x"], v["w"], d["dout"]),
            mutants=_affine_mutants,
        ),
        description="affine_forward(x, w, b) -> (out, cache); affine_backward(dout, cache) "
        "-> (dx, dw, db); x (N, d1, …, dk) flattened to (N, D), w (D, M), b (M,)",
    )
)


def relu(x: Array) -> Array:
    return np.maximum(x, 0.0)


# name → (f, f′, the kink points, a mutant f′ evaluated at the output)
_ACTIVATIONS: dict[
    str, tuple[Callable[[Array], Array], Callable[[Array], Array], tuple[float, ...]]
] = {
    "relu": (relu, lambda x: (x > 0).astype(np.float64), (0.0,)),
    "leaky_relu": (
        lambda x: np.where(x > 0, x, _LEAKY_SLOPE * x),
        lambda x: np.where(x > 0, 1.0, _LEAKY_SLOPE),
        (0.0,),
    ),
    "sigmoid": (
        lambda x: 0.5 * (1.0 + np.tanh(0.5 * x)),
        lambda x: 0.25 * (1.0 - np.tanh(0.5 * x) ** 2),
        (),
    ),
    "tanh": (np.tanh, lambda x: 1.0 - np.tanh(x) ** 2, ()),
}


def _activation_mutants(name: str) -> Callable[[Values, Mapping[str, Array]], list[MutantTensors]]:
    f, df, kinks = _ACTIVATIONS[name]

    def mutants(values: Values, douts: Mapping[str, Array]) -> list[MutantTensors]:
        x, dout = values["x"], douts["dout"]
        found: list[MutantTensors] = [
            (Label.MISSING_ACTIVATION_DERIVATIVE, f"{name}′ left out", {"dx": dout.copy()})
        ]
        if not kinks:  # a piecewise-linear f′ is the same at f(x) as at x
            found.append(
                (
                    Label.WRONG_ACTIVATION_DERIVATIVE,
                    f"{name}′ taken at the output, f′(f(x))",
                    {"dx": dout * df(f(x))},
                )
            )
        return found

    return mutants


def _kink_skip(name: str) -> Callable[[Values], dict[str, Array]] | None:
    kinks = _ACTIVATIONS[name][2]
    if not kinks:
        return None
    return lambda v: {"dx": np.isin(v["x"], kinks)}


def _activation_entry(name: str) -> LayerFunction:
    f, df, _ = _ACTIVATIONS[name]
    return LayerFunction(
        name=name,
        family="activation",
        forward=f"{name}_forward",
        backward=f"{name}_backward",
        inputs=(Input("x", ("N", "D")),),
        outputs=(Output("out", ("N", "D")),),
        grads=("dx",),
        sizes=lambda: st.fixed_dictionaries({"N": st.integers(1, 4), "D": st.integers(1, 4)}),
        reference=Reference(
            forward=lambda v: {"out": f(v["x"])},
            backward=lambda v, d: {"dx": d["dout"] * df(v["x"])},
            skip=_kink_skip(name),
            mutants=_activation_mutants(name),
        ),
        description=f"{name}_forward(x) -> (out, cache); {name}_backward(dout, cache) -> dx"
        + (
            f" (slope {_LEAKY_SLOPE} for x < 0, or lrelu_param['alpha'])"
            if name == "leaky_relu"
            else ""
        ),
    )


for _name in _ACTIVATIONS:
    register_function(_activation_entry(_name))


def _affine_relu_skip(values: Values) -> dict[str, Array]:
    """A pre-activation at exactly 0 leaves relu′ to convention: its row of dx, its column
    of dw and its entry of db are right either way."""
    x = values["x"]
    kink = affine(x, values["w"], values["b"]) == 0.0
    rows, cols = kink.any(axis=1), kink.any(axis=0)
    return {
        "dx": np.broadcast_to(rows.reshape(-1, *([1] * (x.ndim - 1))), x.shape).copy(),
        "dw": np.broadcast_to(cols, values["w"].shape).copy(),
        "db": cols.copy(),
    }


register_function(
    LayerFunction(
        name="affine_relu",
        family="sandwich",
        forward="affine_relu_forward",
        backward="affine_relu_backward",
        inputs=_AFFINE_INPUTS,
        outputs=(Output("out", ("N", "M")),),
        grads=("dx", "dw", "db"),
        sizes=_affine_sizes,
        reference=Reference(
            forward=lambda v: {"out": relu(affine(v["x"], v["w"], v["b"]))},
            backward=lambda v, d: affine_grads(
                v["x"], v["w"], d["dout"] * (affine(v["x"], v["w"], v["b"]) > 0)
            ),
            skip=_affine_relu_skip,
        ),
        description="affine_relu_forward(x, w, b) -> (out, cache); "
        "affine_relu_backward(dout, cache) -> (dx, dw, db): an affine layer then a relu",
    )
)
