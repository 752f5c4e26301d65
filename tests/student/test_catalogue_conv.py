"""The conv, pooling and conv-sandwich entries of the layer catalogue, against independent
oracles: torch (forward and autograd, float64), central finite differences of the
reference's own forward, and plain-loop implementations written here in the students'
conventions (the last of tied maxima, relu′(0) = 1) that must agree off the skip masks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradcheck.student.catalogue import sliding
from gradcheck.student.catalogue.conv import conv
from gradcheck.student.catalogue.registry import load
from gradcheck.student.catalogue.spec import LayerFunction, Reference

torch = pytest.importorskip("torch")
from reference_impls.torch_catalogue import load as load_twins  # noqa: E402

pytestmark = pytest.mark.reference

CATALOGUE = load()
TWINS = load_twins()
NAMES = sorted(
    n for n, f in CATALOGUE.items() if f.family in ("conv", "pooling") or n.startswith("conv_")
)
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
Values = dict[str, Any]


def reference(name: str) -> Reference:
    ref = CATALOGUE[name].reference
    assert ref is not None
    return ref


def draw_arrays(
    entry: LayerFunction, sizes: Mapping[str, int], rng: np.random.Generator, ties: bool
) -> Values:
    """Inputs of the entry's shapes and domains, or with ``ties`` integers in {-1, 0, 1}
    (full of tied maxima and of pre-activations at exactly 0)."""
    values: Values = {}
    for spec in entry.inputs:
        shape = spec.resolve(sizes)
        if ties:
            values[spec.name] = rng.integers(-1, 2, size=shape).astype(np.float64)
        elif spec.domain == "positive":
            values[spec.name] = rng.uniform(0.1, spec.bound, size=shape)
        elif spec.domain == "distinct":
            grid = np.linspace(-spec.bound, spec.bound, 4 * int(np.prod(shape)) + 2)
            values[spec.name] = rng.choice(grid, size=shape, replace=False)
        else:
            values[spec.name] = rng.uniform(-spec.bound, spec.bound, size=shape)
    return values


Case = tuple[Values, dict[str, np.ndarray]]


@st.composite
def cases(draw: Callable[..., Any], name: str, ties: bool = False) -> Case:
    """Sizes, inputs and configs of one call, and an upstream gradient per output; the
    drawn sizes ride along as ``values["_sizes"]``."""
    entry = CATALOGUE[name]
    sizes = draw(entry.sizes())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    values = draw_arrays(entry, sizes, rng, ties)
    for config in entry.configs:
        values[config.name] = draw(config.build(sizes))
    values["_sizes"] = sizes
    douts = {"d" + o.name: rng.standard_normal(o.resolve(sizes)) for o in entry.outputs}
    return values, douts


def twin_outputs(name: str, values: Values) -> tuple[dict[str, Any], dict[str, Any]]:
    entry = CATALOGUE[name]
    tensors = {
        i.name: torch.tensor(values[i.name], dtype=torch.float64, requires_grad=True)
        for i in entry.inputs
    }
    configs = {c.name: values[c.name] for c in entry.configs}
    return TWINS[name]({**tensors, **configs}), tensors


def off_skip(name: str, values: Values) -> dict[str, np.ndarray]:
    """Per gradient, True where it is compared (not skipped)."""
    entry, ref = CATALOGUE[name], reference(name)
    skip = ref.skip(values) if ref.skip else {}
    return {
        g: ~skip[g] if g in skip else np.ones(values[entry.wrt(g)].shape, dtype=bool)
        for g in entry.grads
    }


@pytest.mark.parametrize("name", NAMES)
def test_every_entry_has_a_twin_and_small_whole_sizes(name: str) -> None:
    entry = CATALOGUE[name]
    assert name in TWINS
    assert entry.examples is not None and entry.examples <= 20

    @settings(SETTINGS, max_examples=50)
    @given(st.data())
    def check(data: st.DataObject) -> None:
        sizes = data.draw(entry.sizes())
        values = draw_arrays(entry, sizes, np.random.default_rng(0), ties=False)
        values.update({c.name: data.draw(c.build(sizes)) for c in entry.configs})
        out = reference(name).forward(values)
        for o in entry.outputs:
            assert out[o.name].shape == o.resolve(sizes)
        assert values["x"].size <= 2 * 2 * 9 * 9
        if "stride" in sizes:  # the course's assert: (H + 2·pad − HH) divisible by stride
            span = sizes["H"] + 2 * sizes["pad"] - sizes["HH"]
            assert span >= 0 and span % sizes["stride"] == 0

    check()


@pytest.mark.parametrize("name", NAMES)
def test_forward_matches_torch(name: str) -> None:
    @SETTINGS
    @given(cases(name))
    def check(case: Case) -> None:
        values, _ = case
        got = reference(name).forward(values)
        want, _ = twin_outputs(name, values)
        for key, tensor in want.items():
            np.testing.assert_allclose(got[key], tensor.detach().numpy(), rtol=1e-12, atol=1e-12)

    check()


@pytest.mark.parametrize("name", NAMES)
def test_backward_matches_torch_autograd(name: str) -> None:
    entry = CATALOGUE[name]

    @SETTINGS
    @given(cases(name))
    def check(case: Case) -> None:
        values, douts = case
        outs, tensors = twin_outputs(name, values)
        total = sum((outs[o.name] * torch.tensor(douts["d" + o.name])).sum() for o in entry.outputs)
        total.backward()
        got = reference(name).backward(values, douts)
        compared = off_skip(name, values)
        for g in entry.grads:
            want = tensors[entry.wrt(g)].grad.numpy()
            assert got[g].shape == want.shape
            np.testing.assert_allclose(got[g][compared[g]], want[compared[g]], atol=1e-10)

    check()


def finite_differences(
    name: str, values: Values, douts: Mapping[str, np.ndarray], wrt: str, eps: float = 1e-6
) -> np.ndarray:
    """Central differences of ⟨dout, out⟩ with respect to every entry of input ``wrt``."""
    entry, ref = CATALOGUE[name], reference(name)

    def inner(v: Values) -> float:
        out = ref.forward(v)
        return sum(float((out[o.name] * douts["d" + o.name]).sum()) for o in entry.outputs)

    base = values[wrt]
    grad = np.zeros_like(base)
    for idx in np.ndindex(base.shape):
        shifted = []
        for step in (eps, -eps):
            moved = base.copy()
            moved[idx] += step
            shifted.append(inner({**values, wrt: moved}))
        grad[idx] = (shifted[0] - shifted[1]) / (2 * eps)
    return grad


@pytest.mark.parametrize("name", NAMES)
def test_backward_matches_finite_differences(name: str) -> None:
    entry = CATALOGUE[name]

    @settings(SETTINGS, max_examples=10)
    @given(cases(name))
    def check(case: Case) -> None:
        values, douts = case
        got = reference(name).backward(values, douts)
        compared = off_skip(name, values)
        for g in entry.grads:
            want = finite_differences(name, values, douts, entry.wrt(g))
            np.testing.assert_allclose(got[g][compared[g]], want[compared[g]], atol=1e-6)

    check()


# Plain loops in the students' other conventions: the last of tied maxima, relu′(0) = 1 ----


def loop_conv(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int, pad: int) -> np.ndarray:
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, f, hh, ww = x.shape[0], w.shape[0], w.shape[2], w.shape[3]
    ho, wo = 1 + (xp.shape[2] - hh) // stride, 1 + (xp.shape[3] - ww) // stride
    out = np.zeros((n, f, ho, wo))
    for i, j, k, m in np.ndindex(n, f, ho, wo):
        patch = xp[i, :, k * stride : k * stride + hh, m * stride : m * stride + ww]
        out[i, j, k, m] = np.sum(patch * w[j]) + b[j]
    return out


def loop_conv_backward(
    x: np.ndarray, w: np.ndarray, dout: np.ndarray, stride: int, pad: int
) -> dict[str, np.ndarray]:
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    hh, ww = w.shape[2:]
    for i, j, k, m in np.ndindex(dout.shape):
        rows = slice(k * stride, k * stride + hh)
        cols = slice(m * stride, m * stride + ww)
        dxp[i, :, rows, cols] += w[j] * dout[i, j, k, m]
        dw[j] += xp[i, :, rows, cols] * dout[i, j, k, m]
    h, wd = x.shape[2:]
    return {"dx": dxp[:, :, pad : pad + h, pad : pad + wd], "dw": dw, "db": dout.sum((0, 2, 3))}


def loop_max_pool(
    x: np.ndarray, pool: tuple[int, int, int], dout: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The pooled output and dx, each window's gradient going to its last max (a scan with
    ``>=``), where the reference takes the first."""
    ph, pw, s = pool
    n, c, h, w = x.shape
    ho, wo = 1 + (h - ph) // s, 1 + (w - pw) // s
    out, dx = np.zeros((n, c, ho, wo)), np.zeros_like(x)
    for i, j, k, m in np.ndindex(n, c, ho, wo):
        window = x[i, j, k * s : k * s + ph, m * s : m * s + pw]
        last = window.size - 1 - int(np.argmax(window.ravel()[::-1]))
        r, q = np.unravel_index(last, window.shape)
        out[i, j, k, m] = window[r, q]
        dx[i, j, k * s + r, m * s + q] += dout[i, j, k, m]
    return out, dx


