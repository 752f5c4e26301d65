"""The normalisation entries of the layer catalogue (batchnorm, batchnorm_alt, layernorm,
spatial_batchnorm, spatial_groupnorm): the NumPy reference against its torch twin and
against central differences, every mutant a real mistake, and the modes as values."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from gradcheck.student.catalogue import get_function
from tests.student.norm_cases import cases, central_differences, seeded, spread, torch_values

torch = pytest.importorskip("torch")
from reference_impls.torch_catalogue import load as load_twins  # noqa: E402

NAMES = ["batchnorm", "batchnorm_alt", "layernorm", "spatial_batchnorm", "spatial_groupnorm"]
TWINS = load_twins()
_SETTINGS = settings(max_examples=25, deadline=None)


def _with_test_mode(name: str, data: st.DataObject) -> tuple[dict[str, Any], dict[str, Any]]:
    """A case, switched to test mode half of the time for the batchnorm entries (which
    the catalogue draws in train mode only; the reference covers both)."""
    values, douts = data.draw(cases(get_function(name)))
    if "bn_param" in values and data.draw(st.booleans()):
        values["bn_param"] = {**values["bn_param"], "mode": "test"}
    return values, douts


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
@_SETTINGS
def test_reference_matches_the_torch_twin(name: str, data: st.DataObject) -> None:
    fn = get_function(name)
    assert fn.reference is not None
    values, douts = _with_test_mode(name, data)
    ours = fn.reference.forward(values)
    tvalues, leaves = torch_values(fn, values)
    theirs = TWINS[name](tvalues)
    assert set(ours) == set(theirs)
    for key, got in ours.items():
        np.testing.assert_allclose(got, theirs[key].detach().numpy(), rtol=1e-9, atol=1e-9)
    loss = (theirs["out"] * torch.as_tensor(douts["dout"])).sum()
    torch_grads = torch.autograd.grad(loss, list(leaves.values()))
    grads = fn.reference.backward(values, douts)
    for leaf, tgrad in zip(leaves, torch_grads, strict=True):
        np.testing.assert_allclose(grads["d" + leaf], tgrad.numpy(), rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
@_SETTINGS
def test_reference_backward_matches_central_differences(name: str, data: st.DataObject) -> None:
    fn = get_function(name)
    assert fn.reference is not None
    values, douts = _with_test_mode(name, data)
    assume(spread(values))
    grads = fn.reference.backward(values, douts)
    numeric = central_differences(fn, values, douts)
    assert set(grads) == set(numeric) == set(fn.grads)
    for key, got in grads.items():
        assert got.shape == values[key[1:]].shape
        np.testing.assert_allclose(got, numeric[key], rtol=1e-5, atol=1e-5)


# A well-conditioned case per entry, with sizes where every mistake shows.
_SIZES = {
    "batchnorm": {"N": 4, "D": 3},
    "batchnorm_alt": {"N": 4, "D": 3},
    "layernorm": {"N": 3, "D": 4},
    "spatial_batchnorm": {"N": 2, "C": 3, "H": 2, "W": 2},
    "spatial_groupnorm": {"N": 2, "G": 2, "per_group": 2, "C": 4, "H": 2, "W": 2},
}


def _configs(
    name: str, sizes: dict[str, int], mode: str, rng: np.random.Generator
) -> dict[str, Any]:
    if name == "layernorm":
        return {"ln_param": {"eps": 1e-5}}
    if name == "spatial_groupnorm":
        return {"G": sizes["G"], "gn_param": {"eps": 1e-5}}
    width = sizes.get("D", sizes.get("C", 0))
    return {
        "bn_param": {
            "mode": mode,
            "eps": 1e-5,
            "momentum": 0.9,
            "running_mean": rng.standard_normal(width),
            "running_var": rng.uniform(0.5, 2.0, width),
        }
    }


_MODES = [(n, "train") for n in NAMES] + [
    (n, "test") for n in ("batchnorm", "batchnorm_alt", "spatial_batchnorm")
]


@pytest.mark.parametrize(("name", "mode"), _MODES)
def test_every_mutant_differs_from_the_reference(name: str, mode: str) -> None:
    fn = get_function(name)
    assert fn.reference is not None and fn.reference.mutants is not None
    rng = np.random.default_rng(7)
    sizes = _SIZES[name]
    values, douts = seeded(fn, sizes, rng, _configs(name, sizes, mode, rng))
    right = {**fn.reference.forward(values), **fn.reference.backward(values, douts)}
    mutants = fn.reference.mutants(values, douts)
    assert mutants
    for label, mistake, tensors in mutants:
        assert tensors, mistake
        assert set(tensors) <= set(right), mistake
        worst = max(float(np.max(np.abs(tensors[k] - right[k]))) for k in tensors)
        assert worst > 1e-3, f"{label}: {mistake}"


def _bn_case(x: list[list[float]], mode: str) -> dict[str, Any]:
    return {
        "x": np.array(x),
        "gamma": np.array([2.0]),
        "beta": np.array([0.5]),
        "bn_param": {
            "mode": mode,
            "eps": 1e-5,
            "momentum": 0.9,
            "running_mean": np.array([1.0]),
            "running_var": np.array([3.0]),
        },
    }


def test_batchnorm_train_mode_uses_the_batch_and_updates_the_running_statistics() -> None:
    ref = get_function("batchnorm").reference
    assert ref is not None
    # mean 2, biased variance 1 (the unbiased one would be 2)
    got = ref.forward(_bn_case([[1.0], [3.0]], "train"))
    np.testing.assert_allclose(
        got["out"], [[-2 / np.sqrt(1 + 1e-5) + 0.5], [2 / np.sqrt(1 + 1e-5) + 0.5]]
    )
    np.testing.assert_allclose(got["bn_param['running_mean']"], [0.9 * 1.0 + 0.1 * 2.0])
    np.testing.assert_allclose(got["bn_param['running_var']"], [0.9 * 3.0 + 0.1 * 1.0])


def test_batchnorm_test_mode_uses_the_running_statistics_and_keeps_them() -> None:
    ref = get_function("batchnorm").reference
    assert ref is not None
    values = _bn_case([[1.0], [3.0]], "test")
    got = ref.forward(values)
    np.testing.assert_allclose(got["out"], 2 * (np.array([[0.0], [2.0]]) / np.sqrt(3 + 1e-5)) + 0.5)
    np.testing.assert_array_equal(got["bn_param['running_mean']"], [1.0])
    np.testing.assert_array_equal(got["bn_param['running_var']"], [3.0])
    # test mode is affine in x: dx = dout · gamma / √(running_var + eps)
    dout = np.array([[1.0], [-1.0]])
    grads = ref.backward(values, {"dout": dout})
    np.testing.assert_allclose(grads["dx"], dout * 2 / np.sqrt(3 + 1e-5))
    np.testing.assert_allclose(grads["dbeta"], [0.0])


def test_layernorm_normalises_each_row() -> None:
    ref = get_function("layernorm").reference
    assert ref is not None
    x = np.array([[1.0, 3.0], [10.0, 30.0]])
    got = ref.forward({"x": x, "gamma": np.ones(2), "beta": np.zeros(2), "ln_param": {"eps": 0.0}})
    np.testing.assert_allclose(got["out"], [[-1.0, 1.0], [-1.0, 1.0]])


def test_spatial_groupnorm_groups_consecutive_channels() -> None:
    ref = get_function("spatial_groupnorm").reference
    assert ref is not None
    # group 0 is channels 0-2 (0, 1, 2), group 1 channels 3-5 (10, 20, 30): each has a
    # biased variance of 2/3 of its spacing squared
    x = np.array([0.0, 1.0, 2.0, 10.0, 20.0, 30.0]).reshape(1, 6, 1, 1)
    ones, zeros = np.ones((1, 6, 1, 1)), np.zeros((1, 6, 1, 1))
    values = {"x": x, "gamma": ones, "beta": zeros, "G": 2, "gn_param": {"eps": 0.0}}
    a = np.sqrt(1.5)
    np.testing.assert_allclose(ref.forward(values)["out"].ravel(), [-a, 0, a, -a, 0, a])
    grads = ref.backward(values, {"dout": np.ones_like(x)})
    assert grads["dgamma"].shape == grads["dbeta"].shape == (1, 6, 1, 1)


def test_spatial_batchnorm_normalises_each_channel_over_batch_and_space() -> None:
    ref = get_function("spatial_batchnorm").reference
    assert ref is not None
    x = np.stack([np.array([[1.0, 3.0]]), np.array([[100.0, 300.0]])])[None]  # (1, 2, 1, 2)
    values = _bn_case([[0.0]], "train") | {"x": x, "gamma": np.ones(2), "beta": np.zeros(2)}
    values["bn_param"] |= {"running_mean": np.zeros(2), "running_var": np.ones(2), "eps": 0.0}
    got = ref.forward(values)
    np.testing.assert_allclose(got["out"].reshape(2, 2), [[-1.0, 1.0], [-1.0, 1.0]])
    np.testing.assert_allclose(got["bn_param['running_mean']"], [0.1 * 2.0, 0.1 * 200.0])


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
@_SETTINGS
def test_every_mutant_has_the_reference_shapes(name: str, data: st.DataObject) -> None:
    fn = get_function(name)
    assert fn.reference is not None and fn.reference.mutants is not None
    values, douts = _with_test_mode(name, data)
    right = {**fn.reference.forward(values), **fn.reference.backward(values, douts)}
    for _, mistake, tensors in fn.reference.mutants(values, douts):
        for key, tensor in tensors.items():
            assert tensor.shape == right[key].shape, f"{mistake}: {key}"


@pytest.mark.parametrize("name", ["batchnorm", "batchnorm_alt", "spatial_batchnorm"])
def test_test_mode_calls_no_backward_and_its_mutants_need_no_gradients(name: str) -> None:
    fn = get_function(name)
    assert fn.reference is not None and fn.reference.mutants is not None
    assert fn.backward_when is not None
    rng = np.random.default_rng(3)
    sizes = _SIZES[name]
    values, _ = seeded(fn, sizes, rng, _configs(name, sizes, "test", rng))
    assert not fn.backward_when(values)
    assert fn.backward_when({**values, "bn_param": {**values["bn_param"], "mode": "train"}})
    for _, mistake, tensors in fn.reference.mutants(values, {}):
        assert not set(tensors) & set(fn.grads), mistake


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
@_SETTINGS
def test_rounding_bounds_bound_every_value(name: str, data: st.DataObject) -> None:
    """A bound on the terms summed into an entry is at least the entry's magnitude."""
    fn = get_function(name)
    assert fn.reference is not None and fn.reference.rounding is not None
    values, douts = _with_test_mode(name, data)
    backward = fn.backward_when is None or fn.backward_when(values)
    douts = douts if backward else {}
    right = fn.reference.forward(values)
    right |= fn.reference.backward(values, douts) if backward else {}
    bounds = fn.reference.rounding(values, douts)
    assert "out" in bounds and (not backward or set(fn.grads) <= set(bounds))
    for key, bound in bounds.items():
        assert bound.shape == right[key].shape, key
        assert np.all(bound >= np.abs(right[key]) * (1 - 1e-12)), key


def test_rounding_covers_another_evaluation_order_where_dx_is_zero() -> None:
    """x constant and dout constant: dx is exactly 0, and the graph-style evaluation order
    leaves noise that only the rounding bound allows."""
    ref = get_function("batchnorm").reference
    assert ref is not None and ref.rounding is not None
    values = _bn_case([[0.3]] * 5, "train")
    dout = np.ones((5, 1))
    ours = ref.backward(values, {"dout": dout})["dx"]
    bound = ref.rounding(values, {"dout": dout})["dx"]
    # the course's node-by-node graph
    x, gamma, eps = values["x"], values["gamma"], 1e-5
    xmu = x - x.mean(axis=0)
    var = (xmu**2).mean(axis=0)
    ivar = 1 / np.sqrt(var + eps)
    dxhat = dout * gamma
    dvar = -0.5 * (dxhat * xmu).sum(axis=0) * ivar**3
    dxmu = dxhat * ivar + dvar * 2 * xmu / 5
    graph = dxmu - dxmu.mean(axis=0)
    assert np.all(np.abs(graph - ours) <= 16 * np.finfo(float).eps * bound)
    assert np.all(bound > 1.0)
