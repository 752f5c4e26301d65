"""``gradcheck.torch.check``: a torch function's VJP and JVP, entry by entry, against
float64 numerical derivatives of its forward (``gradcheck.jacobian``), to second order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Literal

import numpy as np
import torch

from gradcheck.compare import overall_verdict
from gradcheck.errors import GradcheckError
from gradcheck.gradients import GradientCheck
from gradcheck.jacobian.check import JacobianOptions, check_function, exact_random
from gradcheck.jacobian.function import Unsupported
from gradcheck.numeric.probes import ProbeSettings
from gradcheck.torch.adapter import FunctionError, TorchFunction, floating_outputs

__all__ = ["check"]

Mode = Literal["auto", "full", "probe"]


def check(
    fn: Callable[..., Any],
    inputs: object,
    *,
    mode: Mode = "auto",
    order: int = 1,
    modes: Sequence[str] = ("rev", "fwd"),
    seed: int = 0,
    method: str = "auto",
    rtol: float | None = None,
    atol: float | None = None,
    nondet_tol: float = 0.0,
    probes: ProbeSettings | None = None,
    grad_outputs: Sequence[torch.Tensor] | None = None,
) -> GradientCheck:
    """Check ``fn(*inputs)``'s derivatives; the result is ``check_gradients``' type.

    ``inputs`` is a tensor or a sequence of positional arguments; the floating-point tensors
    that require grad are checked, everything else is passed through. ``modes`` chooses
    reverse (``"rev"``, the VJP) and forward (``"fwd"``, the JVP); a function without forward
    AD gets the note "forward mode not checked: unsupported". ``order=2`` also checks the
    derivatives of vᵀ∂fn/∂x for a random cotangent v (or ``grad_outputs``). ``rtol`` and
    ``atol`` replace the dtype's defaults; ``nondet_tol`` is how far two runs of the backward
    may differ (absolute, per entry). ``method`` is ``"auto"`` or ``"central"``: Richardson
    central differences in float64.
    """
    if not callable(fn):
        raise GradcheckError(f"fn must be callable, not {type(fn).__name__}")
    args = _as_inputs(inputs)
    if method not in ("auto", "central"):
        raise GradcheckError(
            f"method must be 'auto' or 'central' for torch functions, not {method!r}"
        )
    if order not in (1, 2):
        raise GradcheckError(f"order must be 1 or 2, not {order!r}")
    options = JacobianOptions(
        mode=mode,
        modes=JacobianOptions.modes_of(modes),
        seed=seed,
        rtol=rtol,
        atol=atol,
        nondet_tol=nondet_tol,
        probes=probes,
    )
    first = TorchFunction(fn, args, label=_label(fn))
    result = _checked(first, options)
    if order == 1:
        return result
    second = _second_order(fn, args, first, options, grad_outputs)
    return _combined(result, second)


def _as_inputs(inputs: object) -> list[object]:
    if isinstance(inputs, torch.Tensor):
        return [inputs]
    if isinstance(inputs, list | tuple):
        return list(inputs)
    raise GradcheckError(
        f"inputs must be a tensor or a tuple of fn's arguments, not {type(inputs).__name__}"
    )


def _label(fn: Callable[..., Any]) -> str:
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, type):  # MyFunction.apply: a classmethod, qualname Function.apply
        return f"{owner.__qualname__}.{fn.__name__}"
    return str(getattr(fn, "__qualname__", None) or type(fn).__name__)


def _checked(fn: TorchFunction, options: JacobianOptions) -> GradientCheck:
    result = check_function(fn, options)
    notes = list(result.notes) + fn.notes
    for name in sorted(fn.none_gradients):
        failing = [r for r in result.records if r.verdict == "fail" and r.tensor.endswith(name)]
        if failing:
            notes.append(f"the backward returned None for {name}, which requires grad")
    tf32 = fn.device.type == "cuda" and (
        torch.backends.cuda.matmul.allow_tf32 or torch.backends.cudnn.allow_tf32
    )
    meta = {**result.meta, "device": str(fn.device), "tf32": bool(tf32)}
    if tf32 and any(b.dtype == "float32" for b in fn.inputs):
        notes.append(
            "TF32 is on (torch.backends.cuda.matmul.allow_tf32 or cudnn.allow_tf32): float32 "
            "matmuls and convolutions keep 10 bits, the likely cause of a float32 discrepancy"
        )
    return replace(result, notes=tuple(dict.fromkeys(notes)), meta=meta)


def _second_order(
    fn: Callable[..., Any],
    args: list[object],
    first: TorchFunction,
    options: JacobianOptions,
    grad_outputs: Sequence[torch.Tensor] | None,
) -> GradientCheck | str:
    """The check of x ↦ vᵀ∂fn/∂x, or why it could not be made."""
    if grad_outputs is None:
        rng = np.random.default_rng(options.seed + 1)
        cotangents = [
            torch.from_numpy(exact_random(rng, b.size).reshape(b.shape)) for b in first.outputs
        ]
    else:
        cotangents = [torch.as_tensor(g).detach() for g in grad_outputs]
        if len(cotangents) != len(first.outputs):
            raise GradcheckError(
                f"grad_outputs has {len(cotangents)} tensors, fn has {len(first.outputs)} "
                "floating-point outputs"
            )
    checked = first.checked

    def gradient(*xs: object) -> tuple[torch.Tensor, ...]:
        tensors = [xs[k] for k in checked]
        leaves = [
            t if t.requires_grad else t.detach().requires_grad_()
            for t in tensors
            if isinstance(t, torch.Tensor)
        ]
        call = list(xs)
        for k, leaf in zip(checked, leaves, strict=True):
            call[k] = leaf
        with torch.enable_grad():
            outs = [o for _, o in floating_outputs(fn(*call))]
            # A cotangent that requires grad (as gradgradcheck's grad_outputs do): only then
            # does a once_differentiable backward mark its result, so that differentiating
            # it raises instead of returning a silent zero.
            pairs = [
                (o, c.to(o.device, o.dtype).detach().requires_grad_())
                for o, c in zip(outs, cotangents, strict=True)
                if o.requires_grad
            ]
            grads = torch.autograd.grad(
                [o for o, _ in pairs],
                leaves,
                [c for _, c in pairs],
                create_graph=True,
                allow_unused=True,
            )
        if _once_differentiable(grads):
            raise Unsupported("the backward is once_differentiable")
        return tuple(
            torch.zeros_like(x) if g is None else g for x, g in zip(leaves, grads, strict=True)
        )

    gradient.__qualname__ = f"grad of {first.label}"
    try:
        second = TorchFunction(gradient, args, label=f"the backward of {first.label}")
        # Reverse over reverse, as gradgradcheck: forward AD through a backward is rare.
        return _checked(second, replace(options, modes=("rev",)))
    except Unsupported as reason:
        return f"second order not checked: {reason}"
    except FunctionError as error:
        if "once_differentiable" in str(error) or "differentiate twice" in str(error):
            return "second order not checked: the backward is once_differentiable"
        raise


def _once_differentiable(grads: Sequence[torch.Tensor | None]) -> bool:
    """Whether the graph behind ``grads`` holds the node a once_differentiable backward
    leaves: autograd.grad with respect to the inputs skips it (it hangs off a detached
    leaf) and would return None, a silent zero, instead of raising."""
    stack: list[Any] = [g.grad_fn for g in grads if g is not None]
    seen: set[Any] = set()
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        if node.name() == "torch::autograd::Error":
            return True
        stack.extend(child for child, _ in node.next_functions)
    return False


def _combined(first: GradientCheck, second: GradientCheck | str) -> GradientCheck:
    if isinstance(second, str):
        return replace(first, notes=(*first.notes, second), meta={**first.meta, "orders": (1,)})
    records = (*first.records, *(replace(r, tensor=f"grad: {r.tensor}") for r in second.records))
    return replace(
        first,
        verdict=overall_verdict([first.verdict, second.verdict]),
        records=records,
        evaluations=first.evaluations + second.evaluations,
        notes=(*first.notes, *(f"second order: {n}" for n in second.notes)),
        meta={**first.meta, "orders": (1, 2), "second_order": second.meta},
    )
