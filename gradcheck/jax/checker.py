"""``check``: a JAX function's derivatives (``jax.vjp``, ``jax.jvp``) against float64
numerical derivatives, through the framework-neutral ``gradcheck.jacobian`` core.

x64. With ``jax_enable_x64`` off (JAX's default), a float64 argument is silently computed in
float32. A check is never allowed to run so: when an argument leaf is float64 and x64 is
off, the whole check (the forward, ``jax.vjp`` and ``jax.jvp``) runs inside a scoped
``jax.enable_x64(True)``, and a note on the result says so. The global setting is left as
it was. (The numerical derivatives always run in float64, whatever the setting.)

Second order (``order=2``). For one fixed exact random cotangent v (``exact_random``, seeded
by ``seed``), the map g(x) = vᵀ∂f/∂x, computed by ``jax.vjp``, is checked as a vector
function of its own: its VJP is JAX's reverse-over-reverse second derivative and its JVP
forward-over-reverse, against float64 numerical derivatives of g (g run in float64). The
one result holds both orders: the records of the second are named ``grad:`` followed by the
core's name, e.g. ``grad:∂args[0]/∂args[1]`` compares ∂(vᵀ∂out/∂args[0])/∂args[1], and its
notes start with ``order 2:``. The verdict is the worse of the two.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any, Literal

import jax
import numpy as np

from gradcheck.compare import overall_verdict
from gradcheck.errors import GradcheckError
from gradcheck.gradients import GradientCheck
from gradcheck.jacobian import check_function
from gradcheck.jacobian.check import JacobianOptions, exact_random
from gradcheck.jax.adapter import JaxFunction, wrap
from gradcheck.jax.pytrees import split_args

__all__ = ["X64_NOTE", "check"]

X64_NOTE = (
    "float64 arguments while jax_enable_x64 is off: the whole check ran inside "
    "jax.enable_x64(True), where JAX computes them in float64 (outside it, in float32)"
)
SECOND_ORDER_PREFIX = "grad:"


def check(
    f: Callable[..., Any],
    args: tuple[Any, ...] | list[Any],
    *,
    order: int = 1,
    modes: Iterable[str] = ("fwd", "rev"),
    mode: Literal["auto", "full", "probe"] = "auto",
    seed: int = 0,
    rtol: float | None = None,
    atol: float | None = None,
) -> GradientCheck:
    """Check ``f(*args)``'s derivatives with respect to every floating leaf of ``args``.

    ``modes`` holds ``"rev"`` (``jax.vjp``) and/or ``"fwd"`` (``jax.jvp``); ``order`` is 1
    or 2 (then x ↦ vᵀ∂f/∂x is checked too). ``mode``, ``seed``, ``rtol`` and ``atol`` are
    those of :class:`gradcheck.jacobian.check.JacobianOptions`: each Jacobian entry passes
    when |a − n| ≤ 4·e + rtol·|n| + atol·s (e the numerical error bar, s the scale of the
    output's Jacobian), rtol and atol defaulting to the dtype's
    (``steps.framework_tolerance``). Bad input raises a GradcheckError.
    """
    if not callable(f):
        raise GradcheckError(f"f must be callable, not {type(f).__name__}")
    if isinstance(order, bool) or not isinstance(order, int | np.integer) or order not in (1, 2):
        raise GradcheckError(f"order must be 1 or 2, not {order!r}")
    options = JacobianOptions(
        mode=mode, modes=JacobianOptions.modes_of(modes), seed=seed, rtol=rtol, atol=atol
    )
    arguments = split_args(args)
    scoped = any(b.dtype == "float64" for b in arguments.blocks) and not _x64_enabled()
    with jax.enable_x64(True) if scoped else contextlib.nullcontext():
        function = wrap(f, arguments)
        result = _checked(function, options)
        if order == 2:
            v = exact_random(np.random.default_rng([options.seed, 2]), function.n_out)
            gradient = function.gradient(v)
            result = _both(result, _second(gradient, options))
    return replace(result, notes=result.notes + ((X64_NOTE,) if scoped else ()))


def _x64_enabled() -> bool:
    return bool(jax.enable_x64.value)


def _checked(function: JaxFunction, options: JacobianOptions) -> GradientCheck:
    result = check_function(function, options)
    return replace(result, notes=function.notes + result.notes)


def _second(gradient: JaxFunction, options: JacobianOptions) -> GradientCheck:
    try:
        return _checked(gradient, options)
    except GradcheckError as error:
        raise type(error)(f"order 2 (the gradient vᵀ∂f/∂x as a function of x): {error}") from error


def _both(first: GradientCheck, second: GradientCheck) -> GradientCheck:
    """One result for both orders: the second's records and notes marked as such."""
    prefixed = tuple(replace(r, tensor=SECOND_ORDER_PREFIX + r.tensor) for r in second.records)
    where = first.localisation
    if where is None and second.localisation is not None:
        where = replace(
            second.localisation, tensor=SECOND_ORDER_PREFIX + second.localisation.tensor
        )
    return replace(
        first,
        verdict=overall_verdict([first.verdict, second.verdict]),
        records=first.records + prefixed,
        mode="full" if first.mode == second.mode == "full" else "probe",
        evaluations=first.evaluations + second.evaluations,
        probes=first.probes + second.probes,
        localisation=where,
        notes=first.notes + tuple(f"order 2: {note}" for note in second.notes),
        meta={**first.meta, "order": 2, "order2": second.meta},
    )
