"""compare.py at its edges: an empty tensor, a tensor with every entry skipped, a skipped entry
that ties a compared one, an error of exactly the allowance, the scale and the rounding term
when the caller leaves them out, the skip masks of both engines and of the kinks merged, and
the shape of the interface (keyword-only options, frozen Records).

The tolerances are powers of two, so every allowance below is exact.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from gradcheck.compare import (
    compare_results,
    compare_tensor,
    entry_name,
    entry_ratios,
    largest_finite,
    relative_error,
)
from gradcheck.engines import EngineResult
from gradcheck.numeric.steps import Tolerance

HALF = Tolerance(rtol=0.5, atol=0.0, rounding_factor=0.0)


def test_an_error_of_exactly_the_allowance_passes_and_one_ulp_more_fails() -> None:
    # allowed = 0.5·|2| = 1 and |3 − 2| = 1: the tolerance is used up, not exceeded.
    record = compare_tensor("t", np.array([3.0]), np.array([2.0]), tolerance=HALF)
    assert (record.allowed, record.ratio, record.verdict) == (1.0, 1.0, "pass")
    over = compare_tensor("t", np.array([np.nextafter(3.0, 4.0)]), np.array([2.0]), tolerance=HALF)
    assert over.ratio > 1.0 and over.verdict == "fail"


def test_the_allowance_is_every_term_of_the_formula_added_up() -> None:
    tol = Tolerance(rtol=0.5, atol=0.25, error_bar_factor=2.0, scale_floor=0.5, rounding_factor=4.0)
    a, b = np.array([1.0, -3.0]), np.array([2.0, 1.0])
    record = compare_tensor(
        "t",
        a,
        b,
        tolerance=tol,
        error_bar=np.array([0.0, 0.125]),
        network_scale=16.0,
        rounding=np.array([2.0, 1.0]),
        eps=0.0625,
    )
    # scale = max(‖a‖∞ = 3, ‖b‖∞ = 2, 0.5·16 = 8) = 8, so atol·scale = 2; allowed per entry:
    #   [0]: 0.5·2 + 2 + 0       + 4·0.0625·2 = 3.5   diff 1   ratio 2/7
    #   [1]: 0.5·1 + 2 + 2·0.125 + 4·0.0625·1 = 3     diff 4   ratio 4/3
    assert (record.index, record.error_bar, record.allowed) == ((1,), 0.125, 3.0)
    assert record.ratio == 4.0 / 3.0
    assert (record.abs_err, record.rel_err, record.verdict) == (4.0, 4.0 / 3.0, "fail")


def test_an_empty_tensor_passes_with_nothing_to_name() -> None:
    empty = np.zeros((3, 0))
    record = compare_tensor("W", empty, empty.copy(), tolerance=HALF)
    assert (record.shape, record.index, record.checked, record.kink_entries) == ((3, 0), (), 0, 0)
    assert (record.value_a, record.value_b, record.error_bar, record.allowed) == (0, 0, 0, 0)
    assert (record.abs_err, record.rel_err, record.ratio) == (0.0, 0.0, 0.0)
    assert record.verdict == "pass" and record.kink is False


def test_a_tensor_with_every_entry_skipped_is_inconclusive_and_reports_no_error() -> None:
    a, b = np.array([1.0, 2.0]), np.array([3.0, -2.0])
    record = compare_tensor("b1", a, b, tolerance=HALF, skip=np.array([True, True]))
    assert (record.checked, record.kink_entries, record.verdict) == (0, 2, "inconclusive")
    # Nothing was compared: no error, no share of the tolerance used.
    assert (record.abs_err, record.rel_err, record.ratio) == (0.0, 0.0, 0.0)
    assert record.kink is True


def test_the_named_entry_is_a_compared_one_even_when_every_compared_entry_agrees() -> None:
    # Entry 0 is skipped (and wildly off); entry 1 agrees exactly, ratio 0.
    a, b = np.array([5.0, 1.0]), np.array([0.0, 1.0])
    record = compare_tensor("b1", a, b, tolerance=HALF, skip=np.array([True, False]))
    assert (record.index, record.value_a, record.value_b, record.ratio) == ((1,), 1.0, 1.0, 0.0)
    assert (record.checked, record.kink_entries, record.verdict) == (1, 1, "pass")


def test_kink_says_whether_any_entry_was_left_out() -> None:
    a = np.array([1.0, 2.0, 3.0])
    none_skipped = compare_tensor("t", a, a.copy(), tolerance=HALF)
    one_skipped = compare_tensor("t", a, a.copy(), tolerance=HALF, skip=np.array([0, 1, 0]))
    assert none_skipped.kink is False and none_skipped.kink_entries == 0
    assert one_skipped.kink is True and one_skipped.kink_entries == 1


def test_without_an_epsilon_the_rounding_term_adds_nothing() -> None:
    # The rounding term is r·ε·M with the ε the caller names; none named, none added.
    tol = Tolerance(rtol=0.5, atol=0.0, rounding_factor=4.0)
    a, b, magnitudes = np.array([1.0]), np.array([1.5]), np.array([2.0])
    record = compare_tensor("t", a, b, tolerance=tol, rounding=magnitudes)
    assert record.allowed == 0.75 and record.ratio == 0.5 / 0.75
    # ε = 1/16: 0.75 + 4·(1/16)·2 = 1.25.
    assert compare_tensor("t", a, b, tolerance=tol, rounding=magnitudes, eps=0.0625).allowed == 1.25


def test_without_a_network_scale_the_scale_is_the_two_tensors_own() -> None:
    tol = Tolerance(rtol=0.0, atol=0.5, scale_floor=1.0, rounding_factor=0.0)
    a, b = np.array([0.25]), np.array([0.0])
    # scale = max(0.25, 0, 1·0) = 0.25: allowed 0.125, diff 0.25.
    assert entry_ratios(a, b, tolerance=tol).tolist() == [2.0]
    # A network scale of 4 floors the scale at 1·4: allowed 2.
    assert entry_ratios(a, b, tolerance=tol, network_scale=4.0).tolist() == [0.125]


def test_largest_finite_of_no_finite_entry_is_zero() -> None:
    assert largest_finite(np.array([np.nan, -np.inf, np.inf])) == 0.0
    assert largest_finite(np.zeros((0, 2))) == 0.0
    assert largest_finite(np.array([np.nan, -3.0, 2.0])) == 3.0


def test_relative_error_of_zero_error_is_zero_even_over_zero() -> None:
    assert relative_error([0.0, 1.0, 2.0], [0.0, 0.0, -4.0], [0.0, 0.0, 1.0]).tolist() == [
        0.0,
        np.inf,
        0.5,
    ]


def _result(engine: str, kind: str, **fields: object) -> EngineResult:
    return EngineResult(engine=engine, kind=kind, loss=0.5, **fields)  # type: ignore[arg-type]


def test_compare_results_skips_an_entry_that_either_engine_or_the_kinks_mark() -> None:
    a = _result(
        "core",
        "analytic",
        grads={"W": np.array([1.0, 2.0, 3.0, 4.0]), "b": np.array([1.0])},
        unreliable={"W": np.array([True, False, False, False])},
        error_bars={"W": np.zeros(4), "b": np.array([0.25])},
    )
    b = _result(
        "fd",
        "numerical",
        grads={"W": np.array([9.0, 9.0, 9.0, 4.0]), "b": np.array([1.0])},
        unreliable={"W": np.array([False, True, False, False])},
        error_bars={"W": np.zeros(4), "b": np.array([0.5])},
    )
    ambiguous = {"W": np.array([False, False, True, False])}
    loss, w, bias = compare_results(a, b, dtype="float64", ambiguous=ambiguous)
    assert (loss.tensor, loss.value_a, loss.value_b, loss.pair) == ("loss", 0.5, 0.5, "core vs fd")
    # Entries 0, 1 and 2 are off by 8, 7 and 6 but each is marked by one of the three masks.
    assert (w.tensor, w.checked, w.kink_entries, w.index) == ("W", 1, 3, (3,))
    assert (w.ratio, w.verdict) == (0.0, "pass")
    # The two engines' error bars add up.
    assert (bias.tensor, bias.error_bar, bias.verdict) == ("b", 0.75, "pass")


@pytest.mark.parametrize(
    ("tensor", "index", "out_rank", "sep", "name"),
    [
        ("W1", (2, 3), 0, ",", "W1[2,3]"),
        ("W1", (2, 3), 0, ", ", "W1[2, 3]"),
        # A Jacobian block: the output's axes first, then the input's.
        ("∂out/∂x", (0, 1, 2), 2, ",", "∂out[0,1]/∂x[2]"),
        ("∂out/∂x", (0, 1, 2), 1, ", ", "∂out[0]/∂x[1, 2]"),
        # A scalar input: nothing after the slash to index.
        ("∂out/∂x", (4,), 1, ",", "∂out[4]/∂x"),
        # A scalar output: out_rank 0, the whole index is the input's.
        ("∂out/∂x", (1, 2), 0, ",", "∂out/∂x[1,2]"),
        # Not a Jacobian name: out_rank cannot split it.
        ("b2", (5,), 1, ",", "b2[5]"),
    ],
)
def test_entry_name_splits_a_jacobian_index_between_output_and_input(
    tensor: str, index: tuple[int, ...], out_rank: int, sep: str, name: str
) -> None:
    assert entry_name(tensor, index, out_rank, sep) == name


def test_entry_name_defaults_to_a_plain_index_and_refuses_a_negative_rank() -> None:
    assert entry_name("∂y/∂x", (1, 2)) == "∂y/∂x[1,2]"
    with pytest.raises(ValueError, match="out_rank must be >= 0, not -1"):
        entry_name("∂y/∂x", (1, 2), -1)


def test_a_plain_records_entry_is_its_tensor_and_index() -> None:
    record = compare_tensor("∂y/∂x", np.eye(2), np.eye(2), tolerance=HALF)
    assert record.out_rank == 0
    assert record.entry == f"∂y/∂x[{record.index[0]},{record.index[1]}]"


def test_a_records_entry_and_description_name_the_output_and_input_entries() -> None:
    jac = np.zeros((2, 3))
    jac[1, 2] = 1.0
    record = compare_tensor("∂y/∂x", jac, np.zeros((2, 3)), tolerance=HALF)
    record = dataclasses.replace(record, out_rank=1)
    assert record.entry == "∂y[1]/∂x[2]"
    assert record.describe().startswith("∂y[1]/∂x[2] ")


def test_a_record_is_frozen() -> None:
    record = compare_tensor("t", np.array([1.0]), np.array([1.0]), tolerance=HALF)
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.verdict = "fail"  # type: ignore[misc]


def test_the_options_are_keyword_only() -> None:
    a, b = np.array([1.0]), np.array([1.0])
    with pytest.raises(TypeError):
        compare_tensor("t", a, b, HALF)  # type: ignore[misc]
    with pytest.raises(TypeError):
        entry_ratios(a, b, HALF)  # type: ignore[misc]
    result = _result("core", "analytic", grads={"W": a})
    with pytest.raises(TypeError):
        compare_results(result, result, "float64")  # type: ignore[misc]
