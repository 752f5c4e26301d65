"""Activations: f′ against finite differences, dtype, stability, kinks, ranges, known values.

Every test is parametrised over the registry (plus a few parametrised spellings), so a new
entry is tested as soon as it is registered.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradcheck.nn.activations import ACTIVATIONS, Activation, get_activation

VARIANTS = ["leaky_relu(slope=0.2)", "elu(alpha=0.5)"]
NAMES = sorted(ACTIVATIONS) + VARIANTS
DTYPES = [np.float64, np.float32]
KINK_MARGIN = 1e-3
FD_STEP = 1e-5
FD_TOL = 1e-7


def _central_difference(act: Activation, z: np.ndarray, h: float = FD_STEP) -> np.ndarray:
    """(f(z + h) − f(z − h)) / 2h in float64: the reference every f′ is checked against."""
    z = z.astype(np.float64)
    return (act.f(z + h) - act.f(z - h)) / (2 * h)


def _points_away_from_kinks(act: Activation, n: int = 400, seed: int = 0) -> np.ndarray:
    """Points in [−6, 6] at least KINK_MARGIN from every kink and from 0.

    The piecewise formulas switch at 0, where even a kink-free entry may be C¹ but not C²
    (elu with alpha = 1); a central difference straddling such a point is only O(h) accurate.
    f′ at 0 itself is checked by test_no_undeclared_kink_at_zero.
    """
    rng = np.random.default_rng(seed)
    z = np.concatenate([rng.uniform(-6.0, 6.0, size=n), np.linspace(-6.0, 6.0, 61)])
    for point in {*act.kinks, 0.0}:
        z = z[np.abs(z - point) > KINK_MARGIN]
    return z


def _stability_cases() -> list[object]:
    return [
        pytest.param(name, dtype, id=f"{name}-{np.dtype(dtype)}")
        for name in NAMES
        for dtype in DTYPES
    ]


# (a) f′ against central differences ---------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_derivative_matches_central_difference(name: str) -> None:
    act = get_activation(name)
    z = _points_away_from_kinks(act)
    analytic = act.df(z, act.f(z))
    np.testing.assert_allclose(
        analytic, _central_difference(act, z), rtol=FD_TOL, atol=FD_TOL, err_msg=name
    )


# (b) dtype ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", NAMES)
def test_dtype_is_preserved(name: str, dtype: type[np.floating]) -> None:
    act = get_activation(name)
    z = np.linspace(-3.0, 3.0, 13).astype(dtype).reshape(13, 1)
    a = act.f(z)
    d = act.df(z, a)
    assert a.dtype == dtype, f"{name}: f returned {a.dtype} for {np.dtype(dtype)} input"
    assert d.dtype == dtype, f"{name}: df returned {d.dtype} for {np.dtype(dtype)} input"
    assert a.shape == d.shape == z.shape


@pytest.mark.parametrize("name", NAMES)
def test_f_does_not_alias_or_mutate_its_input(name: str) -> None:
    act = get_activation(name)
    z = np.linspace(-2.0, 2.0, 9)
    before = z.copy()
    a = act.f(z)
    act.df(z, a)
    np.testing.assert_array_equal(z, before)
    assert not np.shares_memory(a, z)


# (c) stability -----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "dtype"), _stability_cases())
def test_finite_for_huge_inputs(name: str, dtype: type[np.floating]) -> None:
    act = get_activation(name)
    z = np.array([1000.0, -1000.0, 1e30, -1e30], dtype=dtype)
    # filterwarnings = error: an overflow inside f or df fails this test as well.
    a = act.f(z)
    d = act.df(z, a)
    assert np.isfinite(a).all(), f"{name}: f({z}) = {a}"
    assert np.isfinite(d).all(), f"{name}: df({z}) = {d}"


# (d) kinks ---------------------------------------------------------------------------------


def _one_sided_slopes(act: Activation, k: float, h: float = 1e-7) -> tuple[float, float]:
    z = np.array([k - h, k, k + h])
    f = act.f(z)
    return float((f[1] - f[0]) / h), float((f[2] - f[1]) / h)


@pytest.mark.parametrize("name", [n for n in NAMES if get_activation(n).kinks])
def test_kinks_are_continuous_with_the_declared_one_sided_slopes(name: str) -> None:
    act = get_activation(name)
    for k in act.kinks:
        tiny = 1e-9
        z = np.array([k - tiny, k, k + tiny])
        f = act.f(z)
        assert abs(f[0] - f[1]) < 1e-8, f"{name} jumps at {k} from the left"
        assert abs(f[2] - f[1]) < 1e-8, f"{name} jumps at {k} from the right"
        left, right = _one_sided_slopes(act, k)
        # A kink is where f is not C²: the slope jumps, or at least the curvature does.
        step = np.array([k - 1e-4, k - 1e-6, k + 1e-6, k + 1e-4])
        d = act.df(step, act.f(step))
        curvature_left, curvature_right = (d[1] - d[0]) / 9.9e-5, (d[3] - d[2]) / 9.9e-5
        slope_jump = not math.isclose(left, right, abs_tol=1e-3)
        curvature_jump = not math.isclose(curvature_left, curvature_right, abs_tol=1e-2)
        assert slope_jump or curvature_jump, f"{name}: {k} is not a kink"
        df = act.df(z, f)
        assert df[0] == pytest.approx(left, abs=1e-5)
        assert df[2] == pytest.approx(right, abs=1e-5)
        # At the kink itself df returns one of the two one-sided values.
        assert df[1] == pytest.approx(left, abs=1e-5) or df[1] == pytest.approx(right, abs=1e-5)


@pytest.mark.parametrize("name", [n for n in NAMES if 0.0 not in get_activation(n).kinks])
def test_no_undeclared_kink_at_zero(name: str) -> None:
    act = get_activation(name)
    left, right = _one_sided_slopes(act, 0.0)
    assert left == pytest.approx(right, abs=1e-5)
    zero = np.zeros(1)
    assert act.df(zero, act.f(zero))[0] == pytest.approx((left + right) / 2, abs=1e-5)


def test_relu_and_leaky_relu_derivative_at_zero() -> None:
    zero = np.zeros(1)
    assert get_activation("relu").df(zero, zero)[0] == 0.0
    assert get_activation("leaky_relu").df(zero, zero)[0] == pytest.approx(0.01)
    assert get_activation("leaky_relu(slope=0.2)").df(zero, zero)[0] == pytest.approx(0.2)


# (e) output range --------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_output_range_is_respected(name: str) -> None:
    act = get_activation(name)
    lo, hi = act.output_range
    assert lo < hi
    z = np.concatenate([np.linspace(-50.0, 50.0, 2001), [-1000.0, 1000.0]])
    a = act.f(z)
    assert a.min() >= lo, f"{name}: f reaches {a.min()} < {lo}"
    assert a.max() <= hi, f"{name}: f reaches {a.max()} > {hi}"


def test_bounded_ranges_are_the_mathematical_ones() -> None:
    assert get_activation("sigmoid").output_range == (0.0, 1.0)
    assert get_activation("tanh").output_range == (-1.0, 1.0)
    assert get_activation("relu").output_range[0] == 0.0
    assert get_activation("softplus").output_range[0] == 0.0
    assert get_activation("elu(alpha=0.5)").output_range[0] == -0.5


# (f) specific values -----------------------------------------------------------------------


def _value(name: str, z: float, dtype: type[np.floating] = np.float64) -> float:
    return float(get_activation(name).f(np.array([z], dtype=dtype))[0])


def _slope(name: str, z: float) -> float:
    act = get_activation(name)
    arr = np.array([z])
    return float(act.df(arr, act.f(arr))[0])


def test_sigmoid_values_and_stability() -> None:
    assert _value("sigmoid", 0.0) == 0.5
    assert _slope("sigmoid", 0.0) == 0.25
    # σ(−40) = e⁻⁴⁰/(1 + e⁻⁴⁰) ≈ 4.2e-18 must keep full relative precision (computing it
    # as 1 − σ(40) would give 0).
    tail = math.exp(-40.0) / (1 + math.exp(-40.0))
    assert _value("sigmoid", -40.0) == pytest.approx(tail, rel=1e-14)
    # 1 − σ(40) ≈ 4.2e-18 is below float64's spacing at 1, so σ(40) rounds to exactly 1.0;
    # σ(30) ≈ 1 − 9.4e-14 is still strictly below 1.
    assert _value("sigmoid", 30.0) < 1.0
    assert _value("sigmoid", 40.0) <= 1.0
    # σ′(40) = e⁻⁴⁰/(1 + e⁻⁴⁰)² > 0 although a(1 − a) with a = σ(40) = 1.0 would give 0.
    assert _slope("sigmoid", 40.0) == pytest.approx(tail / (1 + math.exp(-40.0)), rel=1e-14)
    assert _slope("sigmoid", 40.0) > 0.0
    assert _slope("sigmoid", -40.0) == pytest.approx(_slope("sigmoid", 40.0), rel=1e-14)


def test_softplus_values() -> None:
    assert _value("softplus", 1000.0) == 1000.0
    assert _value("softplus", 0.0) == pytest.approx(math.log(2.0), rel=1e-15)
    assert _value("softplus", -30.0) == pytest.approx(math.log1p(math.exp(-30.0)), rel=1e-14)
    assert _value("softplus", 1000.0, np.float32) == 1000.0


def test_gelu_tanh_approximation_value() -> None:
    def reference(z: float) -> float:
        c = math.sqrt(2 / math.pi)
        return 0.5 * z * (1 + math.tanh(c * (z + 0.044715 * z**3)))

    assert reference(1.0) == pytest.approx(0.8411919906, abs=1e-10)
    for z in (-3.0, -1.0, -0.1, 0.0, 0.5, 1.0, 2.5):
        assert _value("gelu", z) == pytest.approx(reference(z), rel=1e-15, abs=1e-300)


def test_silu_values() -> None:
    for z in (-5.0, -1.0, 0.0, 1.0, 5.0):
        s = 1 / (1 + math.exp(-z))
        assert _value("silu", z) == pytest.approx(z * s, rel=1e-15, abs=1e-300)
        assert _slope("silu", z) == pytest.approx(s + z * s * (1 - s), rel=1e-14)


def test_piecewise_values() -> None:
    assert _value("leaky_relu(slope=0.2)", -3.0) == pytest.approx(-0.6)
    assert _value("leaky_relu(slope=0.2)", 3.0) == 3.0
    assert _value("elu(alpha=0.5)", -2.0) == pytest.approx(0.5 * math.expm1(-2.0), rel=1e-15)
    assert _value("elu", 2.0) == 2.0
    assert _value("relu", -2.0) == 0.0
    assert _value("identity", -2.5) == -2.5
    assert _value("tanh", 0.5) == pytest.approx(math.tanh(0.5), rel=1e-15)


# (g) parameter validation ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["leaky_relu(slope=1)", "leaky_relu(slope=-0.1)", "leaky_relu(slope=1.5)"]
)
def test_leaky_relu_slope_outside_unit_interval_is_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="slope must lie in"):
        get_activation(text)


@pytest.mark.parametrize("text", ["elu(alpha=0)", "elu(alpha=-1)"])
def test_elu_non_positive_alpha_is_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="alpha must be positive"):
        get_activation(text)


def test_boundary_parameters_are_accepted() -> None:
    zero = get_activation("leaky_relu(slope=0)")
    z = np.array([-2.0, 3.0])
    np.testing.assert_array_equal(zero.f(z), get_activation("relu").f(z))
    assert get_activation("elu(alpha=1e-3)").output_range[0] == pytest.approx(-1e-3)
