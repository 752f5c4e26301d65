"""The NumPy backprop core: forward pass with caches, and the delta recursion.

With a batch stored as rows (A⁽⁰⁾ = X of shape (B, n₀)):

    forward     Z⁽ˡ⁾ = A⁽ˡ⁻¹⁾W⁽ˡ⁾ᵀ + b⁽ˡ⁾,   A⁽ˡ⁾ = f(Z⁽ˡ⁾) [+ A⁽ˡ⁻¹⁾ on a residual layer]
    output      δ⁽ᴸ⁾ = ∇ŷL ⊙ f′(Z⁽ᴸ⁾)
    recursion   δ⁽ˡ⁾ = (δ⁽ˡ⁺¹⁾W⁽ˡ⁺¹⁾ [+ ∂L/∂A⁽ˡ⁺¹⁾ if layer l+1 is residual]) ⊙ f′(Z⁽ˡ⁾)
    gradients   ∂L/∂W⁽ˡ⁾ = δ⁽ˡ⁾ᵀA⁽ˡ⁻¹⁾,   ∂L/∂b⁽ˡ⁾ = Σ_batch δ⁽ˡ⁾

Row b of δ⁽ˡ⁾ᵀA⁽ˡ⁻¹⁾ summed over the batch is the textbook δ⁽ˡ⁾(a⁽ˡ⁻¹⁾)ᵀ, and without
residual layers the recursion is exactly δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾)ᵀδ⁽ˡ⁺¹⁾ ⊙ f′(z⁽ˡ⁾). Everything
runs in the spec's dtype.

``complex_loss_value`` runs the same forward pass at complex parameters: every activation
and loss continues analytically to complex arguments, so the complex step
Im L(θ + ih·v)/h gives the directional derivative ∇L·v free of cancellation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from gradcheck.errors import NonFiniteError
from gradcheck.nn.activations import Activation, real_part
from gradcheck.nn.inputs import validate_batch, validate_params
from gradcheck.nn.spec import NetworkSpec
from gradcheck.numeric.blas import blas_errstate

if TYPE_CHECKING:  # the workspace calls forward and backward; they only take one
    from gradcheck.nn.workspace import Workspace

__all__ = [
    "Derivative",
    "ForwardPass",
    "backward",
    "complex_loss_value",
    "complex_losses",
    "evaluate",
    "forward",
    "loss_and_grads",
    "loss_value",
    "output_loss",
    "stacked_output_losses",
]

Array = np.ndarray
Params = Mapping[str, Array]


@dataclass(frozen=True)
class ForwardPass:
    """The caches of one forward pass. Index l−1 of ``zs`` and ``fs`` holds layer l;
    ``activations[0]`` is X and ``activations[l]`` is A⁽ˡ⁾."""

    zs: tuple[Array, ...]
    fs: tuple[Array, ...]
    activations: tuple[Array, ...]

    @property
    def output(self) -> Array:
        return self.activations[-1]


def forward(
    spec: NetworkSpec, params: Params, X: Array, *, workspace: Workspace | None = None
) -> ForwardPass:
    """Run the network on a validated batch, caching Z⁽ˡ⁾, f(Z⁽ˡ⁾) and A⁽ˡ⁾: in fresh arrays,
    or in ``workspace``'s buffers (then the pass is overwritten by the next one)."""
    zs, fs, activations = [], [], [X]
    a = X
    for layer in range(1, spec.depth + 1):
        buffers = workspace.layer(layer) if workspace is not None else None
        with blas_errstate():
            z = np.matmul(a, params[f"W{layer}"].T, out=buffers.z if buffers else None)
        z += params[f"b{layer}"]
        f = spec.activation(layer).apply(z, out=buffers.f if buffers else None)
        residual = layer in spec.residual
        a = np.add(f, a, out=buffers.a if buffers else None) if residual else f
        zs.append(z)
        fs.append(f)
        activations.append(a)
    return ForwardPass(tuple(zs), tuple(fs), tuple(activations))


def _batch_scale(spec: NetworkSpec, batch: int) -> float:
    return 1.0 / batch if spec.reduction == "mean" else 1.0


def _reduced_losses(
    spec: NetworkSpec, yhat: Array, y: Array, dtype: type[np.inexact[Any]]
) -> Array:
    loss = spec.loss_fn
    loss.check_prediction(yhat)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        values = np.asarray(loss.value(yhat, y), dtype=dtype)
    values = values * _batch_scale(spec, yhat.shape[-2])
    # A complex step is judged by Re L; its tiny imaginary part is the caller's to check.
    re = real_part(values)
    finite = np.isfinite(re)
    if not finite.all():
        bad = float(re[~finite].flat[0]) if re.ndim else float(re)
        raise NonFiniteError(f"loss {spec.loss} is {bad} for network {spec}")
    return values


