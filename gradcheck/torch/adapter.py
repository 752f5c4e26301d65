"""A torch function as a :class:`gradcheck.jacobian.VectorFunction`.

The checked inputs are the floating-point tensors that require grad; every other argument
is passed through as given. The caller's tensors are never modified: each call gets fresh
clones, and a function that writes into them is reported (their version counters move).

* ``evaluate`` runs the forward with the checked inputs cast to float64 on their device (or
  in their own dtype, with that dtype's precision, where the function refuses float64);
* ``vjp`` is ``torch.autograd.grad`` at the point, in the inputs' own dtypes;
* ``jvp`` uses forward-mode AD (``torch.autograd.forward_ad``); a function without it (a
  custom Function with no ``jvp``) raises :class:`Unsupported`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.autograd.forward_ad as fwAD

from gradcheck.errors import DTypeError, GradcheckError, NonFiniteError, ShapeError
from gradcheck.jacobian.function import Block, Unsupported, VectorFunction, offsets
from gradcheck.numeric.steps import FRAMEWORK_DTYPES

__all__ = ["FunctionError", "TorchFunction", "floating_outputs"]

Array = np.ndarray
_DTYPES = {
    torch.float64: "float64",
    torch.float32: "float32",
    torch.float16: "float16",
    torch.bfloat16: "bfloat16",
}


class FunctionError(GradcheckError):
    """The user's function (or its backward) raised, or broke the contract of a check."""


def dtype_name(dtype: torch.dtype) -> str:
    if dtype not in _DTYPES:
        raise DTypeError(f"unsupported dtype {dtype} (supported: {', '.join(FRAMEWORK_DTYPES)})")
    return _DTYPES[dtype]


def floating_outputs(out: object, where: str = "output") -> list[tuple[str, torch.Tensor]]:
    """The floating-point tensors of ``fn``'s return value, named as records name them:
    ``output``, ``output[1]``, ``output['loss']``; other values are ignored."""
    if isinstance(out, torch.Tensor):
        return [(where, out)] if out.is_floating_point() else []
    if isinstance(out, Mapping):
        return [
            item
            for key, value in out.items()
            for item in floating_outputs(value, f"{where}[{key!r}]")
        ]
    if isinstance(out, list | tuple):
        return [
            item for k, value in enumerate(out) for item in floating_outputs(value, f"{where}[{k}]")
        ]
    return []


