"""The JAX front end of gradcheck's Jacobian checker.

* :func:`check` (``gradcheck.jax.check(f, args, order=1, modes=("fwd", "rev"))``): the
  derivatives of ``f(*args)`` by ``jax.vjp`` and ``jax.jvp`` against float64 numerical
  derivatives, a :class:`gradcheck.gradients.GradientCheck` naming each failing entry;
* :func:`check_grads`: a drop-in for ``jax.test_util.check_grads`` that raises
  AssertionError.

``import gradcheck`` never imports this package; importing it imports jax, and raises
:class:`gradcheck.errors.EngineUnavailableError` where jax is not installed.
"""

from __future__ import annotations

from gradcheck.errors import EngineUnavailableError

try:
    import jax as _jax
except ImportError as error:
    raise EngineUnavailableError(
        "gradcheck.jax needs the jax package, which is not installed (pip install jax)"
    ) from error

from gradcheck.jax.checker import X64_NOTE, check
from gradcheck.jax.dropin import InconclusiveWarning, check_grads

del _jax

__all__ = ["X64_NOTE", "InconclusiveWarning", "check", "check_grads"]
