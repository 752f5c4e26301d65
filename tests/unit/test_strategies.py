"""The public Hypothesis strategies: bounds are validated, draws respect them and the domains."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from gradcheck.case import Case
from gradcheck.errors import UnknownNameError
from gradcheck.nn.activations import ACTIVATIONS
from gradcheck.nn.losses import LOSSES
from gradcheck.nn.network import forward
from gradcheck.nn.spec import NetworkSpec
from gradcheck.strategies import KINK_MARGIN, batches, cases, network_specs, parameters


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_depth": 0},
        {"min_depth": 3, "max_depth": 2},
        {"min_width": 0},
        {"max_width": 1, "losses": ["softmax_ce"]},
        {"reductions": ["median"]},
        {"dtypes": ["float16"]},
        {"activations": []},
    ],
)
def test_bad_bounds_are_rejected_up_front(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidArgument):
        network_specs(**kwargs)  # type: ignore[arg-type]


def test_unknown_names_are_rejected_up_front() -> None:
    with pytest.raises(UnknownNameError, match="tanhh"):
        network_specs(activations=["tanhh"])


def test_other_strategies_validate_their_arguments() -> None:
    spec = NetworkSpec((2, 2))
    with pytest.raises(InvalidArgument):
        parameters(spec, weight_bound=0)
    with pytest.raises(InvalidArgument):
        batches(spec, 0)
    with pytest.raises(InvalidArgument):
        cases(min_batch=3, max_batch=2)


@settings(max_examples=50)
@given(network_specs(min_depth=2, max_depth=4, max_width=6, dtypes=["float32", "float64"]))
def test_specs_respect_their_bounds(spec: NetworkSpec) -> None:
    assert 2 <= spec.depth <= 4
    assert all(1 <= w <= 6 for w in spec.widths)
    for layer in spec.residual:
        assert spec.widths[layer - 1] == spec.widths[layer]


@settings(max_examples=60)
@given(cases(max_depth=3, max_width=5, dtypes=["float32", "float64"]))
def test_cases_lie_inside_the_loss_domain(case: Case) -> None:
    spec = case.spec
    assert case.X.dtype == spec.np_dtype
    assert all(p.dtype == spec.np_dtype for p in case.params.values())
    target = LOSSES.get(spec.loss).target
    if target == "probability":
        assert np.all((case.y >= 0) & (case.y <= 1))
    if target == "labels" and case.y.ndim == 1:
        assert case.y.min() >= 0 and case.y.max() < spec.widths[-1]
    if target == "labels" and case.y.ndim == 2:
        np.testing.assert_allclose(case.y.sum(axis=1), 1)


KINKED = [name for name in ACTIVATIONS if ACTIVATIONS.get(name).kinks]


def _pre_activations(case: Case) -> list[np.ndarray]:
    return list(forward(case.spec, case.params, case.X).zs)


def test_every_registered_kink_is_exercised() -> None:
    assert {"relu", "leaky_relu", "elu"} <= set(KINKED)


@pytest.mark.parametrize("activation", KINKED)
@settings(max_examples=40)
@given(data=st.data())
def test_by_default_pre_activations_keep_clear_of_kinks(
    activation: str, data: st.DataObject
) -> None:
    case = data.draw(cases(activations=[activation], max_depth=4, max_width=8))
    for layer, z in enumerate(_pre_activations(case), start=1):
        for kink in case.spec.activation(layer).kinks:
            assert np.all(np.abs(z.astype(np.float64) - kink) >= KINK_MARGIN * max(1, abs(kink)))


@pytest.mark.parametrize("activation", KINKED)
@settings(max_examples=20)
@given(data=st.data())
def test_aiming_at_kinks_puts_pre_activations_exactly_on_them(
    activation: str, data: st.DataObject
) -> None:
    case = data.draw(cases(activations=[activation], kinks="aim", max_depth=4))
    for layer, z in enumerate(_pre_activations(case), start=1):
        for kink in case.spec.activation(layer).kinks:
            assert np.any(z == kink), (layer, z)


def test_an_unknown_kink_policy_is_rejected() -> None:
    with pytest.raises(InvalidArgument, match="kinks"):
        cases(kinks="dodge")  # type: ignore[arg-type]