class TorchFunction(VectorFunction):
    """``fn(*inputs)`` with the floating inputs that require grad as the checked ones."""

    def __init__(self, fn: Callable[..., Any], inputs: Sequence[object], *, label: str = "fn"):
        self.fn, self.label = fn, label
        self.args: list[Any] = [
            a.detach().clone() if isinstance(a, torch.Tensor) else a for a in inputs
        ]
        self.checked = [
            k
            for k, a in enumerate(inputs)
            if isinstance(a, torch.Tensor) and a.is_floating_point() and a.requires_grad
        ]
        for k, a in enumerate(inputs):
            if isinstance(a, torch.Tensor) and a.is_complex() and a.requires_grad:
                dtype = str(a.dtype).removeprefix("torch.")
                raise GradcheckError(
                    f"inputs[{k}] is complex ({dtype}): gradcheck.torch checks real "
                    "floating-point inputs only"
                )
        if not self.checked:
            raise GradcheckError(
                "no input is a floating-point tensor that requires grad: nothing to check "
                "(create the inputs with requires_grad=True)"
            )
        tensors = [self.args[k] for k in self.checked]
        devices = {t.device for t in tensors}
        if len(devices) > 1:
            raise GradcheckError(
                "the checked inputs are on different devices: "
                + ", ".join(f"inputs[{k}] on {self.args[k].device}" for k in self.checked)
            )
        self.device = devices.pop()
        self.inputs = tuple(
            Block(f"inputs[{k}]", tuple(self.args[k].shape), dtype_name(self.args[k].dtype))
            for k in self.checked
        )
        self.point = np.concatenate(
            [t.detach().to("cpu", torch.float64).numpy().ravel() for t in tensors]
        )
        outs = self._call(self._native(requires_grad=False), grad=False)
        if not outs:
            raise GradcheckError(f"{label} returned no floating-point tensor: nothing to check")
        self.outputs = tuple(Block(n, tuple(o.shape), dtype_name(o.dtype)) for n, o in outs)
        for name, o in outs:
            _finite(o, name, "")
        self.notes: list[str] = []
        widths = {FRAMEWORK_DTYPES[b.dtype][0] for b in self.inputs}
        mixed = [b for b in self.outputs if FRAMEWORK_DTYPES[b.dtype][0] not in widths]
        if mixed:
            self.notes.append(
                f"{mixed[0].name} is {mixed[0].dtype} while the inputs are "
                f"{', '.join(sorted({b.dtype for b in self.inputs}))}: its precision decides"
            )
        self.forward_dtype: torch.dtype = torch.float64
        self.none_gradients: set[str] = set()

    # -- calling the user's function ---------------------------------------------------------

    def _native(self, *, requires_grad: bool) -> list[torch.Tensor]:
        return [self.args[k].detach().clone().requires_grad_(requires_grad) for k in self.checked]

    def _with(self, checked: Sequence[torch.Tensor]) -> list[object]:
        args = [a.clone() if isinstance(a, torch.Tensor) else a for a in self.args]
        for k, t in zip(self.checked, checked, strict=True):
            args[k] = t
        return args

    def _call(
        self, checked: Sequence[torch.Tensor], *, grad: bool
    ) -> list[tuple[str, torch.Tensor]]:
        args = self._with(checked)
        versions = [a._version if isinstance(a, torch.Tensor) else 0 for a in args]
        try:
            with torch.set_grad_enabled(grad):
                out = self.fn(*args)
        except GradcheckError:
            raise
        except Exception as error:
            raise FunctionError(f"{self.label} raised {type(error).__name__}: {error}") from error
        for k, (a, before) in enumerate(zip(args, versions, strict=True)):
            if isinstance(a, torch.Tensor) and a._version != before:
                raise FunctionError(
                    f"{self.label} modified inputs[{k}] in place: a check needs a function "
                    "that leaves its inputs as they are (clone before writing)"
                )
        return floating_outputs(out)

    def _outputs(self, checked: Sequence[torch.Tensor], *, grad: bool) -> list[torch.Tensor]:
        outs = self._call(checked, grad=grad)
        shapes = [(n, tuple(o.shape)) for n, o in outs]
        expected = [(b.name, b.shape) for b in self.outputs]
        if shapes != expected:
            raise ShapeError(
                f"{self.label}'s outputs changed between calls: {shapes} != {expected}"
            )
        return [o for _, o in outs]

    # -- VectorFunction ---------------------------------------------------------------------

    def evaluate(self, x: Array) -> Array:
        blocks = offsets(self.inputs)
        if self.forward_dtype == torch.float64:
            try:
                return self._evaluate(x, torch.float64, blocks)
            except FunctionError as error:
                self.forward_dtype = self.args[self.checked[0]].dtype
                self.output_eps = FRAMEWORK_DTYPES[dtype_name(self.forward_dtype)][0]
                self.notes.append(
                    f"numerical derivatives in {dtype_name(self.forward_dtype)}: the forward "
                    f"refused float64 ({error})"
                )
        return self._evaluate(x, self.forward_dtype, blocks)

    def _evaluate(self, x: Array, dtype: torch.dtype, blocks: list[tuple[Block, slice]]) -> Array:
        checked = [
            torch.from_numpy(np.array(x[s]).reshape(b.shape)).to(self.device, dtype)
            for b, s in blocks
        ]
        outs = self._outputs(checked, grad=False)
        eps = max(FRAMEWORK_DTYPES[dtype_name(o.dtype)][0] for o in outs)
        self.output_eps = max(self.output_eps, eps)
        return np.concatenate([o.detach().to("cpu", torch.float64).numpy().ravel() for o in outs])

    def _split(
        self, flat: Array, blocks: tuple[Block, ...], like: Sequence[torch.Tensor]
    ) -> list[torch.Tensor]:
        return [
            torch.from_numpy(np.array(flat[s]).reshape(b.shape)).to(t.device, t.dtype)
            for (b, s), t in zip(offsets(blocks), like, strict=True)
        ]

    def vjp(self, v: Array) -> Array:
        xs = self._native(requires_grad=True)
        outs = self._outputs(xs, grad=True)
        for block, o in zip(self.outputs, outs, strict=True):
            _finite(o, block.name, f" in {block.dtype}")
        cotangents = self._split(v, self.outputs, outs)
        pairs = [(o, c) for o, c in zip(outs, cotangents, strict=True) if o.requires_grad]
        if not pairs:
            return np.zeros(self.n_in)
        try:
            grads = torch.autograd.grad(
                [o for o, _ in pairs], xs, [c for _, c in pairs], allow_unused=True
            )
        except Exception as error:
            raise _backward_error(self.label, error) from error
        flat = []
        for block, x, g in zip(self.inputs, xs, grads, strict=True):
            if g is None:
                self.none_gradients.add(block.name)
                g = torch.zeros_like(x)
            _check_gradient(block, x, g)
            flat.append(g.detach().to("cpu", torch.float64).numpy().ravel())
        return np.concatenate(flat)

    def jvp(self, u: Array) -> Array:
        primals = self._native(requires_grad=False)
        tangents = self._split(u, self.inputs, primals)
        try:
            with fwAD.dual_level(), warnings.catch_warnings():
                # make_dual's first call loads torch's jvp decompositions through
                # torch.jit.script, which warns DeprecationWarning (an error under -W error).
                warnings.filterwarnings("ignore", "`torch.jit.script`", DeprecationWarning)
                duals = [
                    fwAD.make_dual(p, t)  # type: ignore[no-untyped-call]
                    for p, t in zip(primals, tangents, strict=True)
                ]
                outs = self._outputs(duals, grad=False)
                results = [fwAD.unpack_dual(o).tangent for o in outs]  # type: ignore[no-untyped-call]
        except FunctionError as error:
            cause = error.__cause__
            if isinstance(cause, NotImplementedError | RuntimeError) and _no_forward_ad(cause):
                raise Unsupported(str(cause).splitlines()[0]) from error
            raise
        flat = [
            (torch.zeros_like(o) if t is None else t)
            .detach()
            .to("cpu", torch.float64)
            .numpy()
            .ravel()
            for o, t in zip(outs, results, strict=True)
        ]
        return np.concatenate(flat)


