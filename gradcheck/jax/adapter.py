"""A JAX function of its checked leaves as a :class:`gradcheck.jacobian.VectorFunction`.

``call(*leaves)`` maps the checked input leaves to the tuple of floating output leaves. At
the point, in the leaves' own dtypes:

* ``vjp(v)`` = vᵀJ by ``jax.vjp``, the cotangent cast to each output's dtype;
* ``jvp(u)`` = J·u by ``jax.jvp``, the tangent cast to each input's dtype; a ``custom_vjp``
  rule has no forward mode, and says so with :class:`Unsupported`.

``evaluate(x)`` runs ``call`` on float64 leaves inside ``jax.enable_x64(True)``, so the
numerical derivatives are float64's even while x64 is off. Where ``f`` still returns an
output in less (it casts down itself), ``output_eps`` is that dtype's ε and a note says so.
The outputs at the point in the leaves' own dtypes must be finite (``NonFiniteError``).

Each of the three is jit-compiled once and then called many times (a full check runs the
forward 4 times per input entry, the VJP once per output entry): run eagerly, an order-2
check of 27 inputs took 16 s, compiled 6 s, nearly all of it XLA compiling. A function
that jit cannot trace (a boolean mask) runs eagerly instead; Python control flow on values
fails under ``jax.vjp`` too, and is reported as ``f raised ConcretizationTypeError``.

:meth:`JaxFunction.gradient` is the second-order function x ↦ vᵀ∂f/∂x for a fixed
cotangent v: its VJP and JVP are JAX's second derivatives (reverse over reverse, forward
over reverse).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gradcheck.errors import GradcheckError, NonFiniteError, ShapeError, format_index
from gradcheck.jacobian import Block, Unsupported, VectorFunction
from gradcheck.jacobian.function import offsets
from gradcheck.jax.pytrees import Arguments, split_outputs
from gradcheck.numeric.steps import FRAMEWORK_DTYPES

__all__ = ["JaxFunction", "run_user", "wrap"]

Array = np.ndarray
Call = Callable[..., tuple[Any, ...]]


def run_user(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)``; whatever the user's code (or JAX on its behalf) raises becomes a
    GradcheckError that names the exception."""
    try:
        return fn(*args)
    except GradcheckError:
        raise
    except Exception as error:
        raise GradcheckError(f"f raised {type(error).__name__}: {error}") from error


_NOT_TRACEABLE = (
    jax.errors.ConcretizationTypeError,
    jax.errors.TracerArrayConversionError,
    jax.errors.TracerIntegerConversionError,
    jax.errors.NonConcreteBooleanIndexError,
)


class _Compiled:
    """``fn`` jit-compiled, or ``fn`` itself (on JAX arrays) from the first call that jit
    cannot trace."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.jitted: Callable[..., Any] | None = jax.jit(fn)

    def __call__(self, *args: Any) -> Any:
        if self.jitted is not None:
            try:
                return self.jitted(*args)
            except _NOT_TRACEABLE:
                self.jitted = None
        return self.fn(*jax.tree_util.tree_map(jnp.asarray, args))


def _pieces(flat: Array, blocks: tuple[Block, ...], dtypes: list[Any]) -> tuple[Array, ...]:
    """``flat`` cut into the blocks' shapes, as NumPy arrays of ``dtypes`` (cast on the host:
    a cast on the device would compile one more program per dtype)."""
    return tuple(
        np.asarray(flat[where].reshape(block.shape), dtype)
        for (block, where), dtype in zip(offsets(blocks), dtypes, strict=True)
    )


def _flat(values: tuple[Any, ...], blocks: tuple[Block, ...], what: str) -> Array:
    parts = []
    for value, block in zip(values, blocks, strict=True):
        array = np.asarray(value, np.float64)
        if array.shape != block.shape:
            raise ShapeError(f"{what} {block.name} has shape {array.shape}, expected {block.shape}")
        parts.append(array.ravel())
    return np.concatenate(parts)


def _finite(outputs: tuple[Any, ...], blocks: tuple[Block, ...]) -> None:
    """The outputs at the point, in the inputs' own dtypes, must be finite."""
    for value, block in zip(outputs, blocks, strict=True):
        array = np.asarray(value, np.float64)
        bad = np.flatnonzero(~np.isfinite(array))
        if bad.size:
            index = np.unravel_index(int(bad[0]), array.shape) if array.shape else ()
            raise NonFiniteError(
                f"f's output {block.name}{format_index(tuple(index))} is {array.flat[bad[0]]} "
                f"at the point (computed in {block.dtype})"
            )


