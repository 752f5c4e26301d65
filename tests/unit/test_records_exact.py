"""Records, exactly: on small hand cases every field of a Record (index, both values, the
absolute and relative error, what was allowed, the ratio, the counts) is the number worked
out by hand, in binary fractions so that equality is exact. A checker that takes the wrong
maximum, skips the wrong entries, forgets a term of the allowance or excuses an error of
exactly 1.0 fails here.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck.compare import Record, compare_results, compare_tensor, entry_ratios, relative_error
from gradcheck.engines import EngineResult
from gradcheck.numeric.steps import TOLERANCES, Kind, Tolerance, machine_eps

# rtol and atol are powers of two: every allowance below is exact.
HAND = Tolerance(rtol=0.25, atol=0.0625, rounding_factor=0.0)


def test_a_hand_case_with_a_skipped_entry_gives_the_record_worked_out_by_hand() -> None:
    a = np.array([[1.0, 4.0], [10.0, -2.0]])
    b = np.array([[1.5, 3.5], [0.0, -2.0]])
    skip = np.array([[False, False], [True, False]])
    record = compare_tensor("W1", a, b, tolerance=HAND, engines=("core", "fd"), skip=skip)
    # s = max(‖a‖∞, ‖b‖∞) = 10 over all entries, so atol·s = 0.625; allowed per entry:
    #   [0, 0]: 0.25·1.5 + 0.625 = 1.0     diff 0.5   ratio 0.5    rel 0.5/1.5
    #   [0, 1]: 0.25·3.5 + 0.625 = 1.5     diff 0.5   ratio 1/3    rel 0.5/4
    #   [1, 0]: skipped (diff 10, rel 1: neither may count)
    #   [1, 1]: 0.25·2 + 0.625 = 1.125     diff 0     ratio 0      rel 0
    assert record == Record(
        engine_a="core",
        engine_b="fd",
        tensor="W1",
        shape=(2, 2),
        index=(0, 0),
        value_a=1.0,
        value_b=1.5,
        abs_err=0.5,
        rel_err=0.5 / 1.5,
        error_bar=0.0,
        allowed=1.0,
        ratio=0.5,
        checked=3,
        kink_entries=1,
        tolerance=HAND,
        verdict="pass",
    )


def test_relative_error_divides_by_the_larger_magnitude() -> None:
    error = np.array([0.5, 0.5, 0.0, 2.0])
    a = np.array([1.0, -4.0, 0.0, 0.0])
    b = np.array([1.5, 3.5, 0.0, -8.0])
    assert relative_error(error, a, b).tolist() == [0.5 / 1.5, 0.5 / 4.0, 0.0, 0.25]


@pytest.mark.parametrize("sign", [1.0, -1.0])
@pytest.mark.parametrize("key", sorted(TOLERANCES), ids="-".join)
def test_an_entry_off_by_exactly_one_fails(key: tuple[str, Kind], sign: float) -> None:
    a, b = np.array([0.5, 2.0 + sign]), np.array([0.5, 2.0])
    record = compare_tensor("b1", a, b, tolerance=TOLERANCES[key])
    tolerance = TOLERANCES[key]
    allowed = tolerance.rtol * 2.0 + tolerance.atol * max(2.0 + sign, 2.0)
    assert record.verdict == "fail" and record.index == (1,)
    assert record.abs_err == 1.0
    assert record.ratio == pytest.approx(1.0 / allowed, rel=1e-12)


def test_an_entry_off_by_exactly_one_fails_however_loose_the_rest() -> None:
    a, b = np.array([1.0]), np.array([0.0])
    record = compare_tensor("b1", a, b, tolerance=HAND)
    # allowed = 0.25·0 + 0.0625·1 = 1/16
    assert (record.verdict, record.allowed, record.ratio) == ("fail", 0.0625, 16.0)


def test_entry_ratios_without_and_with_an_error_bar() -> None:
    a, b = np.array([1.0, 4.0, -2.0]), np.array([1.5, 3.5, -2.0])
    tolerance = Tolerance(rtol=0.25, atol=0.0625, error_bar_factor=2.0)
    # s = 4: allowed = 0.25·|b| + 0.25 = [0.625, 1.125, 0.75]
    without = entry_ratios(a, b, tolerance=tolerance)
    assert without.tolist() == [0.5 / 0.625, 0.5 / 1.125, 0.0]
    assert without[0] <= 1  # the first entry passes; below, a negative check fails
    bar = np.array([0.1875, 0.0, 0.5])
    # + 2·bar = [0.375, 0, 1.0]: allowed [1.0, 1.125, 1.75]
    with_bar = entry_ratios(a, b, tolerance=tolerance, error_bar=bar)
    assert with_bar.tolist() == [0.5, 0.5 / 1.125, 0.0]
    off = entry_ratios(np.array([3.0]), np.array([1.0]), tolerance=tolerance)
    assert off.tolist() == [2.0 / (0.25 + 0.0625 * 3.0)] and off[0] > 1


def test_entry_ratios_use_the_network_scale_floor() -> None:
    tolerance = Tolerance(rtol=0.0, atol=0.0625, scale_floor=0.5)
    ratios = entry_ratios(np.array([0.5]), np.array([0.25]), tolerance=tolerance, network_scale=8.0)
    # s = max(0.5, 0.25, 0.5·8) = 4: allowed 0.25
    assert ratios.tolist() == [1.0]


def test_the_rounding_term_counts_when_given_and_only_then() -> None:
    eps = machine_eps("float64")
    tolerance = Tolerance(rtol=0.0, atol=0.0625, rounding_factor=64.0)
    a, b = np.array([0.0, 1.0]), np.array([0.0, 1.0 + 2**-40])
    plain = compare_tensor("t", a, b, tolerance=tolerance)
    assert plain.allowed == 0.0625 * (1.0 + 2**-40)
    magnitudes = np.array([0.0, 2.0**20])
    rounded = compare_tensor("t", a, b, tolerance=tolerance, rounding=magnitudes, eps=eps)
    assert rounded.allowed == 0.0625 * (1.0 + 2**-40) + 64.0 * eps * 2.0**20
    assert rounded.index == plain.index == (1,)
    # The rounding term alone decides: it lets 2⁻⁴⁰ through at 64·ε·2²⁰ = 2⁻²⁶, not without.
    alone = Tolerance(rtol=0.0, atol=0.0, rounding_factor=64.0)
    assert compare_tensor("t", a, b, tolerance=alone).verdict == "fail"
    given = compare_tensor("t", a, b, tolerance=alone, rounding=magnitudes, eps=eps)
    assert given.verdict == "pass" and given.allowed == 2.0**-26


def _result(engine: str, grads: dict[str, np.ndarray]) -> EngineResult:
    return EngineResult(engine=engine, kind="analytic", loss=1.0, grads=grads)


def test_the_network_scale_is_the_largest_gradient_of_every_tensor() -> None:
    """A tensor of tiny gradients in a network of large ones is judged at the network's
    scale: atol·scale_floor·max over all tensors, not its own ‖g‖∞ nor the smallest."""
    tolerance = TOLERANCES[("float64", "analytic")]
    big = np.array([[1e3, -2e3]])
    small = np.array([1e-6, 2e-6])
    floor_scale = tolerance.scale_floor * 2e3  # 2e-3, far above ‖small‖∞
    allowed = tolerance.rtol * 2e-6 + tolerance.atol * floor_scale
    for multiple, verdict in ((0.9, "pass"), (1.1, "fail")):
        shifted = small + np.array([0.0, multiple * allowed])
        records = compare_results(
            _result("a", {"W1": big, "b1": shifted}),
            _result("b", {"W1": big.copy(), "b1": small}),
            dtype="float64",
        )
        assert [r.tensor for r in records] == ["loss", "W1", "b1"]
        b1 = records[2]
        assert b1.verdict == verdict and b1.index == (1,)
        assert b1.allowed == pytest.approx(allowed, rel=1e-9)