def pool_of(values: Values) -> tuple[int, int, int]:
    p = values["pool_param"]
    return p["pool_height"], p["pool_width"], p["stride"]


def loop_batchnorm(
    a: np.ndarray, values: Values, dout: np.ndarray
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Spatial batchnorm then relu (relu′(0) = 1), channel by channel, the backward through
    the graph's nodes (dvar, then dmu); returns da and dgamma, dbeta."""
    p, gamma, beta = values["bn_param"], values["gamma"], values["beta"]
    da, dgamma, dbeta = np.zeros_like(a), np.zeros_like(gamma), np.zeros_like(beta)
    for f in range(a.shape[1]):
        z = a[:, f]
        if p["mode"] == "train":
            mu, var = z.mean(), ((z - z.mean()) ** 2).mean()
        else:
            mu, var = p["running_mean"][f], p["running_var"][f]
        std = np.sqrt(var + p["eps"])
        xhat = (z - mu) / std
        dy = dout[:, f] * (gamma[f] * xhat + beta[f] >= 0)
        dgamma[f], dbeta[f] = np.sum(dy * xhat), np.sum(dy)
        dxhat = dy * gamma[f]
        if p["mode"] == "test":
            da[:, f] = dxhat / std
            continue
        m = z.size
        dvar = np.sum(dxhat * (z - mu)) * -0.5 * (var + p["eps"]) ** -1.5
        dmu = -np.sum(dxhat) / std + dvar * np.mean(-2 * (z - mu))
        da[:, f] = dxhat / std + dvar * 2 * (z - mu) / m + dmu / m
    return da, {"dgamma": dgamma, "dbeta": dbeta}


def loop_grads(name: str, values: Values, dout: np.ndarray) -> dict[str, np.ndarray]:
    """The gradients of ``name`` by the loops above."""
    if "pool" in name and not name.startswith("conv"):
        if name.startswith("avg"):
            ph, pw, s = pool_of(values)
            g = np.broadcast_to(dout[..., None, None] / (ph * pw), (*dout.shape, ph, pw))
            return {"dx": sliding.scatter(g, values["x"].shape, s)}
        return {"dx": loop_max_pool(values["x"], pool_of(values), dout)[1]}
    x, w, b = values["x"], values["w"], values["b"]
    stride, pad = values["conv_param"]["stride"], values["conv_param"]["pad"]
    a = loop_conv(x, w, b, stride, pad)
    if name == "conv_relu":
        dout = dout * (a >= 0)
    elif name == "conv_relu_pool":
        dout = loop_max_pool(np.maximum(a, 0), pool_of(values), dout)[1] * (a >= 0)
    elif name == "conv_bn_relu":
        dout, affine = loop_batchnorm(a, values, dout)
        return {**loop_conv_backward(x, w, dout, stride, pad), **affine}
    return loop_conv_backward(x, w, dout, stride, pad)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "ties"])
