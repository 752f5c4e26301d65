"""The property suite can fail: for each planted bug, Hypothesis finds a case that the same
cross-check helper rejects, and shrinks it."""

from __future__ import annotations

import pytest
from hypothesis import find, settings

from gradcheck.check import check_case
from gradcheck.strategies import cases
from gradcheck.testing.fixture import GradcheckFixture
from tests.mutants import MUTANTS, mutant

# Where each bug can show: a bias that is not summed needs batch > 1, a dropped skip gradient
# needs a residual layer, a missing f′ needs an activation whose f′ is not 1.
NEEDS = {
    "bias_not_summed": {"min_batch": 2},
    "residual_gradient_dropped": {"min_depth": 2},
    "missing_activation_derivative": {"activations": ["tanh"]},
    "derivative_at_a": {"activations": ["sigmoid"]},
}


@pytest.mark.parametrize("name", sorted(MUTANTS))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_cross_check_catches_planted_bug(
    gradcheck: GradcheckFixture, name: str, dtype: str
) -> None:
    engine = mutant(name)
    bounds = {"max_depth": 3, "max_width": 6, **NEEDS.get(name, {})}
    strategy = cases(dtypes=[dtype], **bounds)  # type: ignore[arg-type]
    minimal = find(
        strategy,
        lambda case: check_case(case, [engine, "fd"]).verdict == "fail",
        settings=settings(max_examples=300, database=None, deadline=None, derandomize=True),
    )
    with pytest.raises(AssertionError, match=r"mutant:.* vs fd: \w+\["):
        gradcheck.assert_case(minimal, [engine, "fd"])
