"""The error model of ``numeric.steps`` by what each number is for, not by its digits.

``test_tolerance_edges`` pins the published tables; this file checks the rest of the
module: the text a report prints for a tolerance, the validation of user overrides, what a
``Tolerance`` built with only rtol and atol leaves out, which table entry a pair of engines
gets, and the invariants the comments of ``steps`` state for the other constants (the kink
band is the analytic rounding factor, a trajectory tolerance is a share of the analytic
rtol, a probability margin lies inside (0, 1)). The kink, complex-step and step-size
constants are tested through the code that reads them: ``directional.CentralOracle``,
``complex_step.complex_support`` and ``strategies``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import FrozenInstanceError, replace
from typing import Any, cast

import numpy as np
import pytest
from hypothesis import strategies as st

from gradcheck.compare import compare_tensor
from gradcheck.errors import GradcheckError
from gradcheck.nn.losses import LOSSES
from gradcheck.nn.network import forward
from gradcheck.nn.spec import NetworkSpec
from gradcheck.numeric.complex_step import complex_support
from gradcheck.numeric.directional import CentralOracle, Directional
from gradcheck.numeric.evaluator import Evaluator
from gradcheck.numeric.steps import (
    FRAMEWORK_DTYPES,
    FRAMEWORK_ROUNDING_ULPS,
    KINK_BAND_ULPS,
    PROBABILITY_MARGIN,
    TOLERANCES,
    TRAJECTORY_TOLERANCES,
    Kind,
    Tolerance,
    black_box_tolerance,
    fd_step,
    framework_tolerance,
    machine_eps,
    tolerance_for,
)
from gradcheck.strategies import _steer_kinks

Array = np.ndarray
DTYPES = ("float32", "float64")


# to_text: the line a report prints for each tolerance -----------------------------------------
@pytest.mark.parametrize(
    ("key", "text"),
    [
        (("float64", "analytic"), "rtol=1e-09 atol=1e-09·scale + 4·errbar + 64·ε·M"),
        (("float32", "analytic"), "rtol=0.0001 atol=0.0001·scale + 4·errbar + 64·ε·M"),
        (("float64", "numerical"), "rtol=1e-06 atol=1e-07·scale + 4·errbar + 64·ε·M"),
        (("float32", "numerical"), "rtol=2e-06 atol=2e-06·scale + 4·errbar + 8·ε·M"),
    ],
    ids=lambda value: "-".join(value) if isinstance(value, tuple) else "",
)
def test_the_report_prints_each_table_entry_as_its_formula(
    key: tuple[str, Kind], text: str
) -> None:
    assert TOLERANCES[key].to_text() == text


def test_a_tolerance_without_an_error_bar_term_prints_none() -> None:
    assert Tolerance(rtol=0.5, atol=0.25).to_text() == "rtol=0.5 atol=0.25·scale + 64·ε·M"
    assert (
        Tolerance(rtol=0.0, atol=0.0, error_bar_factor=2.5, rounding_factor=0.0).to_text()
        == "rtol=0 atol=0·scale + 2.5·errbar + 0·ε·M"
    )


# overridden: what a user may put in place of rtol and atol ------------------------------------
BASE = Tolerance(rtol=1e-3, atol=2e-3, error_bar_factor=4.0, scale_floor=1e-6)


@pytest.mark.parametrize("name", ["rtol", "atol"])
@pytest.mark.parametrize("value", [-1e-12, -0.5, -1.0, -2.0, math.nan, math.inf, -math.inf])
def test_an_override_that_is_negative_or_not_finite_is_refused(name: str, value: float) -> None:
    with pytest.raises(GradcheckError, match=f"{name} must be a finite number >= 0, not"):
        BASE.overridden(**{name: value})


@pytest.mark.parametrize("value", [0.0, 1e-300, 0.5, 1.0, 3.0, 1e300])
def test_an_override_that_is_a_finite_number_at_least_zero_is_taken(value: float) -> None:
    assert BASE.overridden(rtol=value) == Tolerance(
        rtol=value, atol=2e-3, error_bar_factor=4.0, scale_floor=1e-6
    )
    assert BASE.overridden(atol=value) == Tolerance(
        rtol=1e-3, atol=value, error_bar_factor=4.0, scale_floor=1e-6
    )
    both = BASE.overridden(rtol=value, atol=value)
    assert (both.rtol, both.atol) == (value, value)


def test_an_override_left_out_keeps_the_tolerance_as_it_was() -> None:
    assert BASE.overridden() == BASE
    assert BASE.overridden(rtol=None, atol=None) == BASE
    assert BASE.overridden(rtol=1) == Tolerance(
        rtol=1.0, atol=2e-3, error_bar_factor=4.0, scale_floor=1e-6
    )
    assert isinstance(BASE.overridden(rtol=1).rtol, float)


def test_a_bad_override_is_refused_whichever_of_the_two_it_is() -> None:
    with pytest.raises(GradcheckError, match="atol"):
        BASE.overridden(rtol=0.1, atol=math.nan)
    with pytest.raises(GradcheckError, match="rtol"):
        BASE.overridden(rtol=-0.1, atol=0.1)


# The fields a Tolerance(rtol, atol) leaves at their defaults ----------------------------------
def test_a_plain_tolerance_gives_an_error_bar_no_allowance() -> None:
    # Between two analytic engines there is no error bar; a Tolerance(rtol, atol) must not
    # turn one it is handed into allowance, nor take allowance away for it.
    plain = Tolerance(rtol=0.1, atol=0.0)
    a, b, bars = np.array([1.05, 1.2]), np.array([1.0, 1.0]), np.array([0.1, 0.1])
    without = compare_tensor("W1", a, b, tolerance=plain)
    with_bars = compare_tensor("W1", a, b, tolerance=plain, error_bar=bars)
    assert with_bars.allowed == without.allowed == pytest.approx(0.1)
    assert with_bars.ratio == without.ratio == pytest.approx(2.0)
    assert (with_bars.verdict, with_bars.index) == ("fail", (1,))
    within = compare_tensor("W1", a[:1], b[:1], tolerance=plain, error_bar=bars[:1])
    assert within.verdict == "pass" and within.ratio == pytest.approx(0.5)


def test_a_plain_tolerance_scales_atol_by_the_tensor_not_by_the_network() -> None:
    plain = Tolerance(rtol=0.0, atol=0.1)
    a, b = np.array([1.2e-3]), np.array([1.0e-3])
    record = compare_tensor("b2", a, b, tolerance=plain, network_scale=10.0)
    assert record.allowed == pytest.approx(0.1 * 1.2e-3)
    assert record.verdict == "fail"


def test_a_tolerance_cannot_be_changed_in_place() -> None:
    tolerance = TOLERANCES[("float64", "analytic")]
    with pytest.raises(FrozenInstanceError):
        setattr(tolerance, "rtol", 1.0)  # noqa: B010 (mypy refuses the plain assignment)
    assert tolerance.rtol < 1.0
    assert {tolerance: "usable as a key"}[tolerance]


# tolerance_for: a numerical engine on either side makes a numerical pair ----------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_a_pair_with_a_numerical_engine_on_either_side_gets_the_numerical_tolerance(
    dtype: str,
) -> None:
    numerical, analytic = TOLERANCES[(dtype, "numerical")], TOLERANCES[(dtype, "analytic")]
    assert tolerance_for(dtype, ("numerical", "analytic")) is numerical
    assert tolerance_for(dtype, ("analytic", "numerical")) is numerical
    assert tolerance_for(dtype, ("numerical", "numerical")) is numerical
    assert tolerance_for(dtype, ("analytic", "analytic")) is analytic
    assert tolerance_for(np.dtype(dtype).name, ("analytic", "analytic")) is analytic


# Invariants the comments of steps state -------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_the_kink_band_is_the_rounding_two_analytic_engines_may_differ_by(dtype: str) -> None:
    # Two correct engines' z may lie r·ε·M apart, r the analytic rounding_factor: a z that
    # close to a kink is on it for one engine and off it for the other.
    assert TOLERANCES[(dtype, "analytic")].rounding_factor == KINK_BAND_ULPS


def test_trajectory_tolerances_are_the_share_of_the_analytic_rtol_the_comment_states() -> None:
    assert sorted(TRAJECTORY_TOLERANCES) == sorted(DTYPES)
    f64, f32 = TOLERANCES[("float64", "analytic")].rtol, TOLERANCES[("float32", "analytic")].rtol
    assert TRAJECTORY_TOLERANCES["float64"] == pytest.approx(f64 / 10, rel=1e-12)
    assert TRAJECTORY_TOLERANCES["float32"] == pytest.approx(f32, rel=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_trajectory_tolerances_exceed_the_drift_measured_for_a_correct_network(
    dtype: str,
) -> None:
    measured = {"float64": 5e-16, "float32": 2e-7}[dtype]  # the comment of steps
    assert measured < TRAJECTORY_TOLERANCES[dtype] < 1e-3


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_probability_margin_keeps_bce_and_its_derivative_finite_at_the_margin(
    dtype: str,
) -> None:
    margin = PROBABILITY_MARGIN[dtype]
    assert 0 < margin < 0.5  # (margin, 1 − margin) is a non-empty part of (0, 1)
    kind = np.dtype(dtype).type
    edges = np.array([[margin, 1 - margin]], dtype=dtype)
    gap = float(kind(1) - kind(1 - margin))  # 1 − ŷ as the dtype resolves it at the edge
    assert gap == pytest.approx(margin, rel=1e-3)
    bce = LOSSES.get("bce")
    for target in (0.0, 1.0):
        y = np.full_like(edges, target)
        with np.errstate(all="raise"):
            assert np.isfinite(bce.value(edges, y)).all()
            assert np.isfinite(bce.grad(edges, y)).all()


# Kinks along a probe (directional.CentralOracle) -------------------------------------------
def _refined(fn: Callable[[Mapping[str, Array]], float], theta: float) -> Directional:
    evaluator = Evaluator(fn)
    params = {"t": np.array([theta])}
    oracle = CentralOracle(evaluator, params, evaluator(params), noise=0.0)
    v = {"t": np.array([1.0])}
    return oracle.refine(oracle.derivative(v), v)


def test_a_smooth_loss_of_high_curvature_is_not_a_kink() -> None:
    # cos(100θ): S(t) and S(2t) differ by ~250× the rounding that reaches them (so the noise
    # test alone would call it a kink) but by only ~1e-7 of their size: O(t²), smooth.
    probe = _refined(lambda p: float(np.sum(np.cos(100 * p["t"]))), 0.3)
    assert not probe.kinked
    assert probe.estimate == pytest.approx(-100 * math.sin(30.0), rel=1e-8)


def test_a_slope_jump_between_the_steps_is_a_kink() -> None:
    # max(θ, θ/10) at θ = 1e-9, one step from its kink: S(t) and S(2t) differ by half their size.
    assert _refined(lambda p: float(np.sum(np.maximum(p["t"], 0.1 * p["t"]))), 1e-9).kinked
    assert not _refined(lambda p: float(np.sum(np.maximum(p["t"], 0.1 * p["t"]))), 0.3).kinked


def test_the_central_step_stops_at_a_tenth_however_noisy_the_loss() -> None:
    params = {"t": np.array([0.5])}
    evaluator = Evaluator(lambda p: float(np.sum(p["t"])))
    for noise in (1.0, 10.0, 1e6):  # noise that rivals or exceeds |L| = 0.5
        step = CentralOracle(evaluator, params, 0.5, noise=noise).step
        assert step <= 0.1 * (1 + 1e-12)
        assert step == pytest.approx(0.1, rel=1e-12)
    quiet = CentralOracle(evaluator, params, 0.5, noise=0.5e-6).step
    assert quiet == pytest.approx(1e-2, rel=1e-12)  # ε_eff = 1e-6 is below the cap


# Complex-step agreement (complex_step.complex_support) ----------------------------------------
def _linear(p: Mapping[str, Array]) -> Any:
    return np.sum(np.array([2.0, -1.0]) * p["t"])


def _support(shift_in_bars: float) -> str | None:
    """complex_support for a linear loss whose exact complex-step slope differs from a
    central estimate by ``shift_in_bars`` of its error bar (1e-3, far above rounding)."""
    evaluator = Evaluator(_linear)
    params = {"t": np.array([0.3, -0.7])}
    central = CentralOracle(evaluator, params, evaluator(params), noise=0.0)
    direction = {"t": np.array([0.5, 0.25])}
    slope, bar = 2.0 * 0.5 - 1.0 * 0.25, 1e-3
    reference = Directional(slope + shift_in_bars * bar, direction, bar, 4, refined=True)
    return complex_support(central, reference)


def test_a_complex_step_within_the_error_bars_a_gradient_may_use_is_trusted() -> None:
    # A user's gradient may differ from the central estimate by k error bars (the k of
    # check_gradients' tolerance); the complex step replaces that estimate only when it
    # agrees with it as well as a correct gradient must.
    k = black_box_tolerance("float64").error_bar_factor
    for shift in (0.0, 0.75 * k, -(k - 0.25), k - 1e-6):
        assert _support(shift) is None, shift
    for shift in (k + 0.25, -(k + 0.25), 1.25 * k, 100 * k):
        reason = _support(shift)
        assert reason is not None and "disagrees with central differences" in reason, shift


# Kink margins of drawn cases (strategies) -----------------------------------------------------
def _no_draw(strategy: object) -> object:
    raise AssertionError("avoiding kinks draws nothing")


def test_avoiding_kinks_nudges_only_the_units_on_one_past_what_differences_reach() -> None:
    spec = NetworkSpec((1, 2, 1), hidden="relu", loss="mse")
    X = np.array([[1.0], [-1.0]])
    params = {
        "W1": np.array([[0.4], [0.35]]),
        "b1": np.array([0.1, -0.35]),  # unit 0: z = 0.5, −0.3; unit 1: z = 0 (on the kink), −0.7
        "W2": np.array([[1.0, -1.0]]),
        "b2": np.array([0.0]),
    }
    steered = _steer_kinks(cast(st.DrawFn, _no_draw), spec, params, X, "avoid")
    assert steered["b1"][0] == params["b1"][0]  # 0.3 clear: nothing to avoid
    nudge = abs(steered["b1"][1] - params["b1"][1])
    assert 0 < nudge <= 0.01  # a nudge: 1 % of the bias bound of ``parameters``
    z = forward(spec, steered, X).zs[0]
    # Every step of the finite differences (θ ± 2h on a bias or a weight, |x| = 1) stays on
    # one side of the kink.
    reach = 2 * max(
        float(fd_step(steered["b1"], "float64").max()),
        float(fd_step(params["W1"], "float64").max()) * float(np.abs(X).max()),
    )
    assert np.min(np.abs(z)) > reach > 100 * machine_eps("float64")


# Framework dtypes (framework_tolerance) -------------------------------------------------------
def _bfloat16_from_float32(bits: int) -> float:
    """The float32 whose upper 16 bits are ``bits``: bfloat16 is float32 cut to 16 bits."""
    return float(np.array([bits << 16], np.uint32).view(np.float32)[0])


def test_framework_dtypes_have_the_epsilon_and_smallest_normal_of_each_format() -> None:
    for name in ("float64", "float32", "float16"):
        info = np.finfo(name)
        assert FRAMEWORK_DTYPES[name] == (float(info.eps), float(info.tiny)), name
    one, next_after_one = _bfloat16_from_float32(0x3F80), _bfloat16_from_float32(0x3F81)
    smallest_normal = _bfloat16_from_float32(0x0080)
    assert FRAMEWORK_DTYPES["bfloat16"] == (next_after_one - one, smallest_normal)


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_framework_computing_in_a_numpy_dtype_is_judged_as_numpy_code_is(dtype: str) -> None:
    assert framework_tolerance(dtype) == black_box_tolerance(dtype)


@pytest.mark.parametrize(("dtype", "share"), [("float16", 0.03), ("bfloat16", 0.25)])
def test_a_half_type_may_sit_the_share_of_the_scale_the_comment_states(
    dtype: str, share: float
) -> None:
    tolerance = framework_tolerance(dtype)
    eps, tiny = FRAMEWORK_DTYPES[dtype]
    assert tolerance.rtol == tolerance.atol == pytest.approx(share, rel=0.05)
    assert tolerance == replace(
        black_box_tolerance("float64"), rtol=tolerance.rtol, atol=tolerance.atol, floor=4 * tiny
    )
    assert tolerance.rtol / eps == FRAMEWORK_ROUNDING_ULPS[dtype]  # a whole number of ulps


def test_both_half_types_get_the_same_number_of_ulps() -> None:
    # Both round each intermediate to their own width and accumulate in float32 alike; they
    # differ in ε only, so their bounds differ by the ratio of their ε (3 % against 25 %).
    assert FRAMEWORK_ROUNDING_ULPS["float16"] == FRAMEWORK_ROUNDING_ULPS["bfloat16"]
    f16, bf16 = framework_tolerance("float16"), framework_tolerance("bfloat16")
    assert bf16.rtol / f16.rtol == FRAMEWORK_DTYPES["bfloat16"][0] / FRAMEWORK_DTYPES["float16"][0]


@pytest.mark.parametrize("dtype", ["float8", "int32", "complex128", ""])
def test_a_dtype_no_framework_computes_in_is_refused_by_name(dtype: str) -> None:
    with pytest.raises(GradcheckError, match=f"unsupported dtype '{dtype}'.*bfloat16"):
        framework_tolerance(dtype)
