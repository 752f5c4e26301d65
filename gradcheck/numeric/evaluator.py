"""Calling a user's loss function safely and counting what it costs.

A black-box ``loss_fn(params) -> float`` is called with a fresh dict of fresh arrays every
time, so a function that writes into its arguments cannot corrupt the point being checked,
and every call is counted: the evaluation count is part of a check's result.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping

import numpy as np

from gradcheck.errors import GradcheckError, NonFiniteError

__all__ = ["Evaluator", "LossFunctionError"]

Array = np.ndarray
LossFn = Callable[[dict[str, Array]], object]


class LossFunctionError(GradcheckError):
    """The loss function raised, or returned something that is not a real scalar."""


class Evaluator:
    """``loss_fn`` made safe to call many times; ``evaluations`` counts the calls."""

    def __init__(self, loss_fn: LossFn) -> None:
        self.loss_fn = loss_fn
        self.evaluations = 0

    def raw(self, params: Mapping[str, Array]) -> object:
        """The function's own return value, on copies of ``params``; exceptions propagate."""
        self.evaluations += 1
        return self.loss_fn({name: np.array(value, copy=True) for name, value in params.items()})

    def __call__(self, params: Mapping[str, Array]) -> float:
        """L(params) as a finite float; anything else is a LossFunctionError naming it."""
        try:
            value = self.raw(params)
        except GradcheckError:
            raise
        except Exception as error:
            raise LossFunctionError(f"loss_fn raised {type(error).__name__}: {error}") from error
        number = _scalar(value)
        if isinstance(number, complex):
            raise LossFunctionError(f"loss_fn returned a complex number {number} for real input")
        if not np.isfinite(number):
            raise NonFiniteError(f"loss_fn returned {number}")
        return number


def _scalar(value: object) -> float | complex:
    array = np.asarray(value)
    if array.size != 1 or not (
        np.issubdtype(array.dtype, np.number) or isinstance(value, numbers.Number)
    ):
        raise LossFunctionError(
            f"loss_fn must return a scalar, got {type(value).__name__}"
            + (f" of shape {array.shape}" if array.ndim else "")
        )
    item = array.reshape(()).item()
    if isinstance(item, complex) and item.imag != 0:
        return item
    return float(item.real if isinstance(item, complex) else item)
