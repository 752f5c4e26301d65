"""The training step in preallocated buffers (gradcheck.nn.workspace) and the activations'
in-place forms it uses: both must give exactly, bit for bit, what the allocating path gives,
for every registered activation and loss."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gradcheck.case import Case
from gradcheck.errors import DTypeError, ShapeError
from gradcheck.nn.activations import ACTIVATIONS
from gradcheck.nn.losses import LOSSES
from gradcheck.nn.network import evaluate
from gradcheck.nn.spec import NetworkSpec
from gradcheck.nn.workspace import Workspace
from gradcheck.strategies import cases

SPECIAL = [0.0, -0.0, 1e-30, -1e-30, 1.0, -1.0, 40.0, -40.0, np.inf, -np.inf, np.nan]


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal bit for bit, NaN included, and the sign of zero too."""
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@settings(max_examples=30)
@given(data=st.data())
def test_in_place_forms_equal_the_plain_ones(name: str, dtype: str, data: st.DataObject) -> None:
    act = ACTIVATIONS.get(name)
    elements = st.one_of(st.sampled_from(SPECIAL), st.floats(-50, 50, width=32))
    z = data.draw(arrays(dtype, (3, 4), elements=elements))
    g = data.draw(arrays(dtype, (3, 4), elements=st.floats(-5, 5, width=32)))
    with np.errstate(all="ignore"):
        a = act.f(z)
        out = np.full_like(z, 7.0)
        assert act.apply(z, out=out) is out
        assert _same(out, a)
        expected = g * act.df(z, a)
        into = g.copy()
        assert act.backprop(into, z, a, out=into) is into
        assert _same(into, expected)
        separate = np.full_like(z, 7.0)
        act.backprop(g, z, a, out=separate)
        assert _same(separate, expected)


@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@settings(max_examples=4)
@given(data=st.data())
def test_a_workspace_step_equals_evaluate(activation: str, loss: str, data: st.DataObject) -> None:
    first = data.draw(cases(activations=[activation], losses=[loss], max_depth=4, kinks="aim"))
    spec = first.spec
    batch = first.X.shape[0]
    # Other values of the same shapes (halved parameters keep the loss in its domain).
    halved = {name: value * 0.5 for name, value in first.params.items()}
    second = Case(spec, halved, first.X[::-1].copy(), first.y[::-1].copy())
    workspace = Workspace(spec, batch)
    # Two steps on different data: the second must not see anything left by the first.
    for case in (first, second):
        loss_value, grads = evaluate(spec, case.params, case.X, case.y)
        step_loss, step_grads = workspace.step(case.params, case.X, case.y)
        assert step_loss == loss_value
        assert list(step_grads) == list(spec.param_names)
        for name in spec.param_names:
            assert _same(step_grads[name], grads[name]), name


def test_the_gradients_are_the_workspace_buffers_and_are_overwritten() -> None:
    spec = NetworkSpec((3, 4, 2), hidden="relu", loss="mse")
    rng = np.random.default_rng(0)
    params = {name: rng.standard_normal(shape) for name, shape in spec.param_shapes().items()}
    X, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    workspace = Workspace(spec, 5)
    _, first = workspace.step(params, X, y)
    kept = {name: g.copy() for name, g in first.items()}
    _, second = workspace.step(params, 2 * X, y)
    assert all(second[name] is first[name] for name in first)
    assert not np.array_equal(second["W1"], kept["W1"])
    assert workspace.nbytes > 0


def test_workspace_errors_name_the_problem() -> None:
    spec = NetworkSpec((3, 4, 2), hidden="tanh", loss="mse", dtype="float32")
    params = {n: np.zeros(s, np.float32) for n, s in spec.param_shapes().items()}
    X, y = np.zeros((5, 3), np.float32), np.zeros((5, 2), np.float32)
    workspace = Workspace(spec, 5)
    with pytest.raises(ShapeError, match=r"X has shape \(4, 3\); this workspace takes \(5, 3\)"):
        workspace.step(params, X[:4], y)
    with pytest.raises(
        ShapeError, match=r"parameter W2 has shape None; this workspace takes \(2, 4\)"
    ):
        workspace.step({k: v for k, v in params.items() if k != "W2"}, X, y)
    with pytest.raises(DTypeError, match="b1 is float64; this workspace takes float32"):
        workspace.step({**params, "b1": np.zeros(4)}, X, y)
    with pytest.raises(ShapeError, match="batch must be >= 1"):
        Workspace(spec, 0)