def stacked_output_losses(spec: NetworkSpec, yhat: Array, y: Array) -> Array:
    """L with the spec's reduction, in float64, for ŷ of shape (B, K) (a 0-d result) or a
    stack (S, B, K) of perturbed networks' outputs (S results). Raises if ŷ left the loss's
    domain or L overflowed."""
    return _reduced_losses(spec, yhat, y, np.float64)


def complex_losses(spec: NetworkSpec, yhat: Array, y: Array) -> Array:
    """:func:`stacked_output_losses` for complex ŷ, in complex128: the analytic continuation
    of L, with the same shapes and reduction. Raises if Re ŷ left the loss's domain or Re L
    is not finite."""
    return _reduced_losses(spec, yhat, y, np.complex128)


def output_loss(spec: NetworkSpec, yhat: Array, y: Array) -> float:
    """L(ŷ, y) for one network's outputs ŷ of shape (B, K)."""
    return float(stacked_output_losses(spec, yhat, y))


def complex_loss_value(spec: NetworkSpec, params: Params, X: Array, y: Array) -> complex:
    """L(θ) at complex parameters θ (real X and y), without validation: with θ = θ₀ + ih·v,
    Im L / h is the directional derivative ∇L(θ₀)·v to rounding, and Re L is L(θ₀) to a
    few ulps (NumPy's complex exp, log and tanh round differently from the real ones)."""
    return complex(complex_losses(spec, forward(spec, params, X).output, y))


Derivative = Callable[[int, Activation, Array, Array], Array]


def backward(
    spec: NetworkSpec,
    params: Params,
    cache: ForwardPass,
    y: Array,
    *,
    derivative: Derivative | None = None,
    workspace: Workspace | None = None,
) -> dict[str, Array]:
    """The gradients ∂L/∂W⁽ˡ⁾ and ∂L/∂b⁽ˡ⁾ by the delta recursion (see the module docstring).

    ``derivative(layer, activation, z, f)``, if given, replaces f′(z) in the recursion: the
    mutant references of the grader use it to make one known mistake (f′ left out, or taken
    at the wrong point). With ``workspace`` the gradients are its buffers, overwritten by
    the next pass."""
    yhat = cache.output
    # g holds ∂L/∂A⁽ˡ⁾ for the current layer l; it is this function's own array, so the
    # delta may overwrite it (except on a residual layer, whose g is needed once more).
    g = spec.loss_fn.grad(yhat, y)
    if np.may_share_memory(g, yhat) or np.may_share_memory(g, y):
        g = g.copy()
    scale = _batch_scale(spec, yhat.shape[0])
    if scale != 1.0:
        g *= scale
    grads: dict[str, Array] = {}
    for layer in range(spec.depth, 0, -1):
        buffers = workspace.layer(layer) if workspace is not None else None
        act, z, f = spec.activation(layer), cache.zs[layer - 1], cache.fs[layer - 1]
        residual = layer in spec.residual
        if derivative is not None:
            delta = g * derivative(layer, act, z, f)
        elif residual:
            delta = act.backprop(g, z, f, out=buffers.delta if buffers else None)
        else:
            delta = act.backprop(g, z, f, out=g)
        W = params[f"W{layer}"]
        with blas_errstate():
            grads[f"W{layer}"] = np.matmul(
                delta.T, cache.activations[layer - 1], out=buffers.dW if buffers else None
            )
            if layer > 1:
                upstream = np.matmul(delta, W, out=buffers.upstream if buffers else None)
        grads[f"b{layer}"] = np.sum(delta, axis=0, out=buffers.db if buffers else None)
        if layer > 1:
            if residual:
                upstream += g
            g = upstream
    return {name: grads[name] for name in spec.param_names}


def loss_value(spec: NetworkSpec, params: Params, X: Array, y: Array) -> float:
    """L(θ) alone, without validation: the inner loop of finite differences."""
    return output_loss(spec, forward(spec, params, X).output, y)


def evaluate(
    spec: NetworkSpec, params: Params, X: Array, y: Array
) -> tuple[float, dict[str, Array]]:
    """L and its gradients for inputs that are already validated (a Case's)."""
    cache = forward(spec, params, X)
    return output_loss(spec, cache.output, y), backward(spec, params, cache, y)


def loss_and_grads(
    spec: NetworkSpec, params: Mapping[str, object], X: object, y: object
) -> tuple[float, dict[str, Array]]:
    """Validate the inputs, then return L and ``{"W1": ∂L/∂W1, "b1": …}`` in the spec's dtype."""
    x, target = validate_batch(spec, X, y)
    return evaluate(spec, validate_params(spec, params), x, target)
