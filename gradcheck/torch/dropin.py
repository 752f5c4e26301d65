"""``gradcheck`` and ``gradgradcheck`` with the signatures of ``torch.autograd``'s, so that
switching is one import line:

    from gradcheck.torch import gradcheck, gradgradcheck

How torch's options are honoured:

* ``eps``: accepted and not used. gradcheck chooses each entry's steps from its error model
  (Richardson central differences in float64, with error bars); a fixed step is what makes
  torch's check false-fail float32 code.
* ``atol``, ``rtol``: at torch's defaults (1e-5, 1e-3), gradcheck's dtype model decides;
  other values replace its ``atol`` (a fraction of the tensor's scale) and ``rtol``.
* ``raise_exception``: honoured; the exception (:class:`GradcheckFailure`, a RuntimeError
  as torch's is) names the failing Jacobian entry, both values and the error bar.
* ``nondet_tol``: honoured (two runs of the backward on one cotangent).
* ``check_undefined_grad``: honoured for functions with several outputs (the backward must
  accept a cotangent for one output alone).
* ``check_forward_ad``, ``check_backward_ad``: choose the modes checked.
* ``check_grad_dtypes``: accepted, and the dtype of every gradient autograd hands back is
  checked whatever its value (one of another dtype is an error). Note that autograd itself
  casts a custom backward's gradient to its input's dtype before any checker sees it, so a
  ``Function`` whose backward returns float32 for a float64 input passes both tools.
* ``fast_mode``: probe mode (random projections, then bisection to the entry).
* ``gradgradcheck``'s ``grad_outputs`` and ``check_rev_over_rev``: honoured.
* ``check_batched_grad``, ``check_batched_forward_grad``, ``check_fwd_over_rev``,
  ``gen_non_contig_grad_outputs`` and ``masked`` test vmap, layouts and masked tensors, which
  gradcheck does not: set to True they raise a GradcheckError naming the option.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import torch

from gradcheck.errors import GradcheckError
from gradcheck.gradients import GradientCheck
from gradcheck.torch.adapter import floating_outputs
from gradcheck.torch.checker import check

__all__ = ["GradcheckFailure", "gradcheck", "gradgradcheck"]

TORCH_ATOL, TORCH_RTOL = 1e-5, 1e-3


class GradcheckFailure(RuntimeError):
    """A failed check: the message is the check's summary. ``result`` holds the whole
    GradientCheck."""

    def __init__(self, result: GradientCheck) -> None:
        super().__init__(result.summary())
        self.result = result


def _refuse(**options: object) -> None:
    for name, value in options.items():
        if value:
            raise GradcheckError(
                f"gradcheck.torch cannot honour {name}={value!r}: it checks values, not "
                "vmap, memory layouts or masked tensors; use torch.autograd's check for that"
            )


def _tolerances(atol: float, rtol: float) -> tuple[float | None, float | None]:
    """gradcheck's (atol, rtol): None (the dtype's model) where torch's default is given."""
    return (None if atol == TORCH_ATOL else atol), (None if rtol == TORCH_RTOL else rtol)


def _verdict(result: GradientCheck, raise_exception: bool) -> bool:
    if result.verdict == "fail":
        if raise_exception:
            raise GradcheckFailure(result)
        return False
    if result.verdict == "inconclusive":
        warnings.warn(f"gradcheck inconclusive: {result.summary()}", stacklevel=3)
    return True


def gradcheck(
    func: Callable[..., Any],
    inputs: Any,
    *,
    eps: float = 1e-6,
    atol: float = TORCH_ATOL,
    rtol: float = TORCH_RTOL,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    check_batched_forward_grad: bool = False,
    check_forward_ad: bool = False,
    check_backward_ad: bool = True,
    fast_mode: bool = False,
    masked: bool | None = None,
) -> bool:
    """``torch.autograd.gradcheck``'s contract with gradcheck's verdicts (module docstring)."""

    del eps, check_grad_dtypes  # see the module docstring
    _refuse(
        check_batched_grad=check_batched_grad,
        check_batched_forward_grad=check_batched_forward_grad,
        masked=masked,
    )
    modes = tuple(m for m, on in (("rev", check_backward_ad), ("fwd", check_forward_ad)) if on)
    if not modes:
        raise GradcheckError("check_backward_ad and check_forward_ad are both False")
    if check_undefined_grad:
        _undefined_grad(func, inputs)
    result = check(
        func,
        inputs,
        mode="probe" if fast_mode else "auto",
        modes=modes,
        nondet_tol=nondet_tol,
        atol=_tolerances(atol, rtol)[0],
        rtol=_tolerances(atol, rtol)[1],
    )
    return _verdict(result, raise_exception)


def gradgradcheck(
    func: Callable[..., Any],
    inputs: Any,
    grad_outputs: Any = None,
    *,
    eps: float = 1e-6,
    atol: float = TORCH_ATOL,
    rtol: float = TORCH_RTOL,
    gen_non_contig_grad_outputs: bool = False,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    check_fwd_over_rev: bool = False,
    check_rev_over_rev: bool = True,
    fast_mode: bool = False,
    masked: bool = False,
) -> bool:
    """``torch.autograd.gradgradcheck``'s contract: the first and second derivatives."""

    del eps, check_grad_dtypes, check_undefined_grad
    _refuse(
        gen_non_contig_grad_outputs=gen_non_contig_grad_outputs,
        check_batched_grad=check_batched_grad,
        check_fwd_over_rev=check_fwd_over_rev,
        masked=masked,
    )
    if not check_rev_over_rev:
        raise GradcheckError("check_rev_over_rev=False leaves nothing to check")
    if isinstance(grad_outputs, torch.Tensor):
        grad_outputs = (grad_outputs,)
    result = check(
        func,
        inputs,
        mode="probe" if fast_mode else "auto",
        order=2,
        modes=("rev",),
        nondet_tol=nondet_tol,
        grad_outputs=grad_outputs,
        atol=_tolerances(atol, rtol)[0],
        rtol=_tolerances(atol, rtol)[1],
    )
    if not result.meta.get("orders") == (1, 2):
        raise GradcheckError(next((n for n in result.notes if "second order" in n), "no order 2"))
    return _verdict(result, raise_exception)


def _undefined_grad(func: Callable[..., Any], inputs: Any) -> None:
    """With several outputs, the backward must work when only one of them has a cotangent
    (autograd passes None for the others)."""

    args = [
        a.detach().clone().requires_grad_(a.requires_grad) if isinstance(a, torch.Tensor) else a
        for a in (inputs if isinstance(inputs, list | tuple) else (inputs,))
    ]
    leaves = [a for a in args if isinstance(a, torch.Tensor) and a.requires_grad]
    try:
        outs = [o for _, o in floating_outputs(func(*args)) if o.requires_grad]
    except Exception:
        return  # the check proper reports a function that raises
    if len(outs) < 2 or not leaves:
        return
    for k, out in enumerate(outs):
        try:
            torch.autograd.grad(
                out, leaves, torch.ones_like(out), retain_graph=True, allow_unused=True
            )
        except Exception as error:
            raise GradcheckError(
                f"the backward fails when only output {k} has a gradient (the others are "
                f"undefined): {type(error).__name__}: {error}"
            ) from error
