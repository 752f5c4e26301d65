"""Records: the worst entry, tolerances, kinks, non-finite values and verdicts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gradcheck.compare import aggregate_verdict, compare_tensor, overall_verdict
from gradcheck.numeric.steps import TOLERANCES, Tolerance

TIGHT = TOLERANCES[("float64", "analytic")]


def test_a_planted_error_is_named_by_tensor_index_and_values() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(size=(4, 5))
    b = a.copy()
    b[2, 3] += 1e-6
    record = compare_tensor("W2", a, b, tolerance=TIGHT, engines=("core", "torch"))
    assert record.verdict == "fail"
    assert (record.tensor, record.index, record.pair) == ("W2", (2, 3), "core vs torch")
    assert record.value_a == a[2, 3] and record.value_b == b[2, 3]
    assert record.abs_err == pytest.approx(1e-6, rel=1e-6)
    assert record.ratio > 1 and record.checked == 20 and record.kink_entries == 0


@given(
    arrays(np.float64, st.integers(1, 12), elements=st.floats(-1e3, 1e3)),
    arrays(np.float64, 12, elements=st.floats(-1e-3, 1e-3)),
)
def test_the_errors_are_those_of_the_entry_named_in_where(a: np.ndarray, noise: np.ndarray) -> None:
    """abs err and rel err describe the worst entry, the one ``where`` names (a report row
    shows them side by side), not the largest of the tensor, which may be elsewhere."""
    b = a + noise[: a.size]
    record = compare_tensor("t", a, b, tolerance=TIGHT)
    diff = abs(record.value_a - record.value_b)
    assert (record.value_a, record.value_b) == (a[record.index], b[record.index])
    assert record.abs_err == diff
    scale = max(abs(record.value_a), abs(record.value_b))
    assert record.rel_err == (diff / scale if diff else 0.0)


def test_identical_tensors_pass_with_ratio_zero() -> None:
    a = np.linspace(-1, 1, 7)
    record = compare_tensor("b1", a, a.copy(), tolerance=TIGHT)
    assert record.verdict == "pass" and record.ratio == 0.0 and record.rel_err == 0.0


def test_error_bar_widens_what_is_allowed() -> None:
    a, b = np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-5])
    tol = Tolerance(rtol=1e-9, atol=1e-9, error_bar_factor=2.0)
    assert compare_tensor("t", a, b, tolerance=tol).verdict == "fail"
    bar = np.array([0.0, 1e-5])
    record = compare_tensor("t", a, b, tolerance=tol, error_bar=bar)
    assert record.verdict == "pass" and record.error_bar == 1e-5


def test_rounding_bound_allows_cancellation_to_zero_but_not_a_real_error() -> None:
    # A tensor that cancels to ~1e-15 from terms of size 1: its own scale allows nothing.
    a, b = np.array([0.0, 1e-15]), np.array([3e-16, 1e-15])
    assert compare_tensor("t", a, b, tolerance=TIGHT).verdict == "fail"
    magnitudes = np.array([1.0, 1.0])
    eps = float(np.finfo(np.float64).eps)
    kwargs = {"tolerance": TIGHT, "rounding": magnitudes, "eps": eps}
    assert compare_tensor("t", a, b, **kwargs).verdict == "pass"
    assert compare_tensor("t", a, np.array([1e-10, 1e-15]), **kwargs).verdict == "fail"


def test_kink_entries_are_not_compared_and_all_kinks_is_inconclusive() -> None:
    a, b = np.array([1.0, 0.0]), np.array([1.0, 1.0])
    record = compare_tensor("b1", a, b, tolerance=TIGHT, skip=np.array([False, True]))
    assert record.verdict == "pass" and record.kink_entries == 1 and record.checked == 1
    record = compare_tensor("b1", a, b, tolerance=TIGHT, skip=np.array([True, True]))
    assert record.verdict == "inconclusive"


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_values_fail(bad: float) -> None:
    a, b = np.array([1.0, 2.0]), np.array([1.0, bad])
    record = compare_tensor("W1", a, b, tolerance=TIGHT)
    assert record.verdict == "fail" and record.index == (1,)


def test_float32_inputs_are_compared_in_float64() -> None:
    a = np.array([1.0, 2.0], dtype=np.float32)
    record = compare_tensor("W1", a, a.astype(np.float64), tolerance=TIGHT)
    assert record.verdict == "pass"


def test_verdict_aggregation() -> None:
    assert overall_verdict(["pass", "inconclusive"]) == "inconclusive"
    assert overall_verdict(["pass", "fail", "inconclusive"]) == "fail"
    assert aggregate_verdict(["pass", "inconclusive"]) == "pass"
    assert aggregate_verdict(["inconclusive", "inconclusive"]) == "inconclusive"
    assert aggregate_verdict(["pass", "fail"]) == "fail"


def test_subnormal_differences_pass_but_normal_ones_do_not() -> None:
    tiny = float(np.finfo(np.float32).tiny)
    kwargs = {"tolerance": TOLERANCES[("float32", "analytic")], "tiny": tiny}
    a = np.array([-tiny], dtype=np.float32)
    assert compare_tensor("b1", a, np.zeros(1, np.float32), **kwargs).verdict == "pass"
    assert compare_tensor("b1", a * 100, np.zeros(1, np.float32), **kwargs).verdict == "fail"
