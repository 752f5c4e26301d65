"""Drawing one case of a catalogue entry for the family tests (normalisation, dropout):
sizes, then every input in its domain and every config, and the helpers that compare the
NumPy reference with its torch twin and with central differences of ⟨dout, out⟩."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gradcheck.student.catalogue.spec import Input, LayerFunction, Values

Array = np.ndarray


def _array(spec: Input, sizes: Mapping[str, int]) -> st.SearchStrategy[Array]:
    low = 0.1 if spec.domain == "positive" else -spec.bound
    floats = st.floats(low, spec.bound, allow_nan=False, allow_infinity=False)
    return hnp.arrays(np.float64, spec.resolve(sizes), elements=floats)


@st.composite
def cases(draw: st.DrawFn, fn: LayerFunction) -> tuple[dict[str, Any], dict[str, Array]]:
    """(values, douts): the named inputs and configs of one call, and an upstream
    gradient for each output."""
    sizes = draw(fn.sizes())
    values: dict[str, Any] = {i.name: draw(_array(i, sizes)) for i in fn.inputs}
    values |= {c.name: draw(c.build(sizes)) for c in fn.configs}
    douts = {
        "d" + o.name: draw(hnp.arrays(np.float64, o.resolve(sizes), elements=st.floats(-2, 2)))
        for o in fn.outputs
    }
    return values, douts


def seeded(
    fn: LayerFunction,
    sizes: Mapping[str, int],
    rng: np.random.Generator,
    configs: Mapping[str, Any],
) -> tuple[dict[str, Any], dict[str, Array]]:
    """A well-conditioned case of fixed sizes: standard normal inputs."""
    values: dict[str, Any] = {i.name: rng.standard_normal(i.resolve(sizes)) for i in fn.inputs}
    values |= {k: (dict(v) if isinstance(v, dict) else v) for k, v in configs.items()}
    douts = {"d" + o.name: rng.standard_normal(o.resolve(sizes)) for o in fn.outputs}
    return values, douts


def spread(values: Values) -> bool:
    """The draws tests keep for finite differences: no near-constant row or column, so that
    a variance is not near 0 where ⟨dout, out⟩ bends sharply."""
    x = values["x"]
    return bool(np.ptp(x) > 0.1) and len(np.unique(np.round(x, 3))) == x.size


def torch_values(fn: LayerFunction, values: Values) -> tuple[dict[str, Any], dict[str, Any]]:
    """The values with every differentiable input a float64 leaf tensor, and those leaves."""
    import torch

    leaves = {
        i.name: torch.tensor(values[i.name], dtype=torch.float64, requires_grad=True)
        for i in fn.inputs
        if i.differentiable
    }
    return {**values, **leaves}, leaves


def central_differences(
    fn: LayerFunction, values: Values, douts: Mapping[str, Array], h: float = 1e-6
) -> dict[str, Array]:
    """d⟨dout, out⟩/d input for every differentiable input, by central differences."""
    assert fn.reference is not None
    forward = fn.reference.forward

    def loss(v: Values) -> float:
        out = forward(v)
        return float(sum(np.sum(douts["d" + o.name] * out[o.name]) for o in fn.outputs))

    grads: dict[str, Array] = {}
    for spec in fn.inputs:
        base = values[spec.name]
        grad = np.zeros_like(base)
        for idx in np.ndindex(base.shape):
            up, down = base.copy(), base.copy()
            up[idx] += h
            down[idx] -= h
            grad[idx] = (loss({**values, spec.name: up}) - loss({**values, spec.name: down})) / (
                2 * h
            )
        grads["d" + spec.name] = grad
    return grads
