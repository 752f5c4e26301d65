"""A stack of perturbed networks' losses in which one entry is not finite raises
NonFiniteError naming the value, wherever that entry sits in the stack: the check in
``network._reduced_losses`` must look at every entry (not pass when some are finite) and
name the one that is not (not index past it)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from gradcheck.errors import NonFiniteError
from gradcheck.nn.network import complex_losses, stacked_output_losses
from gradcheck.nn.spec import NetworkSpec

Array = np.ndarray
SPEC = NetworkSpec((1, 1), hidden="identity", loss="mse")
STACKERS: dict[str, Callable[[NetworkSpec, Array, Array], Array]] = {
    "real": stacked_output_losses,
    "complex": lambda spec, yhat, y: complex_losses(spec, yhat.astype(np.complex128), y),
}


@pytest.mark.parametrize("stacker", sorted(STACKERS))
@pytest.mark.parametrize("position", [0, 1, 3])
@pytest.mark.parametrize(("bad", "named"), [(np.inf, "inf"), (-np.inf, "inf"), (np.nan, "nan")])
def test_one_non_finite_entry_in_a_stack_raises_naming_it(
    stacker: str, position: int, bad: float, named: str
) -> None:
    yhat = np.array([1.0, 2.0, 0.5, -1.0]).reshape(4, 1, 1)  # S = 4 networks, B = K = 1
    yhat[position] = bad
    # NumPy's complex square of inf + 0j is nan + nan·j, so the complex path may name nan.
    named = named if stacker == "real" else "(inf|nan)"
    with pytest.raises(NonFiniteError, match=rf"loss mse is {named} for network"):
        STACKERS[stacker](SPEC, yhat, np.zeros((1, 1)))


@pytest.mark.parametrize("stacker", sorted(STACKERS))
def test_an_overflow_in_one_entry_of_a_stack_raises(stacker: str) -> None:
    yhat = np.array([1.0, 1e200, 3.0]).reshape(3, 1, 1)  # ½(1e200)² overflows to inf
    named = "inf" if stacker == "real" else "(inf|nan)"
    with np.errstate(over="ignore"), pytest.raises(NonFiniteError, match=f"loss mse is {named}"):
        STACKERS[stacker](SPEC, yhat, np.zeros((1, 1)))


@pytest.mark.parametrize("stacker", sorted(STACKERS))
def test_a_finite_stack_is_returned_entry_by_entry(stacker: str) -> None:
    yhat = np.array([1.0, 2.0, 0.5]).reshape(3, 1, 1)
    losses = STACKERS[stacker](SPEC, yhat, np.zeros((1, 1)))
    assert np.real(losses).tolist() == [0.5, 2.0, 0.125]
