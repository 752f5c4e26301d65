"""``check_grads``: a drop-in for ``jax.test_util.check_grads``, judged by gradcheck.

Same signature, same contract: None when the derivatives are right, ``AssertionError``
when they are not, its message gradcheck's summary (the entry, both values, the error bar).
A check where every disagreeing entry sits on a kink proves nothing either way: it warns
(:class:`InconclusiveWarning`) instead of raising.

Differences from JAX's:

* ``eps``, JAX's finite-difference step, is accepted and ignored: gradcheck chooses its own
  float64 steps from the noise it measures and gives every numerical derivative an error
  bar, so one user-chosen step would only make that worse (JAX's tests pass it often, so
  refusing it would break the drop-in);
* ``atol`` and ``rtol`` (a number, or a dict keyed by dtype as JAX accepts) replace
  gradcheck's defaults, the dtype's rounding model, which are already far tighter than the
  tolerances JAX's float32 tests need; leave them out unless a check must be looser;
* only array leaves are checked: a Python float argument is passed through (JAX's would
  differentiate it), so ``check_grads(f, (1.0,), 1)`` is a GradcheckError asking for
  ``np.asarray``;
* ``order`` is 1 or 2 (a GradcheckError otherwise), and a ``custom_vjp`` function passes
  with ``modes=("fwd", "rev")``: forward mode is noted as not checked, not an error.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from gradcheck.jacobian.check import coarsest
from gradcheck.jax.checker import check
from gradcheck.jax.pytrees import split_args

__all__ = ["InconclusiveWarning", "check_grads"]

Tol = float | Mapping[Any, float] | None


class InconclusiveWarning(UserWarning):
    """A check that could decide nothing: every disagreeing entry sits on a kink."""


def check_grads(
    f: Callable[..., Any],
    args: tuple[Any, ...] | list[Any],
    order: int,
    modes: Sequence[str] = ("fwd", "rev"),
    atol: Tol = None,
    rtol: Tol = None,
    eps: float | None = None,
) -> None:
    """Check ``f``'s derivatives at ``args`` up to ``order`` in ``modes`` (``"fwd"``,
    ``"rev"``); raise AssertionError with the failing entries if any is wrong."""
    del eps  # gradcheck chooses its own steps (module docstring)
    dtype = coarsest([b.dtype for b in split_args(args).blocks])
    result = check(
        f,
        args,
        order=order,
        modes=modes,
        atol=_for_dtype(atol, dtype),
        rtol=_for_dtype(rtol, dtype),
    )
    if result.verdict == "fail":
        raise AssertionError(result.summary())
    if result.verdict == "inconclusive":
        warnings.warn(result.summary(), InconclusiveWarning, stacklevel=2)


def _for_dtype(tol: Tol, dtype: str) -> float | None:
    """A tolerance, or JAX's dict of them by dtype read for ``dtype`` (None if absent)."""
    if not isinstance(tol, Mapping):
        return tol
    by_name = {np.dtype(key).name: value for key, value in tol.items()}
    return by_name.get(dtype)