def test_plain_loops_agree_off_the_skip_masks(name: str, ties: bool) -> None:
    """Inputs in {-1, 0, 1} tie pooling maxima and put pre-activations at exactly 0 (or,
    after batch statistics, within rounding of it): a right answer in another convention
    must still pass wherever the entry compares."""
    entry = CATALOGUE[name]

    @settings(SETTINGS, max_examples=15)
    @given(cases(name, ties=ties))
    def check(case: Case) -> None:
        values, douts = case
        got = reference(name).backward(values, douts)
        want = loop_grads(name, values, douts["dout"])
        compared = off_skip(name, values)
        for g in entry.grads:
            np.testing.assert_allclose(got[g][compared[g]], want[g][compared[g]], atol=1e-10)

    check()


def test_a_tied_window_is_skipped_where_conventions_disagree() -> None:
    values: Values = {
        "x": np.zeros((1, 1, 2, 3)),
        "pool_param": dict(zip(("pool_height", "pool_width", "stride"), (2, 2, 1), strict=True)),
    }
    dout = np.array([[[[1.0, 2.0]]]])
    ref = reference("max_pool_naive")
    last = loop_max_pool(values["x"], (2, 2, 1), dout)[1]
    first = ref.backward(values, {"dout": dout})["dx"]
    every = sliding.scatter(
        np.broadcast_to(dout[..., None, None], (1, 1, 1, 2, 2, 2)), (1, 1, 2, 3), 1
    )
    # the three conventions (the course's fast backward: every tied entry) differ here …
    assert not np.array_equal(first, last) and not np.array_equal(first, every)
    assert ref.skip is not None and ref.skip(values)["dx"].all()  # … and all of dx is skipped


