"""Checking the derivatives of a vector function y = f(x), whatever computes them.

A framework adapter (``gradcheck.torch``, ``gradcheck.jax``) wraps the user's function as a
:class:`VectorFunction`: its inputs and outputs flattened into float64 vectors, a float64
forward for numerical derivatives, and the analytic vector-Jacobian product (reverse mode)
and Jacobian-vector product (forward mode) computed in the inputs' own dtypes.
:func:`check_function` then judges them against float64 numerical derivatives of the
forward with the dtype's rounding model (``numeric.steps.framework_tolerance``):

* full mode compares every Jacobian entry (``full``);
* probe mode compares random projections and bisects a failure to the input entry and the
  output entry at fault (``probe``).
"""

from __future__ import annotations

from gradcheck.jacobian.check import check_function
from gradcheck.jacobian.function import Block, Unsupported, VectorFunction

__all__ = ["Block", "Unsupported", "VectorFunction", "check_function"]
