"""Planted errors in one Jacobian entry of a real torch or JAX function.

``plant_torch(fn, inputs, rel)`` wraps ``fn`` in a custom ``autograd.Function`` whose
backward is autograd's own VJP plus δ·v_i·e_j and whose forward-mode JVP is autograd's plus
δ·u_j·e_i: the Jacobian with J_ij + δ in one entry and nothing else changed. (i, j) is the
entry of largest |J_ij| (the first on ties) and δ = rel·|J_ij|, so that the planted error is
``rel`` relative to the entry it sits in. ``plant_jax`` does the same with ``custom_vjp``.
The forward is unchanged, so numerical derivatives see the true Jacobian.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["Planted", "largest_entry", "plant_jax", "plant_torch"]


class Planted:
    """A planted function and where its error sits: flat output index i, flat input index
    j (over the checked inputs laid end to end), and its size δ."""

    def __init__(self, fn: Callable[..., Any], i: int, j: int, delta: float) -> None:
        self.fn, self.i, self.j, self.delta = fn, i, j, delta

    def __call__(self, *args: Any) -> Any:
        return self.fn(*args)


def largest_entry(jacobian: np.ndarray) -> tuple[int, int]:
    i, j = np.unravel_index(int(np.argmax(np.abs(jacobian))), jacobian.shape)
    return int(i), int(j)


def plant_torch(fn: Callable[..., Any], inputs: Sequence[Any], rel: float) -> Planted:
    """``fn`` (one tensor out) with a relative error ``rel`` planted in its largest
    Jacobian entry w.r.t. the inputs that require grad."""
    import torch

    checked = [k for k, a in enumerate(inputs) if isinstance(a, torch.Tensor) and a.requires_grad]

    def flat(*xs: Any) -> Any:
        args = list(inputs)
        for k, x in zip(checked, xs, strict=True):
            args[k] = x
        return fn(*args).reshape(-1)

    point = [inputs[k].detach().to(torch.float64) for k in checked]
    blocks = torch.autograd.functional.jacobian(flat, tuple(point))  # type: ignore[no-untyped-call]
    jac = torch.cat([b.reshape(b.shape[0], -1) for b in blocks], dim=1).numpy()
    i, j = largest_entry(jac)
    delta = rel * float(abs(jac[i, j]))
    sizes = [int(inputs[k].numel()) for k in checked]

    def add_row(grads: tuple[Any, ...], weight: Any) -> tuple[Any, ...]:
        # δ·weight at flat input j, split over the checked inputs.
        out, start = [], 0
        for g, size in zip(grads, sizes, strict=True):
            # contiguous: a grad may come back with the input's strides, which view(-1)
            # cannot flatten; the weight may be in the output's dtype, not the input's.
            g = g.contiguous().clone()
            if start <= j < start + size:
                g.view(-1)[j - start] += (delta * weight).to(g.dtype)
            out.append(g)
            start += size
        return tuple(out)

    class Wrapped(torch.autograd.Function):
        @staticmethod
        def forward(*xs: Any) -> Any:
            return flat(*xs).detach().clone().reshape(fn(*_with(inputs, checked, xs)).shape)

        @staticmethod
        def setup_context(ctx: Any, xs: tuple[Any, ...], output: Any) -> None:
            ctx.save_for_backward(*xs)
            ctx.xs = xs

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            xs = [x.detach().requires_grad_() for x in ctx.saved_tensors]
            with torch.enable_grad():
                y = flat(*xs)
                grads = torch.autograd.grad(y, xs, g.reshape(-1), allow_unused=True)
            grads = tuple(
                torch.zeros_like(x) if gr is None else gr for x, gr in zip(xs, grads, strict=True)
            )
            return add_row(grads, g.reshape(-1)[i])

        @staticmethod
        def jvp(ctx: Any, *tangents: Any) -> Any:
            # Forward AD cannot nest inside a Function's jvp: J·u from the Jacobian at the
            # point (the only point a check asks about), in float64, then in the tangent's
            # dtype.
            ts = [
                torch.zeros_like(x) if t is None else t
                for x, t in zip(ctx.xs, tangents, strict=True)
            ]
            u = torch.cat([t.reshape(-1).to(torch.float64) for t in ts])
            out = torch.from_numpy(jac) @ u
            out[i] += delta * u[j]
            shape = fn(*_with(inputs, checked, [x.detach() for x in ctx.xs])).shape
            return out.to(ts[0].dtype).reshape(shape)

    def planted(*args: Any) -> Any:
        return Wrapped.apply(*[args[k] for k in checked])  # type: ignore[no-untyped-call]

    return Planted(planted, i, j, delta)


def _with(inputs: Sequence[Any], checked: list[int], xs: Sequence[Any]) -> list[Any]:
    args = list(inputs)
    for k, x in zip(checked, xs, strict=True):
        args[k] = x
    return args


def plant_jax(f: Callable[..., Any], args: Sequence[Any], rel: float) -> Planted:
    """``f`` (one array out, every argument a floating array) with a relative error ``rel``
    planted in its largest Jacobian entry, through ``jax.custom_vjp`` (reverse mode only)."""
    import jax
    import jax.numpy as jnp

    def flat(*xs: Any) -> Any:
        return jnp.ravel(f(*xs))

    with jax.enable_x64(True):
        wide = [jnp.asarray(np.asarray(a, np.float64)) for a in args]
        blocks = jax.jacobian(flat, argnums=tuple(range(len(args))))(*wide)
        jac = np.concatenate([np.asarray(b).reshape(np.asarray(b).shape[0], -1) for b in blocks], 1)
    i, j = largest_entry(jac)
    delta = rel * float(abs(jac[i, j]))
    sizes = [int(np.size(a)) for a in args]

    @jax.custom_vjp
    def planted(*xs: Any) -> Any:
        return f(*xs)

    def fwd(*xs: Any) -> Any:
        y, pullback = jax.vjp(f, *xs)
        return y, pullback

    def bwd(pullback: Any, g: Any) -> Any:
        grads = list(pullback(g))
        weight = jnp.ravel(g)[i]
        start = 0
        for k, size in enumerate(sizes):
            if start <= j < start + size:
                shape = grads[k].shape
                grads[k] = jnp.ravel(grads[k]).at[j - start].add(delta * weight).reshape(shape)
            start += size
        return tuple(grads)

    planted.defvjp(fwd, bwd)
    return Planted(planted, i, j, delta)
