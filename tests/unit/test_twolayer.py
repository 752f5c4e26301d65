"""The seed's ``backprop(X, y, weights, biases)``: the two-layer sigmoid/linear network with
L = ½Σ(ŷ − y)², checked against the general core and against the formula written out."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gradcheck.errors import DTypeError, ShapeError
from gradcheck.nn.network import loss_and_grads
from gradcheck.nn.spec import NetworkSpec
from gradcheck.nn.twolayer import backprop

Problem = tuple[np.ndarray, np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]
SHAPES = {"w1": ("D", "H"), "w2": ("H", "K"), "b1": ("H",), "b2": ("K",)}


@st.composite
def problems(draw: st.DrawFn, dtype: type[np.floating] = np.float64) -> Problem:
    """X (B, D), y (B, K), weights {w1: (D, H), w2: (H, K)}, biases {b1: (H,), b2: (K,)}."""
    dims = {
        "B": draw(st.integers(1, 6), label="B"),
        **{d: draw(st.integers(1, 8), label=d) for d in "DHK"},
    }
    elements = st.floats(-3.0, 3.0, width=np.finfo(dtype).bits)

    def array(*axes: str) -> np.ndarray:
        return draw(hnp.arrays(dtype, tuple(dims[a] for a in axes), elements=elements))

    X, y = array("B", "D"), array("B", "K")
    weights = {name: array(*SHAPES[name]) for name in ("w1", "w2")}
    biases = {name: array(*SHAPES[name]) for name in ("b1", "b2")}
    return X, y, weights, biases


def _assert_same(
    actual: dict[str, np.ndarray], expected: dict[str, np.ndarray], rtol: float
) -> None:
    assert sorted(actual) == ["b1", "b2", "w1", "w2"]
    for name in expected:
        assert actual[name].shape == expected[name].shape, name
        np.testing.assert_allclose(actual[name], expected[name], rtol=rtol, atol=rtol, err_msg=name)


def _by_hand(
    X: np.ndarray, y: np.ndarray, w: dict[str, np.ndarray], b: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """The backward pass of a1 = σ(X w1 + b1), ŷ = a1 w2 + b2, L = ½Σ(ŷ − y)², row-major."""
    a1 = 1 / (1 + np.exp(-(X @ w["w1"] + b["b1"])))
    d2 = a1 @ w["w2"] + b["b2"] - y
    d1 = (d2 @ w["w2"].T) * a1 * (1 - a1)
    return {"w1": X.T @ d1, "b1": d1.sum(axis=0), "w2": a1.T @ d2, "b2": d2.sum(axis=0)}


@given(problems())
def test_equals_the_general_core_on_transposed_parameters(problem: Problem) -> None:
    X, y, w, b = problem
    D, H = w["w1"].shape
    K = w["w2"].shape[1]
    spec = NetworkSpec((D, H, K), hidden="sigmoid", output="identity", loss="mse", reduction="sum")
    params = {"W1": w["w1"].T, "b1": b["b1"], "W2": w["w2"].T, "b2": b["b2"]}
    _, core = loss_and_grads(spec, params, X, y)
    expected = {"w1": core["W1"].T, "b1": core["b1"], "w2": core["W2"].T, "b2": core["b2"]}
    _assert_same(backprop(X, y, w, b), expected, rtol=1e-12)


@given(problems())
def test_equals_the_formula_written_out(problem: Problem) -> None:
    X, y, w, b = problem
    _assert_same(backprop(X, y, w, b), _by_hand(X, y, w, b), rtol=1e-10)


@given(problems(np.float32))
def test_float32_in_float32_out(problem: Problem) -> None:
    X, y, w, b = problem
    grads = backprop(X, y, w, b)
    for name, grad in grads.items():
        assert grad.dtype == np.float32, f"{name} is {grad.dtype}"
        assert grad.flags.c_contiguous, name
    as64 = {k: v.astype(np.float64) for k, v in {**w, **b}.items()}
    expected = _by_hand(
        X.astype(np.float64),
        y.astype(np.float64),
        {k: as64[k] for k in ("w1", "w2")},
        {k: as64[k] for k in ("b1", "b2")},
    )
    for name in expected:
        scale = 1 + np.max(np.abs(expected[name]))
        np.testing.assert_allclose(grads[name], expected[name], rtol=0, atol=1e-4 * scale)


def test_returns_new_arrays_with_the_input_shapes() -> None:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    w = {"w1": rng.normal(size=(3, 5)), "w2": rng.normal(size=(5, 2))}
    b = {"b1": rng.normal(size=5), "b2": rng.normal(size=2)}
    before = {k: v.copy() for k, v in {**w, **b}.items()}
    grads = backprop(X, y, w, b)
    assert {k: v.shape for k, v in grads.items()} == {k: v.shape for k, v in before.items()}
    for name, value in {**w, **b}.items():
        np.testing.assert_array_equal(value, before[name])


# errors ------------------------------------------------------------------------------------


def _valid(B: int = 4, D: int = 3, H: int = 5, K: int = 2) -> Problem:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(B, D)), rng.normal(size=(B, K))
    return (
        X,
        y,
        {"w1": np.ones((D, H)), "w2": np.ones((H, K))},
        {"b1": np.zeros(H), "b2": np.zeros(K)},
    )


@pytest.mark.parametrize(
    ("weights", "biases", "fragment"),
    [
        ({"W1": 1, "W2": 1}, None, "weights must have exactly the keys w1, w2, got ['W1', 'W2']"),
        ({"w1": 1}, None, "weights must have exactly the keys w1, w2, got ['w1']"),
        (None, {"b1": 1, "b2": 1, "b3": 1}, "biases must have exactly the keys b1, b2"),
        ([1, 2], None, "weights must be a dict with keys w1, w2, got list"),
    ],
    ids=["capitalised", "missing-w2", "extra-b3", "not-a-dict"],
)
def test_wrong_keys_are_shape_errors(weights: object, biases: object, fragment: str) -> None:
    X, y, w, b = _valid()
    weights = w if weights is None else weights
    biases = b if biases is None else biases
    with pytest.raises(ShapeError) as info:
        backprop(X, y, weights, biases)  # type: ignore[arg-type]
    assert fragment in str(info.value)


def test_mismatched_hidden_widths_are_named() -> None:
    X, y, w, b = _valid()
    w["w2"] = np.ones((4, 2))
    with pytest.raises(ShapeError) as info:
        backprop(X, y, w, b)
    assert "w1 is (3, 5) and w2 is (4, 2): hidden widths 5 ≠ 4" in str(info.value)


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("w1", np.ones(3), "w1 must be 2-d (fan_in, fan_out), got shape (3,)"),
        ("b1", np.zeros(4), "b1 has shape (4,), expected (5,)"),
        ("b2", np.zeros((1, 2)), "b2 has shape (1, 2), expected (2,)"),
    ],
)
def test_badly_shaped_parameters_are_named(name: str, value: np.ndarray, fragment: str) -> None:
    X, y, w, b = _valid()
    (w if name.startswith("w") else b)[name] = value
    with pytest.raises(ShapeError) as info:
        backprop(X, y, w, b)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("y_shape", "fragment"),
    [
        ((4,), "targets y have shape (4,), expected (4, 2)"),
        ((3, 2), "shape (3, 2), expected (4, 2)"),
    ],
)
def test_wrong_target_shape_is_a_shape_error(y_shape: tuple[int, ...], fragment: str) -> None:
    X, _, w, b = _valid()
    with pytest.raises(ShapeError) as info:
        backprop(X, np.zeros(y_shape), w, b)
    assert fragment in str(info.value)


def test_dtypes_must_agree() -> None:
    X, y, w, b = _valid()
    with pytest.raises(DTypeError, match="w1 has dtype int64; use float64 or float32"):
        backprop(X, y, {"w1": np.ones((3, 5), dtype=np.int64), "w2": w["w2"]}, b)
    w32 = {k: v.astype(np.float32) for k, v in w.items()}
    b32 = {k: v.astype(np.float32) for k, v in b.items()}
    with pytest.raises(DTypeError, match="X has dtype float64 but the network runs in float32"):
        backprop(X, y.astype(np.float32), w32, b32)
