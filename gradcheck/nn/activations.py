"""Element-wise activations: each entry holds f, f′ and its non-differentiable points together.

``df(z, a)`` receives both the pre-activation ``z`` and ``a = f(z)`` so that a
derivative can use whichever is cheaper or more accurate (``1 - a**2`` for tanh,
``e/(1+e)**2`` with ``e = exp(-|z|)`` for the sigmoid, which stays accurate where
``a`` has rounded to 1). Every formula keeps the dtype of ``z``: constants are
Python floats, which NumPy does not let up-cast a float32 array.

Every ``f`` also accepts complex ``z`` and is then the analytic continuation of the real
function, piece by piece, so that Im f(z + ih)/h = f′(z) to rounding (the complex step,
Squire and Trapp 1998). ``|z|``, ``max``, ``min`` and ``clip`` are not analytic, so each
takes its branch from Re z and continues that branch (``analytic_abs``, ``analytic_clip``);
nothing compares complex values or drops an imaginary part. Real input takes exactly the
code path it always did, bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gradcheck.registry import Registry

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "analytic_abs",
    "analytic_clip",
    "analytic_log1p",
    "get_activation",
    "real_part",
]

Array = np.ndarray
INF = math.inf


@dataclass(frozen=True)
class Activation:
    """An activation ``a = f(z)`` applied element-wise.

    ``kinks`` are the points where f is not twice continuously differentiable: where f′
    jumps (relu), f′ returns one valid one-sided value and a checker must accept either
    side; where only f″ jumps (elu with alpha = 1), f′ is unique but a finite difference
    across the point is only O(h) accurate and its error bar cannot be trusted.
    ``output_range`` bounds f(z), which losses on probabilities use to accept or refuse an
    output activation. ``df_of_output`` is f′ written in terms of a = f(z) where that is how
    it is taught (σ: a(1 − a), tanh: 1 − a²); applying it to z instead of a is a classic
    mistake, which the grader's mutant references make on purpose.

    ``f_into(z, out)`` and ``backprop_into(g, z, a, out)`` are optional in-place forms for
    real arrays, used by the core's training step: f(z) written into ``out``, and g ⊙ f′(z)
    written into ``out`` (which may be ``g`` itself). They must give exactly the values of
    ``f`` and ``g * df(z, a)``; :meth:`apply` and :meth:`backprop` fall back to those.
    """

    name: str
    f: Callable[[Array], Array]
    df: Callable[[Array, Array], Array]
    kinks: tuple[float, ...] = ()
    output_range: tuple[float, float] = (-INF, INF)
    df_of_output: Callable[[Array], Array] | None = None
    f_into: Callable[[Array, Array], object] | None = None
    backprop_into: Callable[[Array, Array, Array, Array], object] | None = None

    def apply(self, z: Array, out: Array | None = None) -> Array:
        """f(z), into ``out`` when given (``out`` must not be ``z``)."""
        if out is None:
            return self.f(z)
        if self.f_into is not None and z.dtype.kind == "f":
            self.f_into(z, out)
        else:
            np.copyto(out, self.f(z))
        return out

    def backprop(self, g: Array, z: Array, a: Array, out: Array | None = None) -> Array:
        """g ⊙ f′(z), into ``out`` when given (``out`` may be ``g``)."""
        if out is None:
            return g * self.df(z, a)
        if self.backprop_into is not None and z.dtype.kind == "f":
            self.backprop_into(g, z, a, out)
        else:
            np.multiply(g, self.df(z, a), out=out)
        return out


ACTIVATIONS: Registry[Activation] = Registry("activation")


def get_activation(text: str) -> Activation:
    """Look up ``"tanh"``, ``"leaky_relu(slope=0.2)"``, ...; raises UnknownNameError if unknown."""
    return ACTIVATIONS.get(text)


# Complex-step-safe primitives, shared with the losses ---------------------------------------


def real_part(z: Array) -> Array:
    """Re z, which chooses the branch of a piecewise function: ``z`` itself (no copy) if real."""
    return z.real if np.iscomplexobj(z) else z


def analytic_abs(z: Array) -> Array:
    """|z| for real z; for complex z, the branch ±z that |Re z| takes (z where Re z ≥ 0)."""
    if np.iscomplexobj(z):
        return np.where(z.real >= 0, z, -z)
    return np.abs(z)


def analytic_clip(z: Array, lo: float, hi: float) -> Array:
    """clip(z, lo, hi), computed as np.maximum/np.minimum when one bound is infinite.

    For complex z the bounds apply to Re z: z where lo ≤ Re z ≤ hi, else the constant bound,
    whose derivative 0 is that of the clipped real function. NaN stays NaN.
    """
    if np.iscomplexobj(z):
        re = z.real
        return np.where(re < lo, lo, np.where(re > hi, hi, z))
    if hi == INF:
        return np.maximum(z, lo)
    if lo == -INF:
        return np.minimum(z, hi)
    return np.clip(z, lo, hi)


def analytic_log1p(w: Array) -> Array:
    """log(1 + w), keeping log1p's accuracy for small complex w.

    NumPy's complex log1p computes the real part as log|1 + w|, which loses the relative
    accuracy of log1p(Re w) when Re w is small; here log|1 + w| = log1p(a) + ½·log1p(t²)
    with a = Re w and t = Im w / (1 + a), and arg(1 + w) = atan2(Im w, 1 + a).
    """
    if not np.iscomplexobj(w):
        return np.log1p(w)
    a, b = w.real, w.imag
    modulus = np.log1p(a) + 0.5 * np.log1p((b / (1 + a)) ** 2)
    return modulus + 1j * np.arctan2(b, 1 + a)


# Entries ---------------------------------------------------------------------------------


def _sigmoid(z: Array) -> Array:
    # exp(-|z|) never overflows; the two branches are the same function written two ways.
    e = np.exp(-analytic_abs(z))
    return np.where(real_part(z) >= 0, 1 / (1 + e), e / (1 + e))


def _sigmoid_prime(z: Array) -> Array:
    e = np.exp(-analytic_abs(z))
    return e / (1 + e) ** 2


def _identity(name: str) -> Activation:
    return Activation(
        name,
        f=lambda z: z.copy(),
        df=lambda z, a: np.ones_like(z),
        f_into=lambda z, out: np.copyto(out, z),
        backprop_into=lambda g, z, a, out: None if out is g else np.copyto(out, g),
    )


def _sigmoid_entry(name: str) -> Activation:
    return Activation(
        name,
        f=_sigmoid,
        df=lambda z, a: _sigmoid_prime(z),
        output_range=(0.0, 1.0),
        df_of_output=lambda a: a * (1 - a),
    )


def _tanh(name: str) -> Activation:
    return Activation(
        name,
        f=np.tanh,
        df=lambda z, a: 1 - a * a,
        output_range=(-1.0, 1.0),
        df_of_output=lambda a: 1 - a * a,
        f_into=lambda z, out: np.tanh(z, out=out),
    )


def _relu(name: str) -> Activation:
    # relu′(0) = 0, the convention of torch and jax.
    return Activation(
        name,
        f=lambda z: analytic_clip(z, 0.0, INF),
        df=lambda z, a: (z > 0).astype(z.dtype),
        kinks=(0.0,),
        output_range=(0.0, INF),
        f_into=lambda z, out: np.maximum(z, 0.0, out=out),
        backprop_into=lambda g, z, a, out: np.multiply(g, z > 0, out=out),
    )


def _leaky_relu(name: str, slope: float) -> Activation:
    if not 0 <= slope < 1:
        raise ValueError(f"{name}: slope must lie in [0, 1), got {slope}")
    return Activation(
        name,
        f=lambda z: np.where(real_part(z) > 0, z, slope * z),
        df=lambda z, a: np.where(real_part(z) > 0, 1, slope).astype(z.dtype),
        kinks=(0.0,),
    )


def _elu(name: str, alpha: float) -> Activation:
    if alpha <= 0:
        raise ValueError(f"{name}: alpha must be positive, got {alpha}")
    # With alpha = 1 the one-sided slopes at 0 agree but the curvatures (0 and 1) do not.
    return Activation(
        name,
        f=lambda z: np.where(real_part(z) > 0, z, alpha * np.expm1(analytic_clip(z, -INF, 0.0))),
        df=lambda z, a: np.where(
            real_part(z) > 0, 1, alpha * np.exp(analytic_clip(z, -INF, 0.0))
        ).astype(z.dtype),
        kinks=(0.0,),
        output_range=(-alpha, INF),
    )


def _softplus(name: str) -> Activation:
    # log(1 + e^z) = max(z, 0) + log1p(e^-|z|): no overflow for large z, no cancellation for small.
    return Activation(
        name,
        f=lambda z: analytic_clip(z, 0.0, INF) + analytic_log1p(np.exp(-analytic_abs(z))),
        df=lambda z, a: _sigmoid(z),
        output_range=(0.0, INF),
    )


_GELU_C = math.sqrt(2 / math.pi)
_GELU_K = 0.044715


def _gelu(name: str) -> Activation:
    """The tanh approximation: f(z) = ½z(1 + tanh(c(z + kz³)))."""

    # Beyond |z| = 10 the tanh is ±1 in both dtypes; clipping its argument there changes
    # nothing but keeps z³ from overflowing (and 0·inf from making f′ NaN) in float32.
    def f(z: Array) -> Array:
        zc = analytic_clip(z, -10.0, 10.0)
        return 0.5 * z * (1 + np.tanh(_GELU_C * (zc + _GELU_K * zc**3)))

    def df(z: Array, a: Array) -> Array:
        zc = analytic_clip(z, -10.0, 10.0)
        t = np.tanh(_GELU_C * (zc + _GELU_K * zc**3))
        return 0.5 * (1 + t) + 0.5 * zc * (1 - t * t) * _GELU_C * (1 + 3 * _GELU_K * zc * zc)

    return Activation(name, f=f, df=df)


def _silu(name: str) -> Activation:
    """silu(z) = z·σ(z); silu′(z) = σ(z)(1 + z(1 − σ(z)))."""

    def df(z: Array, a: Array) -> Array:
        s = _sigmoid(z)
        return s * (1 + z * (1 - s))

    return Activation(name, f=lambda z: z * _sigmoid(z), df=df)


ACTIVATIONS.register("identity", _identity, summary="f(z) = z (a linear layer)")
ACTIVATIONS.register("sigmoid", _sigmoid_entry, summary="f(z) = 1/(1+e^-z), stable for large |z|")
ACTIVATIONS.register("tanh", _tanh, summary="f(z) = tanh z")
ACTIVATIONS.register("relu", _relu, summary="f(z) = max(z, 0); f′(0) = 0")
ACTIVATIONS.register(
    "leaky_relu", _leaky_relu, slope=0.01, summary="f(z) = z if z > 0 else slope·z; f′(0) = slope"
)
ACTIVATIONS.register("elu", _elu, alpha=1.0, summary="f(z) = z if z > 0 else alpha·(e^z − 1)")
ACTIVATIONS.register("softplus", _softplus, summary="f(z) = log(1 + e^z), stable")
ACTIVATIONS.register(
    "gelu", _gelu, summary="tanh approximation ½z(1 + tanh(√(2/π)(z + 0.044715z³)))"
)
ACTIVATIONS.register("silu", _silu, summary="f(z) = z·σ(z) (swish)")