def _no_forward_ad(error: BaseException) -> bool:
    text = str(error).lower()
    return any(
        marker in text
        for marker in (
            "forward mode ad",
            "forward-mode ad",
            "forward ad",
            "jvp",
            "not implemented for 'forward",
        )
    )


def _backward_error(label: str, error: Exception) -> GradcheckError:
    text = str(error)
    if "invalid gradient" in text:
        return ShapeError(f"the backward of {label} returned a gradient of the wrong shape: {text}")
    if "once_differentiable" in text or "differentiate twice" in text:
        return Unsupported("the backward is once_differentiable: no second derivative")
    return FunctionError(f"the backward of {label} raised {type(error).__name__}: {text}")


def _check_gradient(block: Block, x: torch.Tensor, g: torch.Tensor) -> None:
    if tuple(g.shape) != block.shape:
        raise ShapeError(
            f"the gradient of {block.name} has shape {tuple(g.shape)}, expected {block.shape}"
        )
    if g.dtype != x.dtype:
        raise DTypeError(f"the gradient of {block.name} is {g.dtype}, expected {x.dtype}")
    _finite(g, f"the gradient of {block.name}", "")


def _finite(t: torch.Tensor, name: str, suffix: str) -> None:
    bad = ~torch.isfinite(t.detach())
    if bool(bad.any()):
        index = tuple(int(i) for i in torch.nonzero(bad)[0].tolist())
        value = t.detach()[index].item()
        raise NonFiniteError(f"{name}{list(index)} is {value}{suffix}")