def test_a_relu_kink_skips_its_receptive_field_and_filter() -> None:
    """One pre-activation at exactly 0 (sample 0, filter 1, position (0, 0)) on a 3×3 input,
    2×2 filters, stride 1, no padding: all other pre-activations are positive."""
    rng = np.random.default_rng(1)  # integers, so that the sum is exactly 0 in any order
    x = rng.integers(1, 4, (2, 1, 3, 3)).astype(np.float64)
    w = rng.integers(1, 4, (2, 1, 2, 2)).astype(np.float64)
    b = np.array([0.0, -float(np.sum(x[0, 0, :2, :2] * w[1, 0]))])
    values: Values = {"x": x, "w": w, "b": b, "conv_param": {"stride": 1, "pad": 0}}
    skip = reference("conv_relu").skip(values)  # type: ignore[misc]
    field = np.zeros((2, 1, 3, 3), dtype=bool)
    field[0, 0, :2, :2] = True
    assert np.array_equal(skip["dx"], field)
    assert np.array_equal(skip["db"], [False, True])
    assert np.array_equal(skip["dw"][:, 0, 0, 0], [False, True])


# The mutants ------------------------------------------------------------------------------

# Sizes on which every mutant of the entry shows: padding, stride 2 below the filter size
# (overlapping windows), two samples, several output positions; overlapping pools.
RICH: dict[str, dict[str, int]] = {
    "conv": {"N": 2, "C": 2, "F": 3, "HH": 3, "WW": 3, "stride": 2, "pad": 1,
             "Ho": 2, "Wo": 2, "H": 3, "W": 3},
    "pooling": {"N": 2, "C": 2, "ph": 3, "pw": 2, "ps": 1, "Ho": 2, "Wo": 2, "H": 4, "W": 3},
    "conv_relu_pool": {"N": 2, "C": 2, "F": 2, "HH": 3, "WW": 3, "stride": 1, "pad": 1,
                       "ph": 2, "pw": 2, "ps": 2, "Ho": 2, "Wo": 2, "Hc": 4, "Wc": 4,
                       "H": 4, "W": 4},
}  # fmt: skip
MUTANTS = {
    "conv_naive": ["wrong_forward", "wrong_forward", "wrong_routing", "lost_accumulation",
                   "lost_accumulation"],
    "max_pool_naive": ["wrong_routing", "wrong_routing", "lost_accumulation", "lost_accumulation"],
    "avg_pool_naive": ["scaled", "lost_accumulation"],
    "conv_relu": ["missing_activation_derivative"],
    "conv_relu_pool": ["missing_activation_derivative", "wrong_routing"],
    "conv_bn_relu": ["missing_activation_derivative"],
}  # fmt: skip


