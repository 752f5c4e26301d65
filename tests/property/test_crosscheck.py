"""The core against finite differences, torch and JAX: every hidden activation × every loss ×
float64/float32, with depths 1–6, widths 1–16, residual layers and batch sizes drawn by
Hypothesis. Registering an activation or a loss adds its cells here."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradcheck.nn.activations import ACTIVATIONS
from gradcheck.nn.losses import LOSSES
from gradcheck.strategies import cases
from gradcheck.testing.fixture import GradcheckFixture
from tests.helpers import available_engines

CELLS = [(activation, loss) for activation in ACTIVATIONS for loss in LOSSES]
ENGINES = available_engines()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("activation", "loss"), CELLS, ids=[f"{a}-{b}" for a, b in CELLS])
@given(data=st.data())
def test_engines_agree(
    gradcheck: GradcheckFixture, activation: str, loss: str, dtype: str, data: st.DataObject
) -> None:
    case = data.draw(cases(activations=[activation], losses=[loss], dtypes=[dtype], max_depth=6))
    gradcheck.assert_case(case, ENGINES)
