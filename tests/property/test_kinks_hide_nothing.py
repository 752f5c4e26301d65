"""Kinks hide nothing that is off them: for drawn networks whose pre-activations keep clear
of every kink (``cases(kinks="avoid")``), every hidden tensor is compared on at least one
entry, and in fact on all of them, by every pair of core, fd and cs. The mirror of
``test_kinks.py``: there, entries on a kink may be left out; here, none may be."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradcheck.check import check_case
from gradcheck.nn.activations import ACTIVATIONS
from gradcheck.strategies import cases

KINKED = [name for name in sorted(ACTIVATIONS) if ACTIVATIONS.get(name).kinks]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("activation", KINKED)
@given(data=st.data())
def test_off_the_kinks_every_hidden_tensor_is_compared(
    activation: str, dtype: str, data: st.DataObject
) -> None:
    strategy = cases(
        activations=[activation],
        dtypes=[dtype],
        min_depth=2,
        max_depth=4,
        max_width=8,
        kinks="avoid",
    )
    case = data.draw(strategy)
    spec = case.spec
    hidden = {f"{kind}{layer}" for layer in range(1, spec.depth) for kind in "Wb"}
    result = check_case(case, ["core", "fd", "cs"])
    assert result.verdict == "pass" and result.ambiguous_entries == 0
    for record in result.records:
        if record.tensor in hidden:
            assert record.checked > 0, (record.pair, record.tensor, record.verdict)
        if record.tensor != "loss":
            size = case.params[record.tensor].size
            assert (record.kink_entries, record.checked) == (0, size), (record.pair, record.tensor)
