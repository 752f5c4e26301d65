"""Tolerances from the loose side: every number of the tables is pinned to its published
value, and each term of the allowance

    |a_i − b_i| ≤ rtol·|b_i| + atol·s + k·e_i + r·ε·M_i    (floored at 4·tiny)

(``numeric.steps``) is tested on its own through ``compare_tensor``: a difference of 0.9×
the term passes and 1.1× fails. A doubled (or halved) entry of the tables, or a term that
``compare`` computes with the wrong operand, fails here. ``fd_step`` is pinned beyond
|θ| = 1, where its ``max(1, |θ|)`` takes effect.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from gradcheck.compare import Record, compare_tensor
from gradcheck.numeric.steps import (
    BLACK_BOX_ROUNDING_ULPS,
    SUBNORMAL_FLOOR,
    TOLERANCES,
    Kind,
    Tolerance,
    black_box_tolerance,
    fd_step,
    machine_eps,
)

# The contract: the numbers of steps.TOLERANCES as published there (the default
# rounding_factor 64 is the r of the README's formula; float32 pairs with a numerical
# engine use 8).
PUBLISHED = {
    ("float64", "analytic"): Tolerance(
        rtol=1e-9, atol=1e-9, error_bar_factor=4.0, scale_floor=1e-6, rounding_factor=64.0
    ),
    ("float32", "analytic"): Tolerance(
        rtol=1e-4, atol=1e-4, error_bar_factor=4.0, scale_floor=1e-3, rounding_factor=64.0
    ),
    ("float64", "numerical"): Tolerance(
        rtol=1e-6, atol=1e-7, error_bar_factor=4.0, scale_floor=1e-6, rounding_factor=64.0
    ),
    ("float32", "numerical"): Tolerance(
        rtol=2e-6, atol=2e-6, error_bar_factor=4.0, scale_floor=1e-3, rounding_factor=8.0
    ),
}

# check_gradients (README, "Checking your own gradients"): |g − n| ≤ 4·e + r·ε·(|n| + s·‖u‖₁)
# with r = 64 for float64 and 1,024 for float32, and differences below 4·tiny passing.
BLACK_BOX_ULPS = {"float64": 64.0, "float32": 1024.0}


def _black_box_published(dtype: str, ulps: float | None = None) -> Tolerance:
    bound = (BLACK_BOX_ULPS[dtype] if ulps is None else ulps) * float(np.finfo(dtype).eps)
    return Tolerance(
        rtol=bound,
        atol=bound,
        error_bar_factor=4.0,
        scale_floor=1.0,
        rounding_factor=0.0,
        floor=4 * float(np.finfo(dtype).tiny),
    )


def _key_id(key: tuple[str, Kind]) -> str:
    return "-".join(key)


TABLE_KEYS = sorted(TOLERANCES)
BLACK_BOX_DTYPES = sorted(BLACK_BOX_ROUNDING_ULPS)


def test_every_table_entry_is_published() -> None:
    assert sorted(PUBLISHED) == TABLE_KEYS


@pytest.mark.parametrize("key", TABLE_KEYS, ids=_key_id)
def test_table_entry_equals_its_published_value(key: tuple[str, Kind]) -> None:
    assert TOLERANCES[key] == PUBLISHED[key]


@pytest.mark.parametrize("dtype", BLACK_BOX_DTYPES)
def test_black_box_tolerance_equals_its_published_value(dtype: str) -> None:
    assert dict(BLACK_BOX_ROUNDING_ULPS) == BLACK_BOX_ULPS
    assert SUBNORMAL_FLOOR == 4
    assert black_box_tolerance(dtype) == _black_box_published(dtype)


def test_black_box_tolerance_of_an_unlisted_dtype_is_float32s() -> None:
    expected = _black_box_published("float16", ulps=BLACK_BOX_ULPS["float32"])
    assert black_box_tolerance("float16") == expected


# One term at a time. Every other factor of the tolerance is set to 0, so the allowance of
# the compared entry is exactly the term under test, computed here from the formula with
# the table's own numbers.

TERMS = ("rtol", "atol", "scale_floor", "error_bar_factor", "rounding_factor", "floor")
_ZERO = Tolerance(rtol=0.0, atol=0.0, error_bar_factor=0.0, scale_floor=0.0, rounding_factor=0.0)


def _tables() -> list[tuple[str, str, Tolerance]]:
    """(table id, dtype, tolerance) for every entry of TOLERANCES and black_box_tolerance."""
    rows = [(_key_id(key), key[0], TOLERANCES[key]) for key in TABLE_KEYS]
    rows += [(f"black_box-{d}", d, black_box_tolerance(d)) for d in BLACK_BOX_DTYPES]
    return rows


def _term_cases() -> list[Any]:
    cases = []
    for table, dtype, tolerance in _tables():
        for term in TERMS:
            # A factor of 0 contributes nothing to test from the loose side (it is pinned
            # above); the floor exists for the table entries through ``tiny``.
            factor = getattr(tolerance, "atol" if term == "scale_floor" else term)
            if term == "scale_floor":
                factor *= tolerance.scale_floor
            if term == "floor" or factor > 0:
                cases.append(pytest.param(dtype, tolerance, term, id=f"{table}-{term}"))
    return cases


def _isolated(tolerance: Tolerance, term: str) -> Tolerance:
    if term == "scale_floor":
        return replace(_ZERO, atol=tolerance.atol, scale_floor=tolerance.scale_floor)
    if term == "floor":
        return replace(_ZERO, floor=tolerance.floor)
    return replace(_ZERO, **{term: getattr(tolerance, term)})


def _compare_at(
    dtype: str, tolerance: Tolerance, term: str, multiple: float
) -> tuple[Record, float]:
    """compare_tensor on a tensor whose entry 1 is off by ``multiple`` × the term; returns
    the record and the expected allowance."""
    eps, tiny = machine_eps(dtype), float(np.finfo(dtype).tiny)
    tol = _isolated(tolerance, term)
    # ‖b‖∞ = 5 is not the entry's own |b|; entry 1 is 0 where |b| plays no part, so that
    # a[1] − b[1] is the planted difference exactly.
    b = np.array([-5.0, 0.0, 0.5])
    kwargs: dict[str, object] = {}
    if term == "rtol":
        b[1] = 1.25
        expected = tol.rtol * 1.25
    elif term == "atol":
        expected = tol.atol * 5.0
    elif term == "scale_floor":
        network_scale = 1e3 / tol.scale_floor  # the floor, 1e3, dwarfs the tensor's own 5
        kwargs["network_scale"] = network_scale
        expected = tol.atol * tol.scale_floor * network_scale
    elif term == "error_bar_factor":
        bar = np.array([0.0, 3e-3, 0.0])
        kwargs["error_bar"] = bar
        expected = tol.error_bar_factor * 3e-3
    elif term == "rounding_factor":
        kwargs.update(rounding=np.array([0.0, 7.0, 0.0]), eps=eps)
        expected = tol.rounding_factor * eps * 7.0
    else:  # the floor: SUBNORMAL_FLOOR·tiny for the tables, its own field for the black box
        kwargs["tiny"] = tiny if tol.floor == 0 else 0.0
        expected = max(SUBNORMAL_FLOOR * tiny if tol.floor == 0 else 0.0, tol.floor)
        b = np.zeros(3)
    a = b.copy()
    a[1] += multiple * expected
    record = compare_tensor("t", a, b, tolerance=tol, **kwargs)  # type: ignore[arg-type]
    return record, expected


@pytest.mark.parametrize(("dtype", "tolerance", "term"), _term_cases())
def test_nine_tenths_of_a_term_passes(dtype: str, tolerance: Tolerance, term: str) -> None:
    record, expected = _compare_at(dtype, tolerance, term, 0.9)
    assert record.verdict == "pass", record.describe()
    assert record.index == (1,)
    assert record.allowed == pytest.approx(expected, rel=1e-9)
    assert record.ratio == pytest.approx(0.9, rel=1e-6)


@pytest.mark.parametrize(("dtype", "tolerance", "term"), _term_cases())
def test_eleven_tenths_of_a_term_fails(dtype: str, tolerance: Tolerance, term: str) -> None:
    record, expected = _compare_at(dtype, tolerance, term, 1.1)
    assert record.verdict == "fail", record.describe()
    assert record.index == (1,)
    assert record.allowed == pytest.approx(expected, rel=1e-9)
    assert record.ratio == pytest.approx(1.1, rel=1e-6)


@pytest.mark.parametrize("key", TABLE_KEYS, ids=_key_id)
def test_the_terms_add_up(key: tuple[str, Kind]) -> None:
    """All terms at once, with the table entry as it is: the allowance is their sum."""
    dtype = key[0]
    tolerance = TOLERANCES[key]
    eps, tiny = machine_eps(dtype), float(np.finfo(dtype).tiny)
    b = np.array([-5.0, 1.25])
    bar, magnitudes, network_scale = np.array([0.0, 3e-3]), np.array([0.0, 7.0]), 1e7
    scale = max(5.0, tolerance.scale_floor * network_scale)
    expected = (
        tolerance.rtol * 1.25
        + tolerance.atol * scale
        + tolerance.error_bar_factor * 3e-3
        + tolerance.rounding_factor * eps * 7.0
    )
    kwargs = {
        "tolerance": tolerance,
        "error_bar": bar,
        "rounding": magnitudes,
        "network_scale": network_scale,
        "eps": eps,
        "tiny": tiny,
    }
    for multiple, verdict in ((0.9, "pass"), (1.1, "fail")):
        a = b.copy()
        a[1] += multiple * expected
        record = compare_tensor("t", a, b, **kwargs)  # type: ignore[arg-type]
        assert record.verdict == verdict and record.index == (1,)
        assert record.allowed == pytest.approx(expected, rel=1e-9)


# fd_step: h = ε^(1/3)·max(1, |θ|) per entry.


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    ("theta", "multiplier"), [(10.0, 10.0), (-10.0, 10.0), (1e3, 1e3), (0.5, 1.0), (0.0, 1.0)]
)
def test_fd_step_grows_with_theta_beyond_one(dtype: str, theta: float, multiplier: float) -> None:
    h = fd_step(np.array([theta]), dtype)
    assert h.dtype == np.float64
    assert h[0] == pytest.approx(machine_eps(dtype) ** (1 / 3) * multiplier, rel=1e-15)


def test_fd_step_is_per_entry() -> None:
    theta = np.array([[10.0, 1e3], [0.5, -2.0]])
    expected = machine_eps("float64") ** (1 / 3) * np.array([[10.0, 1e3], [1.0, 2.0]])
    np.testing.assert_allclose(fd_step(theta, "float64"), expected, rtol=1e-15)
