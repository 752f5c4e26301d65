"""The seed's ``gradcheck.backprop`` against torch autograd written out here, independently of
both the core and ``reference_impls``: random shapes, batch sizes from 1, both dtypes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import gradcheck

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.reference

TOLERANCE = {"float64": (1e-10, 1e-12), "float32": (1e-4, 1e-5)}  # (rtol, atol·max|g|)


def torch_two_layer(X, y, w1, b1, w2, b2):  # type: ignore[no-untyped-def]
    """a1 = σ(X w1 + b1), ŷ = a1 w2 + b2, L = ½ Σ (ŷ − y)²."""
    leaves = [torch.tensor(v, requires_grad=True) for v in (w1, b1, w2, b2)]
    tw1, tb1, tw2, tb2 = leaves
    a1 = torch.sigmoid(torch.tensor(X) @ tw1 + tb1)
    loss = 0.5 * ((a1 @ tw2 + tb2 - torch.tensor(y)) ** 2).sum()
    grads = torch.autograd.grad(loss, leaves)
    return dict(zip(("w1", "b1", "w2", "b2"), (g.numpy() for g in grads), strict=True))


@st.composite
def problems(draw: st.DrawFn) -> tuple[str, dict[str, np.ndarray]]:
    dtype = draw(st.sampled_from(["float64", "float32"]))
    B, D, H, K = (draw(st.integers(1, 9)) for _ in range(4))
    values = st.floats(-3, 3, width=32 if dtype == "float32" else 64)

    def arr(*shape: int) -> np.ndarray:
        return draw(arrays(dtype, shape, elements=values))

    return dtype, {"X": arr(B, D), "y": arr(B, K), "w1": arr(D, H), "b1": arr(H), "w2": arr(H, K),
                   "b2": arr(K)}  # fmt: skip


@settings(max_examples=200)
@given(problems())
def test_backprop_matches_torch_autograd(problem: tuple[str, dict[str, np.ndarray]]) -> None:
    dtype, p = problem
    ours = gradcheck.backprop(p["X"], p["y"], {"w1": p["w1"], "w2": p["w2"]},
                              {"b1": p["b1"], "b2": p["b2"]})  # fmt: skip
    theirs = torch_two_layer(p["X"], p["y"], p["w1"], p["b1"], p["w2"], p["b2"])
    rtol, atol = TOLERANCE[dtype]
    scale = max(float(np.max(np.abs(g))) for g in theirs.values())
    for name in ("w1", "b1", "w2", "b2"):
        assert ours[name].dtype == np.dtype(dtype) and ours[name].shape == p[name].shape
        np.testing.assert_allclose(ours[name], theirs[name], rtol=rtol, atol=atol * scale,
                                   err_msg=f"gradient {name}")  # fmt: skip