class JaxFunction(VectorFunction):
    """``call`` at ``primals`` (the checked leaves in their own dtypes)."""

    def __init__(
        self,
        call: Call,
        primals: tuple[Array, ...],
        inputs: tuple[Block, ...],
        outputs: tuple[Block, ...],
    ) -> None:
        self.call = call
        self.primals = primals
        self.inputs = inputs
        self.outputs = outputs
        self.point = _flat(primals, inputs, "input")
        self._forward_fn = _Compiled(call)
        self._vjp_fn = _Compiled(lambda p, v: _with_outputs(jax.vjp(call, *p), v))
        self._jvp_fn = _Compiled(lambda p, u: jax.jvp(call, p, u))
        self._seen_finite = False
        self.notes: tuple[str, ...] = ()
        with jax.enable_x64(True):
            wide = self._forward(self.point)
        coarse = {b.name: np.dtype(w.dtype).name for b, w in zip(outputs, wide, strict=True)}
        coarse = {name: d for name, d in coarse.items() if d != "float64"}
        if coarse:
            self.output_eps = max(FRAMEWORK_DTYPES[d][0] for d in coarse.values())
            listed = ", ".join(f"{name} in {d}" for name, d in coarse.items())
            self.notes = (
                f"f computes {listed} even from float64 inputs: the numerical derivatives "
                "have that precision",
            )

    def _forward(self, x: Array) -> tuple[Any, ...]:
        leaves = _pieces(x, self.inputs, [np.float64] * len(self.inputs))
        return tuple(run_user(self._forward_fn, *leaves))

    def _check_outputs(self, outputs: tuple[Any, ...]) -> None:
        if not self._seen_finite:
            _finite(outputs, self.outputs)
            self._seen_finite = True

    def evaluate(self, x: Array) -> Array:
        with jax.enable_x64(True):
            return _flat(self._forward(x), self.outputs, "f's output")

    def vjp(self, v: Array) -> Array:
        cotangent = _pieces(v, self.outputs, [jnp.dtype(b.dtype) for b in self.outputs])
        outputs, grads = run_user(self._vjp_fn, self.primals, cotangent)
        self._check_outputs(tuple(outputs))
        return _flat(tuple(grads), self.inputs, "the VJP for")

    def jvp(self, u: Array) -> Array:
        tangent = _pieces(u, self.inputs, [p.dtype for p in self.primals])
        try:
            outputs, out = self._jvp_fn(self.primals, tangent)
        except GradcheckError:
            raise
        except TypeError as error:
            if "custom_vjp" in str(error):
                raise Unsupported("custom_vjp rule: forward mode is not defined") from error
            raise GradcheckError(f"f raised TypeError: {error}") from error
        except Exception as error:
            raise GradcheckError(f"f raised {type(error).__name__}: {error}") from error
        self._check_outputs(tuple(outputs))
        return _flat(tuple(out), self.outputs, "the JVP for")

    def gradient(self, v: Array) -> JaxFunction:
        """x ↦ vᵀ∂f/∂x (one output block per input, named as the input), with ``v`` cast to
        each output's dtype in whichever precision the map is run."""
        call, blocks = self.call, offsets(self.outputs)

        def grad(*leaves: Any) -> tuple[Any, ...]:
            outs, pullback = jax.vjp(call, *leaves)
            cotangent = tuple(
                jnp.asarray(v[where].reshape(block.shape), out.dtype)
                for (block, where), out in zip(blocks, outs, strict=True)
            )
            return tuple(pullback(cotangent))

        return JaxFunction(grad, self.primals, self.inputs, self.inputs)


def _with_outputs(vjp: tuple[Any, Callable[..., Any]], v: Any) -> tuple[Any, Any]:
    outputs, pullback = vjp
    return outputs, pullback(v)


def wrap(f: Callable[..., Any], arguments: Arguments) -> JaxFunction:
    """``f`` as a function of the checked leaves of ``arguments``; its floating outputs are
    found by tracing it once abstractly (``jax.eval_shape``; a real run where ``f`` cannot
    be traced so)."""
    primals = tuple(np.asarray(leaf) for leaf in arguments.primals())
    try:
        shapes = run_user(jax.eval_shape, lambda *p: f(*arguments.rebuild(p)), *primals)
    except GradcheckError as error:
        if not isinstance(error.__cause__, _NOT_TRACEABLE):
            raise
        shapes = run_user(f, *arguments.rebuild([jnp.asarray(p) for p in primals]))
    outputs = split_outputs(shapes)

    def call(*leaves: Any) -> tuple[Any, ...]:
        return outputs.select(f(*arguments.rebuild(leaves)))

    return JaxFunction(call, primals, arguments.blocks, outputs.blocks)
