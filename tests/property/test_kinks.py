"""Kinks never fail a correct implementation: with pre-activations placed exactly on relu-like
kinks (``cases(kinks="aim")``), every engine may pick its own valid subgradient there, and
the cross-check still passes. Registering an activation with a kink adds its cells here."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradcheck.nn.activations import ACTIVATIONS
from gradcheck.strategies import cases
from gradcheck.testing.fixture import GradcheckFixture
from tests.helpers import available_engines

KINKED = [name for name in ACTIVATIONS if ACTIVATIONS.get(name).kinks]
ENGINES = available_engines()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("activation", KINKED)
@given(data=st.data())
def test_any_valid_subgradient_passes_on_a_kink(
    gradcheck: GradcheckFixture, activation: str, dtype: str, data: st.DataObject
) -> None:
    strategy = cases(activations=[activation], dtypes=[dtype], max_depth=4, kinks="aim")
    gradcheck.assert_case(data.draw(strategy), ENGINES)