def rich_config(name: str, sizes: Mapping[str, int]) -> dict[str, Any]:
    if name == "conv_param":
        return {"stride": sizes["stride"], "pad": sizes["pad"]}
    if name == "pool_param":
        return {"pool_height": sizes["ph"], "pool_width": sizes["pw"], "stride": sizes["ps"]}
    zeros, ones = np.zeros(sizes["F"]), np.ones(sizes["F"])
    return {
        "mode": "train",
        "eps": 1e-5,
        "momentum": 0.9,
        "running_mean": zeros,
        "running_var": ones,
    }


def rich_case(name: str, seed: int = 0) -> Case:
    entry = CATALOGUE[name]
    sizes = RICH.get(name, RICH.get(entry.family, RICH["conv"]))
    rng = np.random.default_rng(seed)
    values = draw_arrays(entry, sizes, rng, ties=False)
    for config in entry.configs:
        values[config.name] = rich_config(config.name, sizes)
    return values, {"dout": rng.standard_normal(entry.outputs[0].resolve(sizes))}


def differs(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape != b.shape or not np.allclose(a, b, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", NAMES)
def test_each_mutant_really_differs_from_the_reference(name: str) -> None:
    values, douts = rich_case(name)
    ref = reference(name)
    assert ref.mutants is not None
    right = {**ref.forward(values), **ref.backward(values, douts)}
    mutants = ref.mutants(values, douts)
    expected = MUTANTS[name.replace("_fast", "_naive")]
    assert [str(m[0]) for m in mutants] == expected
    for label, what, tensors in mutants:
        assert tensors, what
        assert any(differs(right[k], t) for k, t in tensors.items()), (label, what)
        for key, tensor in tensors.items():
            assert key in right, (what, key)
            assert np.all(np.isfinite(tensor)), what


@pytest.mark.parametrize("name", NAMES)
def test_every_case_has_the_same_mutants_in_the_same_order_and_shapes(name: str) -> None:
    """The diagnosis pairs the mutants of the counterexample and of a variant by position,
    and compares their tensors with the submission's: the list must not depend on the case
    (even where a mutant equals the reference, as a stride mistake at stride 1) and every
    tensor must have the reference's shape."""
    entry = CATALOGUE[name]
    ref = reference(name)
    assert ref.mutants is not None
    expected = MUTANTS[name.replace("_fast", "_naive")]

    @settings(SETTINGS, max_examples=15)
    @given(cases(name))
    def check(case: Case) -> None:
        values, douts = case
        right = {**ref.forward(values), **ref.backward(values, douts)}
        mutants = ref.mutants(values, douts)
        assert [str(m[0]) for m in mutants] == expected
        for _, what, tensors in mutants:
            for key, tensor in tensors.items():
                assert tensor.shape == right[key].shape, (what, key)

    assert entry.reference is ref
    check()


def test_batchnorm_kinks_spread_over_their_channel_in_train_mode_only() -> None:
    """One y at exactly 0 (sample 0, filter 1): in train mode the batch statistics carry it
    to all of dx (every receptive field of channel 1) and to filter 1's dw, dgamma and
    dbeta, not filter 0's; in test mode only to its own receptive field of dx."""
    values, _ = rich_case("conv_bn_relu")
    ref = reference("conv_bn_relu")
    assert ref.skip is not None
    values["gamma"][1], values["beta"][1] = 1.0, 0.0
    out = ref.forward(values)["out"]  # relu(x̂) in channel 1
    at = np.unravel_index(np.argmax(out[0, 1]), out.shape[2:])
    values["beta"][1] = -out[0, 1][at]  # y = x̂ − x̂ = 0 exactly there, nowhere else
    skip = ref.skip(values)
    assert skip["dx"].all()
    for g in ("dw", "dgamma", "dbeta"):
        assert skip[g][1].all() and not skip[g][0].any() and not skip[g][2].any(), g
    assert skip["db"].all()  # exactly 0 in train mode: compared by shape only
    values["beta"][1] = 0.0
    values["gamma"][1] = 1.0
    a = conv(values["x"], values["w"], values["b"], 2, 1)  # RICH: stride 2, pad 1, 3×3 filters
    running_mean = np.zeros(3)
    running_mean[1] = a[0, 1, 0, 0]  # y[0, 1, 0, 0] = (a − running_mean) / σ = 0 exactly
    values["bn_param"] = {**values["bn_param"], "mode": "test", "running_mean": running_mean}
    skip = reference("conv_bn_relu").skip(values)  # type: ignore[misc]
    field = np.zeros(values["x"].shape, dtype=bool)
    field[0, :, :2, :2] = True  # output (0, 0) reads padded rows/cols 0–2, i.e. x's 0–1
    assert np.array_equal(skip["dx"], field)
    assert np.array_equal(skip["dgamma"], [False, True, False])


def test_a_constant_batch_is_within_rounding_of_every_kink() -> None:
    """Equal inputs without padding make every conv output of a channel equal: x̂ is then
    rounding noise times 1/√eps in a submission, exactly 0 in the reference, so out and every
    gradient of the channel are skipped in train mode; in test mode nothing is."""
    values, _ = rich_case("conv_bn_relu")
    values["x"] = np.full_like(values["x"], 0.7)
    values["conv_param"] = {"stride": 1, "pad": 0}
    ref = reference("conv_bn_relu")
    assert ref.skip is not None
    skip = ref.skip(values)
    assert skip["out"].all() and skip["dx"].all() and skip["dgamma"].all()
    # test mode: x̂ = (a − running_mean)/√(running_var + eps) is no cancellation, even at
    # running_var = 0
    values["bn_param"] = {**values["bn_param"], "mode": "test", "running_var": np.zeros(3)}
    skip = ref.skip(values)
    assert not skip["out"].any() and not skip["dx"].any() and not skip["dgamma"].any()


def test_a_pre_activation_one_ulp_from_0_is_a_kink_too() -> None:
    """The kink of the exact test above moved one ulp off 0: a submission summing in
    another order may land on either side, so it is skipped just the same."""
    rng = np.random.default_rng(1)
    x = rng.integers(1, 4, (2, 1, 3, 3)).astype(np.float64)
    w = rng.integers(1, 4, (2, 1, 2, 2)).astype(np.float64)
    total = float(np.sum(x[0, 0, :2, :2] * w[1, 0]))
    b = np.array([0.0, np.nextafter(-total, 0.0)])
    values: Values = {"x": x, "w": w, "b": b, "conv_param": {"stride": 1, "pad": 0}}
    assert 0 < conv(x, w, b, 1, 0)[0, 1, 0, 0] < 1e-14
    skip = reference("conv_relu").skip(values)  # type: ignore[misc]
    assert skip["dx"][0, 0, :2, :2].all() and skip["dx"].sum() == 4
    assert np.array_equal(skip["db"], [False, True])


def test_pool_maxima_one_ulp_apart_are_a_tie_after_a_conv() -> None:
    """A 1×1 identity conv, then a 2×1 pool over x = [1, 1 + ulp]: the submission's own
    conv may order them either way, so both entries' gradients are skipped."""
    values: Values = {
        "x": np.array([[[[1.0], [np.nextafter(1.0, 2.0)], [-1.0]]]]),
        "w": np.ones((1, 1, 1, 1)),
        "b": np.zeros(1),
        "conv_param": {"stride": 1, "pad": 0},
        "pool_param": {"pool_height": 2, "pool_width": 1, "stride": 1},
    }
    skip = reference("conv_relu_pool").skip(values)  # type: ignore[misc]
    assert skip["dx"][0, 0, :2, 0].all()
