"""The diagnosis of ``student.diagnose`` on hand-made trials: the factor c with got = c·r and
its 1e-6 residual tolerance (both sides of it), c = −1, c = B or 1/B at two batch sizes, the
transpose of a square gradient that is not symmetric, all zeros, the mutant-matching rule,
which trials confirm a finding, and the one line per finding that names every tensor. No
sandbox: each Trial is built from its tensors and compared as ``run_trial`` compares them."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st

from gradcheck.student import diagnose as dg
from gradcheck.student.contract import Check, Expected, Mutant
from gradcheck.student.diagnose import Diagnosis, diagnose, factor
from gradcheck.student.labels import Label
from gradcheck.student.sandbox import Sandbox
from gradcheck.student.source import Finding
from gradcheck.student.trial import Trial, compare_with

Array = np.ndarray

MINUS = "\N{MINUS SIGN}"
SIGN_FLIP = f"{MINUS}1 × the gradient"
ZEROS = "all zeros"
TRANSPOSE = "the transpose of the gradient"

# Square and not symmetric, one per trial (the variant has other values).
R2 = np.array([[1.0, 2.0], [3.0, 4.0]])
R3 = np.array([[0.5, -1.5], [2.5, 1.0]])
B2 = np.array([0.25, -0.75])
B3 = np.array([1.5, 0.5])
# A unit vector and a unit vector orthogonal to it: g = c·s·U + e·V has factor c exactly
# and residual |e|.
U = np.array([1.0, 2.0, -2.0]) / 3.0
V = np.array([2.0, -1.0, 0.0]) / np.sqrt(5.0)


class _Mutants(Check):
    """A check that knows only its mutant references, one list per case: diagnose asks a
    check for nothing else."""

    name = "stub"

    def __init__(self, by_case: Mapping[int, list[Mutant]] | None = None) -> None:
        self.by_case = dict(by_case or {})

    def mutants(self, case: Any) -> list[Mutant]:
        return list(self.by_case.get(case, []))

    def cases(self) -> st.SearchStrategy[Any]:
        raise AssertionError("not used by diagnose")

    def call(self, sandbox: Sandbox, case: Any) -> Any:
        raise AssertionError("not used by diagnose")

    def read(self, case: Any, raw: Any) -> dict[str, Any]:
        raise AssertionError("not used by diagnose")

    def expected(self, case: Any) -> Expected:
        raise AssertionError("not used by diagnose")

    def variant(self, case: Any, seed: int) -> Any:
        raise AssertionError("not used by diagnose")

    def snippet(self, case: Any, *, source: str = "submission.py") -> str:
        raise AssertionError("not used by diagnose")

    def inputs(self, case: Any) -> dict[str, Any]:
        raise AssertionError("not used by diagnose")


def _trial(
    case: int,
    batch: int,
    reference: Mapping[str, Array],
    got: Mapping[str, Array],
    *problems: Finding,
    skip: Mapping[str, Array] | None = None,
) -> Trial:
    """A trial as run_trial builds it: the returned tensors compared with the reference."""
    expected = Expected(tensors=dict(reference), rounding={}, skip=dict(skip or {}), batch=batch)
    tensors = dict(got)
    return Trial(case, expected, tensors, problems, compare_with(expected, tensors))


def _pair(c2: float, c3: float) -> list[Trial]:
    """dW = c2·R2 at batch 2 (case 0) and c3·R3 at batch 3 (case 1)."""
    return [
        _trial(0, 2, {"dW": R2}, {"dW": c2 * R2}),
        _trial(1, 3, {"dW": R3}, {"dW": c3 * R3}),
    ]


def _mutant(label: Label, mistake: str, **tensors: Array) -> Mutant:
    return Mutant(label, mistake, tensors)


# --- Diagnosis.detail ---------------------------------------------------------------------


def test_detail_names_the_tensors_before_what_was_seen() -> None:
    assert Diagnosis(Label.SIGN_FLIP, "what", ("dW",)).detail == "dW: what"
    assert Diagnosis(Label.SIGN_FLIP, "what", ("dW", "db")).detail == "dW, db: what"


def test_detail_of_a_contract_problem_is_its_message() -> None:
    assert Diagnosis(Label.CRASH, "ValueError: boom").detail == "ValueError: boom"


def test_a_diagnosis_is_frozen_and_hashable() -> None:
    d = Diagnosis(Label.SIGN_FLIP, "what", ("dW",))
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.what = "else"  # type: ignore[misc]
    assert {d, Diagnosis(Label.SIGN_FLIP, "what", ("dW",))} == {d}


# --- factor -------------------------------------------------------------------------------


# (c, ‖r‖): small and large factors and norms, so that each term of the tolerance's scale
# max(‖g‖, |c|·‖r‖) is tested where a wrong formula would change it.
SCALES = [(0.1, 0.2), (5.0, 1e-3), (3.0, 1e3), (-1.0, 1.0), (1e-3, 1e-3), (-250.0, 4.0)]


def _with_residual(c: float, norm: float, k: float) -> tuple[Array, Array]:
    """(g, r) with ‖r‖ = norm, g = c·r + e, e ⟂ r and ‖e‖ = k·1e-6·|c|·‖r‖."""
    r = norm * U
    return c * r + k * 1e-6 * abs(c) * norm * V, r


@pytest.mark.parametrize(("c", "norm"), SCALES)
def test_a_residual_of_half_the_tolerance_keeps_the_factor(c: float, norm: float) -> None:
    got, ref = _with_residual(c, norm, 0.5)
    found = factor(got, ref)
    assert found is not None
    assert found == pytest.approx(c, rel=1e-12)


@pytest.mark.parametrize(("c", "norm"), SCALES)
def test_a_residual_of_twice_the_tolerance_is_no_factor(c: float, norm: float) -> None:
    got, ref = _with_residual(c, norm, 2.0)
    assert factor(got, ref) is None


@pytest.mark.parametrize(("c", "norm"), SCALES)
def test_an_exact_multiple_gives_its_factor(c: float, norm: float) -> None:
    ref = norm * np.array([[0.3, -1.2], [2.0, 0.7]])
    assert factor(c * ref, ref) == pytest.approx(c, rel=1e-14)


def test_factor_is_least_squares_on_the_flattened_tensors() -> None:
    ref = np.array([[1.0, 0.0], [0.0, 0.0]])  # r·r = 1
    assert factor(np.array([[2.0, 0.0], [0.0, 0.0]]), ref) == 2.0
    assert factor(np.array([[2.0, 1.0], [0.0, 0.0]]), ref) is None  # residual 1, not c·r


def test_zeros_against_a_nonzero_reference_have_factor_zero() -> None:
    # The residual is 0 and so is its allowance: 0 ≤ 0 holds.
    assert factor(np.zeros((2, 2)), R2) == 0.0


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_entry_gives_no_factor(bad: float) -> None:
    got = -R2.copy()
    got[0, 1] = bad
    assert factor(got, R2) is None


def test_a_zero_reference_gives_no_factor() -> None:
    assert factor(np.ones(3), np.zeros(3)) is None
    assert factor(np.zeros(3), np.zeros(3)) is None


# --- _near --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "target", "near"),
    [
        (1.0 + 0.5e-6, 1.0, True),
        (1.0 - 0.5e-6, 1.0, True),
        (1.0 + 2e-6, 1.0, False),
        (1.0 - 2e-6, 1.0, False),
        (-1.0 - 0.5e-6, -1.0, True),
        (-1.0 + 2e-6, -1.0, False),
        (1e6 + 1.0, 1e6, True),  # exactly on the tolerance, 1e-6·1e6 = 1
        (1e6 - 1.0, 1e6, True),
        (1e6 + 2.0, 1e6, False),
        (1000.0009, 1000.0, True),
        (1000.0011, 1000.0, False),
        (2.5e-4 * (1 + 0.5e-6), 2.5e-4, True),
        (2.5e-4 * (1 + 2e-6), 2.5e-4, False),
        (0.5, 1 / 2, True),
        (0.5, 1 / 3, False),
        (0.0, 0.0, True),
        (1e-310, 0.0, True),  # within 1e-6 of the 1e-300 floor
        (1e-300, 0.0, False),
        (0.5e-6, 0.0, False),
    ],
)
def test_near_is_a_relative_distance_of_1e_minus_6(value: float, target: float, near: bool) -> None:
    assert dg._near(value, target) is near


# --- _transposed --------------------------------------------------------------------------


def test_the_transpose_of_a_square_gradient_is_transposed() -> None:
    assert dg._transposed(R2.T, R2)
    ref = np.arange(9.0).reshape(3, 3) - 4.0
    assert dg._transposed(ref.T.copy(), ref)


def test_a_symmetric_square_reference_is_never_transposed() -> None:
    sym = np.array([[1.0, 2.0], [2.0, 5.0]])
    assert not dg._transposed(sym.T, sym)
    assert not dg._transposed(2.0 * sym, sym)
    # Symmetric to np.allclose's defaults is symmetric too.
    nearly = sym + np.array([[0.0, 1e-9], [-1e-9, 0.0]])
    assert not dg._transposed(nearly.T, nearly)


def test_what_is_not_square_or_not_a_transpose_is_not_transposed() -> None:
    wide = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert not dg._transposed(wide, wide)
    assert not dg._transposed(wide.T.copy(), wide.T.copy())  # tall
    assert not dg._transposed(np.array([2.0, 1.0]), np.array([1.0, 2.0]))
    cube = np.arange(8.0).reshape(2, 2, 2)
    assert not dg._transposed(cube.T.copy(), cube)
    assert not dg._transposed(R2, R2)
    assert not dg._transposed(-R2.T, R2)


def test_a_large_square_gradient_is_transposed_too() -> None:
    # Sides beyond 256: the sides are compared by value (CPython caches only small ints).
    ref = np.arange(300.0 * 300.0).reshape(300, 300)
    assert dg._transposed(ref.T.copy(), ref)


def test_transposed_within_a_relative_1e_minus_8() -> None:
    assert dg._transposed(R2.T * (1 + 0.5e-8), R2)
    assert not dg._transposed(R2.T * (1 + 2e-8), R2)


def test_transposed_within_1e_minus_12_of_the_largest_entry_where_the_reference_is_zero() -> None:
    ref = 1e-6 * np.array([[0.0, 1.0], [2.0, 0.0]])  # largest entry 2e-6: atol 2e-18
    near, far = ref.T.copy(), ref.T.copy()
    near[0, 0], far[0, 0] = 1e-18, 4e-18
    assert dg._transposed(near, ref)
    assert not dg._transposed(far, ref)


# --- _batch_factor ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cs", "batches", "which"),
    [
        ((2.0, 3.0), (2, 3), "B"),
        ((0.5, 1 / 3), (2, 3), "1/B"),
        ((2.0, 3.0, 4.0), (2, 3, 4), "B"),
        ((0.5, 0.5, 1 / 3), (2, 2, 3), "1/B"),
        ((2.0 * (1 + 0.5e-6), 3.0), (2, 3), "B"),
        ((2.0 * (1 + 2e-6), 3.0), (2, 3), None),
        ((0.5, (1 + 2e-6) / 3), (2, 3), None),
        ((2.0, 1 / 3), (2, 3), None),  # B on one trial, 1/B on the other
        ((2.0, 2.0), (2, 3), None),
        ((2.0, 2.0), (2, 2), None),  # one batch size: a factor 2 at B = 2 may be anything
        ((0.5, 0.5), (2, 2), None),
        ((1.0, 3.0), (1, 3), None),  # B = 1 says nothing
        ((1.0, 1 / 3), (1, 3), None),
        ((0.0, 3.0), (0, 3), None),  # nor does an empty batch
    ],
)
def test_batch_factor_needs_two_batch_sizes_above_one(
    cs: tuple[float, ...], batches: tuple[int, ...], which: str | None
) -> None:
    assert dg._batch_factor(cs, batches) == which


@pytest.mark.parametrize("cs", [(2.0,), (0.5,), (2.0, 3.0, 4.0), (0.5, 1 / 3, 0.25)])
def test_batch_factor_needs_one_factor_per_batch_size(cs: tuple[float, ...]) -> None:
    with pytest.raises(ValueError, match="zip"):
        dg._batch_factor(cs, (2, 3))


# --- _scale_findings ----------------------------------------------------------------------


def _scaled(what: str) -> Diagnosis:
    return Diagnosis(Label.SCALED, what, ("dW",))


@pytest.mark.parametrize(
    ("factors", "batches", "found"),
    [
        ((-1.0, -1.0), (2, 3), [Diagnosis(Label.SIGN_FLIP, SIGN_FLIP, ("dW",))]),
        ((-1.0 - 0.5e-6, -1.0), (2, 2), [Diagnosis(Label.SIGN_FLIP, SIGN_FLIP, ("dW",))]),
        ((-1.0,), (1,), [Diagnosis(Label.SIGN_FLIP, SIGN_FLIP, ("dW",))]),
        ((-1.0, -2.0), (2, 3), []),
        ((-1.0, None), (2, 3), []),
        ((None, 2.0), (2, 3), []),
        (
            (2.0, 3.0),
            (2, 3),
            [
                Diagnosis(
                    Label.BATCH_REDUCTION,
                    "B × the gradient (batch size B): sum and mean confused",
                    ("dW",),
                ),
                _scaled("c × the gradient with c = B = 2"),
            ],
        ),
        (
            (0.25, 1 / 3),
            (4, 3),
            [
                Diagnosis(
                    Label.BATCH_REDUCTION,
                    "1/B × the gradient (batch size B): sum and mean confused",
                    ("dW",),
                ),
                _scaled("c × the gradient with c = 1/B = 0.25"),
            ],
        ),
        ((2.0, 2.0), (2, 2), [_scaled("c × the gradient with c = 2")]),
        ((2.0, 2.0), (2, 3), [_scaled("c × the gradient with c = 2")]),
        ((2.5,), (2,), [_scaled("c × the gradient with c = 2.5")]),
        ((0.1, 0.1 * (1 + 0.5e-6)), (2, 3), [_scaled("c × the gradient with c = 0.1")]),
        ((2.5, 2.6), (2, 3), []),
        ((1.0, 1.0), (2, 3), []),
        ((1 + 0.5e-6, 1 + 0.5e-6), (2, 3), []),
        ((1 + 2e-6, 1 + 2e-6), (2, 3), [_scaled("c × the gradient with c = 1")]),
        # Measured against the first factor: the name is the first trial's c, and a third c
        # that is near the second but not the first is not the same c.
        ((123456.45, 123456.56), (2, 3), [_scaled("c × the gradient with c = 123456")]),
        ((1000.0, 1000.0009, 1000.0018), (2, 3, 4), []),
        ((1000.0, 1000.0018, 1000.0009), (2, 3, 4), []),
        ((1 + 1.8e-6, 1 + 0.9e-6), (2, 3), [_scaled("c × the gradient with c = 1")]),
        ((1 + 0.9e-6, 1 + 1.8e-6), (2, 3), []),
        ((0.0, 0.0), (2, 3), [_scaled("c × the gradient with c = 0")]),
    ],
)
def test_scale_findings(
    factors: tuple[float | None, ...], batches: tuple[int, ...], found: list[Diagnosis]
) -> None:
    assert dg._scale_findings("dW", factors, batches) == found


# --- _matches and _mutant_findings --------------------------------------------------------

# The reference with one entry left out, as a missing activation derivative does.
M2 = R2 * np.array([[1.0, 0.0], [1.0, 1.0]])
M3 = R3 * np.array([[1.0, 0.0], [1.0, 1.0]])
MISSING = Label.MISSING_ACTIVATION_DERIVATIVE
WRONG = Label.WRONG_ACTIVATION_DERIVATIVE


def test_a_mutant_matches_when_got_passes_against_it_and_it_differs_from_the_reference() -> None:
    trial = _trial(0, 2, {"dW": R2}, {"dW": M2})
    assert dg._matches(trial, "dW", _mutant(MISSING, "x", dW=M2))
    assert not dg._matches(trial, "dW", _mutant(MISSING, "x", dW=2 * M2))
    assert not dg._matches(trial, "dW", _mutant(MISSING, "x", db=M2))


def test_a_mutant_equal_to_the_reference_never_matches() -> None:
    # got passes against it, but so would a correct gradient.
    trial = _trial(0, 2, {"dW": R2}, {"dW": R2})
    assert not dg._matches(trial, "dW", _mutant(MISSING, "x", dW=R2.copy()))


def test_mutant_findings_hold_on_every_trial() -> None:
    trials = [_trial(0, 2, {"dW": R2}, {"dW": M2}), _trial(1, 3, {"dW": R3}, {"dW": M3})]
    one = [
        [_mutant(WRONG, "σ′(σ(z))", dW=-R2), _mutant(MISSING, "σ′ left out", dW=M2)],
        [_mutant(WRONG, "σ′(σ(z))", dW=-R3), _mutant(MISSING, "σ′ left out", dW=M3)],
    ]
    assert dg._mutant_findings("dW", trials, one) == [
        Diagnosis(MISSING, "matches a reference with σ′ left out", ("dW",))
    ]
    # Matched on the first trial only: not a finding.
    other = [one[0], [_mutant(WRONG, "a", dW=-R3), _mutant(MISSING, "b", dW=R3 * 2)]]
    assert dg._mutant_findings("dW", trials, other) == []
    # Every mutant that matches, in the order given.
    both = [[_mutant(WRONG, "a", dW=M2), _mutant(MISSING, "b", dW=M2)]] * 2
    both[1] = [_mutant(WRONG, "a", dW=M3), _mutant(MISSING, "b", dW=M3)]
    assert dg._mutant_findings("dW", trials, both) == [
        Diagnosis(WRONG, "matches a reference with a", ("dW",)),
        Diagnosis(MISSING, "matches a reference with b", ("dW",)),
    ]


def test_a_mutant_finding_is_named_after_the_first_trials_mutant() -> None:
    trials = [_trial(0, 2, {"dW": R2}, {"dW": M2}), _trial(1, 3, {"dW": R3}, {"dW": M3})]
    mutants = [[_mutant(MISSING, "first", dW=M2)], [_mutant(WRONG, "second", dW=M3)]]
    assert dg._mutant_findings("dW", trials, mutants) == [
        Diagnosis(MISSING, "matches a reference with first", ("dW",))
    ]


def test_a_trial_without_the_tensor_confirms_no_mutant() -> None:
    trials = [_trial(0, 2, {"dW": R2}, {"dW": M2}), _trial(1, 3, {"dW": R3}, {})]
    mutants = [[_mutant(MISSING, "a", dW=M2)], [_mutant(MISSING, "a", dW=M3)]]
    assert dg._mutant_findings("dW", trials, mutants) == []


def test_mutant_lists_of_unequal_length_are_an_error() -> None:
    trials = [_trial(0, 2, {"dW": R2}, {"dW": M2}), _trial(1, 3, {"dW": R3}, {"dW": M3})]
    m2, m3 = _mutant(MISSING, "a", dW=M2), _mutant(MISSING, "a", dW=M3)
    with pytest.raises(ValueError, match="zip"):
        dg._mutant_findings("dW", trials, [[m2], [m3, m3]])
    with pytest.raises(ValueError, match="zip"):
        dg._mutant_findings("dW", trials, [[m2]])
    with pytest.raises(ValueError, match="zip"):
        dg._tensor_findings("dW", trials, [[m2]])


# --- _all_zeros and _tensor_findings ------------------------------------------------------


def test_all_zeros_means_zeros_where_the_reference_is_not_on_every_trial() -> None:
    zero = _trial(0, 2, {"dW": R2}, {"dW": np.zeros((2, 2))})
    also = _trial(1, 3, {"dW": R3}, {"dW": np.zeros((2, 2))})
    assert dg._all_zeros("dW", [zero, also])
    assert not dg._all_zeros("dW", [zero, _trial(1, 3, {"dW": R3}, {"dW": -R3})])
    nothing = _trial(2, 3, {"dW": np.zeros((2, 2))}, {"dW": np.zeros((2, 2))})
    assert not dg._all_zeros("dW", [zero, nothing])


def _findings(trials: Sequence[Trial], mutants: Sequence[Sequence[Mutant]] | None = None) -> Any:
    return dg._tensor_findings("dW", trials, mutants or [[] for _ in trials])


def test_tensor_findings_sign_flip_batch_and_scale() -> None:
    flip = Diagnosis(Label.SIGN_FLIP, SIGN_FLIP, ("dW",))
    assert _findings(_pair(-1.0, -1.0)) == [flip]
    assert [d.label for d in _findings(_pair(2.0, 3.0))] == [Label.BATCH_REDUCTION, Label.SCALED]
    assert _findings(_pair(2.0, 2.0)) == [_scaled("c × the gradient with c = 2")]
    assert _findings(_pair(2.0, -1.0)) == []


def test_tensor_findings_use_only_the_trials_where_the_tensor_is_wrong() -> None:
    # On the variant dW is right and db is wrong: it says nothing about dW.
    trials = [
        _trial(0, 2, {"dW": R2, "db": B2}, {"dW": -R2, "db": B2}),
        _trial(1, 3, {"dW": R3, "db": B3}, {"dW": R3, "db": 2 * B3}),
    ]
    assert _findings(trials) == [Diagnosis(Label.SIGN_FLIP, SIGN_FLIP, ("dW",))]
    # The same with the names the other way round (a name that sorts after the other's).
    trials = [
        _trial(0, 2, {"dW": R2, "db": B2}, {"dW": R2, "db": -B2}),
        _trial(1, 3, {"dW": R3, "db": B3}, {"dW": 2 * R3, "db": B3}),
    ]
    assert dg._tensor_findings("db", trials, [[], []]) == [
        Diagnosis(Label.SIGN_FLIP, SIGN_FLIP, ("db",))
    ]


def test_a_tensor_wholly_on_kinks_says_nothing_about_it() -> None:
    # Every entry skipped: the record is inconclusive, not failed.
    on_kinks = {"dW": np.ones((2, 2), dtype=bool)}
    trials = [
        _trial(0, 2, {"dW": R2}, {"dW": -R2}),
        _trial(1, 3, {"dW": R3}, {"dW": 5 * R3}, skip=on_kinks),
    ]
    assert trials[1].records[0].verdict == "inconclusive"
    assert _findings(trials) == [Diagnosis(Label.SIGN_FLIP, SIGN_FLIP, ("dW",))]


def test_tensor_names_are_compared_by_value() -> None:
    # Each case builds its names afresh (dW[0], dW[1], ... for a list of weights).
    trials = [
        _trial(k, batch, {f"dW[{k - k}]": ref}, {f"dW[{k - k}]": batch * ref})
        for k, (batch, ref) in enumerate([(2, R2), (3, R3)])
    ]
    name = trials[0].records[0].tensor
    assert name is not trials[1].records[0].tensor
    assert [d.label for d in dg._tensor_findings(name, trials, [[], []])] == [
        Label.BATCH_REDUCTION,
        Label.SCALED,
    ]
    assert [d.label for d in diagnose(_Mutants(), trials)] == [
        Label.BATCH_REDUCTION,
        Label.SCALED,
    ]


def test_the_transpose_is_the_whole_finding() -> None:
    trials = [_trial(0, 2, {"dW": R2}, {"dW": R2.T}), _trial(1, 3, {"dW": R3}, {"dW": R3.T})]
    mutants = [[_mutant(MISSING, "a", dW=R2.T)], [_mutant(MISSING, "a", dW=R3.T)]]
    assert _findings(trials, mutants) == [Diagnosis(Label.TRANSPOSED, TRANSPOSE, ("dW",))]


def test_a_transpose_seen_only_on_a_later_trial_is_not_found() -> None:
    trials = [_trial(0, 2, {"dW": R2}, {"dW": 2 * R2}), _trial(1, 3, {"dW": R3}, {"dW": R3.T})]
    assert _findings(trials) == []


def test_all_zeros_and_the_mutant_that_explains_them() -> None:
    zeros = np.zeros((2, 2))
    trials = [_trial(0, 2, {"dW": R2}, {"dW": zeros}), _trial(1, 3, {"dW": R3}, {"dW": zeros})]
    assert _findings(trials) == [Diagnosis(Label.ZERO_GRADIENT, ZEROS, ("dW",))]
    mutants = [[_mutant(MISSING, "relu′", dW=zeros)], [_mutant(MISSING, "relu′", dW=zeros)]]
    assert _findings(trials, mutants) == [
        Diagnosis(Label.ZERO_GRADIENT, ZEROS, ("dW",)),
        Diagnosis(MISSING, "matches a reference with relu′", ("dW",)),
    ]


def test_zeros_on_one_trial_only_are_a_factor_of_zero_there() -> None:
    trials = [
        _trial(0, 2, {"dW": R2}, {"dW": np.zeros((2, 2))}),
        _trial(1, 3, {"dW": R3}, {"dW": -R3}),
    ]
    assert _findings(trials) == []
    assert _findings(trials[:1]) == [Diagnosis(Label.ZERO_GRADIENT, ZEROS, ("dW",))]


def test_a_scale_finding_is_not_followed_by_mutants() -> None:
    trials = _pair(-1.0, -1.0)
    mutants = [[_mutant(WRONG, "a", dW=-R2)], [_mutant(WRONG, "a", dW=-R3)]]
    assert _findings(trials, mutants) == [Diagnosis(Label.SIGN_FLIP, SIGN_FLIP, ("dW",))]


def test_without_a_scale_the_mutants_speak() -> None:
    trials = [_trial(0, 2, {"dW": R2}, {"dW": M2}), _trial(1, 3, {"dW": R3}, {"dW": M3})]
    mutants = [[_mutant(MISSING, "a", dW=M2)], [_mutant(MISSING, "a", dW=M3)]]
    assert _findings(trials, mutants) == [Diagnosis(MISSING, "matches a reference with a", ("dW",))]
    assert _findings(trials) == []


# --- diagnose -----------------------------------------------------------------------------


def test_diagnose_a_sum_and_mean_confusion() -> None:
    assert diagnose(_Mutants(), _pair(0.5, 1 / 3)) == (
        Diagnosis(
            Label.BATCH_REDUCTION,
            "1/B × the gradient (batch size B): sum and mean confused",
            ("dW",),
        ),
        _scaled("c × the gradient with c = 1/B = 0.5"),
    )


def test_diagnose_one_batch_size_is_only_scaled() -> None:
    trials = [_trial(0, 2, {"dW": R2}, {"dW": 2 * R2}), _trial(1, 2, {"dW": R3}, {"dW": 2 * R3})]
    assert diagnose(_Mutants(), trials) == (_scaled("c × the gradient with c = 2"),)


def test_diagnose_contract_problems_come_first_with_their_message() -> None:
    trials = [
        _trial(0, 2, {"dW": R2, "db": B2}, {"dW": -R2}, Finding(Label.BAD_RETURN, "db missing")),
        _trial(1, 3, {"dW": R3, "db": B3}, {"dW": -R3, "db": B3}),
    ]
    found = diagnose(_Mutants(), trials)
    assert found == (
        Diagnosis(Label.BAD_RETURN, "db missing"),
        Diagnosis(Label.SIGN_FLIP, SIGN_FLIP, ("dW",)),
    )
    assert [d.detail for d in found] == ["db missing", f"dW: {SIGN_FLIP}"]


def test_diagnose_a_crash_is_its_problem_only() -> None:
    crash = Trial(0, Expected({"dW": R2}, {}, batch=2), {}, (Finding(Label.CRASH, "boom"),), ())
    assert diagnose(_Mutants(), [crash]) == (Diagnosis(Label.CRASH, "boom"),)


def test_diagnose_names_the_first_trials_problems_only() -> None:
    trials = [
        _trial(0, 2, {"dW": R2}, {"dW": -R2}, Finding(Label.NONDETERMINISTIC, "twice")),
        _trial(1, 3, {"dW": R3}, {"dW": -R3}, Finding(Label.MUTATES_INPUT, "changed X")),
    ]
    assert diagnose(_Mutants(), trials) == (
        Diagnosis(Label.NONDETERMINISTIC, "twice"),
        Diagnosis(Label.SIGN_FLIP, SIGN_FLIP, ("dW",)),
    )


def test_diagnose_keeps_the_first_trial_when_it_has_problems() -> None:
    # The first trial is always used: without it the factor 3 at B = 3 is only scaled.
    trials = [
        _trial(0, 2, {"dW": R2}, {"dW": 2 * R2}, Finding(Label.NONDETERMINISTIC, "twice")),
        _trial(1, 3, {"dW": R3}, {"dW": 3 * R3}),
    ]
    assert [d.what for d in diagnose(_Mutants(), trials)] == [
        "twice",
        "B × the gradient (batch size B): sum and mean confused",
        "c × the gradient with c = B = 2",
    ]


def test_diagnose_keeps_the_first_trial_even_when_a_variant_equals_it() -> None:
    # The same case drawn again: trials are told apart by identity, not by value.
    trials = [
        _trial(0, 2, {"dW": R2}, {"dW": -R2}, Finding(Label.NONDETERMINISTIC, "twice")),
        _trial(0, 2, {"dW": R2}, {"dW": -R2}),
    ]
    assert diagnose(_Mutants(), trials) == (
        Diagnosis(Label.NONDETERMINISTIC, "twice"),
        Diagnosis(Label.SIGN_FLIP, SIGN_FLIP, ("dW",)),
    )


def test_diagnose_leaves_out_the_other_trials_with_problems() -> None:
    trials = [
        _trial(0, 2, {"dW": R2}, {"dW": 2 * R2}),
        _trial(1, 3, {"dW": R3}, {"dW": 5 * R3}, Finding(Label.NONDETERMINISTIC, "twice")),
        _trial(2, 4, {"dW": R3}, {"dW": 4 * R3}),
    ]
    assert [d.label for d in diagnose(_Mutants(), trials)] == [
        Label.BATCH_REDUCTION,
        Label.SCALED,
    ]


def test_diagnose_with_only_problem_trials_uses_the_first() -> None:
    trials = [
        _trial(0, 2, {"dW": R2}, {"dW": 2 * R2}, Finding(Label.NONDETERMINISTIC, "twice")),
        _trial(1, 3, {"dW": R3}, {"dW": 3 * R3}, Finding(Label.NONDETERMINISTIC, "twice")),
    ]
    assert diagnose(_Mutants(), trials) == (
        Diagnosis(Label.NONDETERMINISTIC, "twice"),
        _scaled("c × the gradient with c = 2"),
    )


def test_diagnose_falls_back_to_the_first_trial_when_mutant_lists_differ() -> None:
    # The variant's check offers another set of mutants: only the first trial is used, with
    # its own mutants (a factor 2 at B = 2 is then only scaled).
    trials = [_trial(0, 2, {"dW": R2}, {"dW": M2}), _trial(1, 3, {"dW": R3}, {"dW": 3 * M3})]
    check = _Mutants(
        {
            0: [_mutant(MISSING, "first", dW=M2)],
            1: [_mutant(WRONG, "a", dW=3 * M3), _mutant(WRONG, "b", dW=3 * M3)],
        }
    )
    assert diagnose(check, trials) == (
        Diagnosis(MISSING, "matches a reference with first", ("dW",)),
    )
    scaled = [_trial(0, 2, {"dW": R2}, {"dW": 2 * R2}), _trial(1, 3, {"dW": R3}, {"dW": 3 * R3})]
    assert diagnose(_Mutants({1: check.by_case[1]}), scaled) == (
        _scaled("c × the gradient with c = 2"),
    )


def test_diagnose_with_mutant_lists_of_one_length_uses_every_trial() -> None:
    trials = [_trial(0, 2, {"dW": R2}, {"dW": M2}), _trial(1, 3, {"dW": R3}, {"dW": 2 * M3})]
    check = _Mutants({0: [_mutant(MISSING, "a", dW=M2)], 1: [_mutant(MISSING, "a", dW=M3)]})
    assert diagnose(check, trials) == ()  # the variant does not match the mutant


def test_diagnose_merges_a_finding_across_tensors_into_one_line() -> None:
    trials = [
        _trial(0, 2, {"dW": R2, "db": B2}, {"dW": -R2, "db": -B2}),
        _trial(1, 3, {"dW": R3, "db": B3}, {"dW": -R3, "db": -B3}),
    ]
    found = diagnose(_Mutants(), trials)
    assert found == (Diagnosis(Label.SIGN_FLIP, SIGN_FLIP, ("dW", "db")),)
    assert found[0].detail == f"dW, db: {SIGN_FLIP}"


def test_diagnose_merges_each_finding_and_keeps_different_ones_apart() -> None:
    trials = [
        _trial(0, 2, {"dW": R2, "db": B2, "dX": R3}, {"dW": 2 * R2, "db": 2 * B2, "dX": 5 * R3}),
        _trial(1, 3, {"dW": R3, "db": B3, "dX": R2}, {"dW": 3 * R3, "db": 3 * B3, "dX": 5 * R2}),
    ]
    found = diagnose(_Mutants(), trials)
    assert [(d.label, d.detail) for d in found] == [
        (Label.BATCH_REDUCTION, "dW, db: B × the gradient (batch size B): sum and mean confused"),
        (Label.SCALED, "dW, db: c × the gradient with c = B = 2"),
        (Label.SCALED, "dX: c × the gradient with c = 5"),
    ]


def test_diagnose_merges_mutant_findings_and_keeps_problems_apart() -> None:
    trials = [
        _trial(
            0,
            2,
            {"dW": R2, "dX": R3},
            {"dW": M2, "dX": M3},
            Finding(Label.BAD_RETURN, "one"),
            Finding(Label.BAD_RETURN, "two"),
        ),
    ]
    check = _Mutants({0: [_mutant(MISSING, "a", dW=M2, dX=M3)]})
    assert diagnose(check, trials) == (
        Diagnosis(Label.BAD_RETURN, "one"),
        Diagnosis(Label.BAD_RETURN, "two"),
        Diagnosis(MISSING, "matches a reference with a", ("dW", "dX")),
    )


# --- refutation, mutated inputs, tensors wrong only on a variant ----------------------------


def test_a_trial_where_the_tensor_is_right_refutes_a_mutant_that_is_not() -> None:
    # Matched on the shrunk input, but on the variant dW is right and the mutant is wrong.
    trials = [_trial(0, 2, {"dW": R2}, {"dW": M2}), _trial(1, 3, {"dW": R3}, {"dW": R3})]
    mutants = [[_mutant(MISSING, "a", dW=M2)], [_mutant(MISSING, "a", dW=M3)]]
    assert diagnose(_Mutants({0: mutants[0], 1: mutants[1]}), trials) == ()
    # A variant on which the mutant equals the reference says nothing against it.
    trials[1] = _trial(1, 3, {"dW": R3}, {"dW": R3})
    same = {0: mutants[0], 1: [_mutant(MISSING, "a", dW=R3.copy())]}
    assert diagnose(_Mutants(same), trials) == (
        Diagnosis(MISSING, "matches a reference with a", ("dW",)),
    )


def test_refutes_needs_the_tensor_on_both_sides() -> None:
    right = _trial(1, 3, {"dW": R3}, {"dW": R3})
    assert dg._refutes(right, "dW", _mutant(MISSING, "a", dW=M3))
    assert not dg._refutes(right, "dW", _mutant(MISSING, "a", db=M3))
    assert not dg._refutes(_trial(1, 3, {"dW": R3}, {}), "dW", _mutant(MISSING, "a", dW=M3))


def test_a_mutated_input_consults_no_mutant_but_keeps_the_measured_findings() -> None:
    changed = Finding(Label.MUTATES_INPUT, "the code changed its input X")
    zeros = np.zeros((2, 2))
    trials = [_trial(0, 2, {"dW": R2}, {"dW": zeros}, changed)]
    check = _Mutants({0: [_mutant(WRONG, "a", dW=zeros)]})
    assert diagnose(check, trials) == (
        Diagnosis(Label.MUTATES_INPUT, "the code changed its input X"),
        Diagnosis(Label.ZERO_GRADIENT, ZEROS, ("dW",)),
    )
    # The same trial without the mutation: the mutant speaks.
    plain = [_trial(0, 2, {"dW": R2}, {"dW": zeros})]
    assert Diagnosis(WRONG, "matches a reference with a", ("dW",)) in diagnose(check, plain)


def test_a_tensor_wrong_only_on_a_variant_is_diagnosed_too() -> None:
    # Two independent bugs: the shrunk input shows dW's, the variant db's as well.
    trials = [
        _trial(0, 2, {"dW": R2, "db": B2}, {"dW": -R2, "db": B2}),
        _trial(1, 3, {"dW": R3, "db": B3}, {"dW": -R3, "db": 7 * B3}),
    ]
    assert diagnose(_Mutants(), trials) == (
        Diagnosis(Label.SIGN_FLIP, SIGN_FLIP, ("dW",)),
        _scaled_db("c × the gradient with c = 7"),
    )
    assert dg.wrong_tensors(trials) == ["dW", "db"]


def _scaled_db(what: str) -> Diagnosis:
    return Diagnosis(Label.SCALED, what, ("db",))


# --- evidence -----------------------------------------------------------------------------


def test_evidence_names_the_first_differing_entry_in_c_order_not_the_worst() -> None:
    got = R2.copy()
    got[0, 1], got[1, 0] = 2.5, 30.0  # [1, 0] is worse; [0, 1] comes first
    (e,) = dg.evidence([_trial(0, 2, {"dW": R2}, {"dW": got})])
    assert (e.tensor, e.shape, e.index, e.yours, e.expected) == ("dW", (2, 2), (0, 1), 2.5, 2.0)
    assert e.factor is None and e.trial == 0
    assert e.describe() == (
        "dW (shape (2, 2), as expected): first differing entry dW[0, 1]: yours 2.5, "
        "expected 2; not a constant multiple of the expected gradient"
    )


def test_evidence_gives_the_least_squares_factor_when_it_fits() -> None:
    (e,) = dg.evidence([_trial(0, 2, {"dW": R2}, {"dW": 4 * R2})])
    assert e.factor == pytest.approx(4.0, rel=1e-14)
    assert e.index == (0, 0) and (e.yours, e.expected) == (4.0, 1.0)
    assert e.describe().endswith("yours = 4 × expected (least squares)")


def test_evidence_skips_entries_on_kinks_and_entries_within_tolerance() -> None:
    got = R2.copy()
    got[0, 0] = -7.0  # on a kink: not compared
    got[0, 1] = 2.0 * (1 + 1e-12)  # within the tolerance
    got[1, 1] = 9.0
    skip = {"dW": np.array([[True, False], [False, False]])}
    (e,) = dg.evidence([_trial(0, 2, {"dW": R2}, {"dW": got}, skip=skip)])
    assert e.index == (1, 1) and (e.yours, e.expected) == (9.0, 4.0)


def test_evidence_covers_every_wrong_tensor_once_from_the_first_trial_showing_it() -> None:
    trials = [
        _trial(0, 2, {"dW": R2, "db": B2}, {"dW": -R2, "db": B2}),
        _trial(1, 3, {"dW": R3, "db": B3}, {"dW": -R3, "db": 3 * B3}),
    ]
    dw, db = dg.evidence(trials)
    assert (dw.tensor, dw.trial, dw.factor) == ("dW", 0, -1.0)
    assert (db.tensor, db.trial, db.batch, db.index) == ("db", 1, 3, (0,))
    assert db.describe().startswith("on another input (batch 3): db (shape (2,), as expected)")
    assert dg.evidence([_trial(0, 2, {"dW": R2}, {"dW": R2})]) == ()
