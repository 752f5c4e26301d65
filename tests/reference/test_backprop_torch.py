"""The seed's ``gradcheck.backprop`` against torch autograd written out here, independently of
both the core and ``reference_impls``: random shapes, batch sizes from 1, both dtypes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import gradcheck
from tests.helpers import assert_outputs_match, reference_tolerance

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.reference

NAMES = ("w1", "b1", "w2", "b2")
# float64 keeps rtol 1e-10, tighter than the shared table's 1e-9: both sides compute the same
# small network, so they differ by summation order alone.
RTOL = {"float64": 1e-10}


def torch_two_layer(X, y, w1, b1, w2, b2):  # type: ignore[no-untyped-def]
    """a1 = σ(X w1 + b1), ŷ = a1 w2 + b2, L = ½ Σ (ŷ − y)²."""
    leaves = [torch.tensor(v, requires_grad=True) for v in (w1, b1, w2, b2)]
    tw1, tb1, tw2, tb2 = leaves
    a1 = torch.sigmoid(torch.tensor(X) @ tw1 + tb1)
    loss = 0.5 * ((a1 @ tw2 + tb2 - torch.tensor(y)) ** 2).sum()
    grads = torch.autograd.grad(loss, leaves)
    return dict(zip(NAMES, (g.numpy() for g in grads), strict=True))


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
    assert all(ours[name].shape == p[name].shape for name in NAMES)
    assert_outputs_match(
        f"backprop {dtype} {p['X'].shape}×{p['w1'].shape}×{p['w2'].shape}",
        (None, theirs),
        (None, ours),
        dtype=dtype,
        names=NAMES,
        engines=("backprop", "torch"),
        backward=reference_tolerance(dtype, rtol=RTOL.get(dtype)),
    )
