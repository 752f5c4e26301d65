"""Neural-network layers in NumPy, written in the (out, cache) / backward(dout, cache) style.

Every layer is a pair of functions::

    out, cache = X_forward(inputs...)
    grads = X_backward(dout, cache)

where ``dout`` is ∂L/∂out for some scalar loss L and ``grads`` are ∂L/∂inputs, in the order of
the forward function's array arguments. The two losses return ``(loss, dinput)`` directly.

All functions are vectorised over the batch and keep the dtype of their inputs: float32 in,
float32 out, with no float64 temporaries on the way. They are also written with operations that
continue analytically to complex arguments (no ``abs``, ``var`` or casts), so a gradient checker
may differentiate them by complex step.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "affine_backward",
    "affine_forward",
    "batchnorm_backward",
    "batchnorm_forward",
    "layernorm_backward",
    "layernorm_forward",
    "leaky_relu_backward",
    "leaky_relu_forward",
    "mse_loss",
    "relu_backward",
    "relu_forward",
    "sigmoid_backward",
    "sigmoid_forward",
    "softmax_cross_entropy",
    "tanh_backward",
    "tanh_forward",
]

Array = npt.NDArray[Any]
Scalar = np.generic

AffineCache = tuple[Array, Array]
LeakyCache = tuple[Array, float]
NormCache = tuple[Array, Array, Array]


# --------------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------------


def _as_array(func: str, name: str, value: object) -> Array:
    array = np.asarray(value)
    if array.dtype.kind not in "fc":
        raise TypeError(f"{func}: {name} has dtype {array.dtype}, expected a floating dtype")
    return array


def _require_ndim(func: str, name: str, array: Array, ndim: int, pattern: str) -> None:
    if array.ndim != ndim:
        raise ValueError(f"{func}: {name} has shape {array.shape}, expected {pattern}")


def _check_dout(func: str, dout: object, shape: tuple[int, ...]) -> Array:
    array = _as_array(func, "dout", dout)
    if array.shape != shape:
        raise ValueError(
            f"{func}: dout has shape {array.shape}, expected {shape} to match the forward output"
        )
    return array


def _check_norm_params(func: str, x: Array, gamma: Array, beta: Array) -> None:
    _require_ndim(func, "x", x, 2, "(N, D)")
    expected = (x.shape[1],)
    for name, param in (("gamma", gamma), ("beta", beta)):
        if param.shape != expected:
            raise ValueError(
                f"{func}: {name} has shape {param.shape}, expected {expected} to match x {x.shape}"
            )


# --------------------------------------------------------------------------------------------
# Affine
# --------------------------------------------------------------------------------------------


def affine_forward(x: Array, w: Array, b: Array) -> tuple[Array, AffineCache]:
    """Fully connected layer: out = x @ w + b.

    Shapes: x (N, D), w (D, M), b (M,) → out (N, M).
    """
    func = "affine_forward"
    x = _as_array(func, "x", x)
    w = _as_array(func, "w", w)
    b = _as_array(func, "b", b)
    _require_ndim(func, "x", x, 2, "(N, D)")
    if w.ndim != 2 or w.shape[0] != x.shape[1]:
        raise ValueError(
            f"{func}: w has shape {w.shape}, expected ({x.shape[1]}, M) to match x {x.shape}"
        )
    if b.shape != (w.shape[1],):
        raise ValueError(
            f"{func}: b has shape {b.shape}, expected ({w.shape[1]},) to match w {w.shape}"
        )
    out = x @ w + b
    return out, (x, w)


def affine_backward(dout: Array, cache: AffineCache) -> tuple[Array, Array, Array]:
    """Gradients of out = x @ w + b.

    dx = dout @ wᵀ,  dw = xᵀ @ dout,  db = Σₙ dout[n].
    """
    x, w = cache
    dout = _check_dout("affine_backward", dout, (x.shape[0], w.shape[1]))
    dx = dout @ w.T
    dw = x.T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db


# --------------------------------------------------------------------------------------------
# Elementwise activations
# --------------------------------------------------------------------------------------------


def relu_forward(x: Array) -> tuple[Array, Array]:
    """Rectified linear unit: out = max(x, 0), elementwise."""
    x = _as_array("relu_forward", "x", x)
    positive = x > 0
    out = np.where(positive, x, np.zeros_like(x))
    return out, positive


def relu_backward(dout: Array, cache: Array) -> Array:
    """dx = dout ⊙ [x > 0]; the subgradient at x = 0 is taken to be 0."""
    positive = cache
    dout = _check_dout("relu_backward", dout, positive.shape)
    return np.where(positive, dout, np.zeros_like(dout))


def leaky_relu_forward(x: Array, slope: float = 0.01) -> tuple[Array, LeakyCache]:
    """Leaky ReLU: out = x if x > 0 else slope · x, elementwise."""
    func = "leaky_relu_forward"
    x = _as_array(func, "x", x)
    if isinstance(slope, bool) or not isinstance(slope, int | float | np.integer | np.floating):
        raise TypeError(f"{func}: slope must be a real number, not {slope!r}")
    slope = float(slope)  # a Python float: float32 inputs stay float32
    positive = x > 0
    out = np.where(positive, x, slope * x)
    return out, (positive, slope)


def leaky_relu_backward(dout: Array, cache: LeakyCache) -> Array:
    """dx = dout where x > 0, else slope · dout (the slope is used at x = 0)."""
    positive, slope = cache
    dout = _check_dout("leaky_relu_backward", dout, positive.shape)
    return np.where(positive, dout, slope * dout)


def sigmoid_forward(x: Array) -> tuple[Array, Array]:
    """Logistic sigmoid: out = σ(x) = 1 / (1 + e^(−x)), elementwise.

    Computed stably as 1 / (1 + e^(−x)) for x ≥ 0 and e^x / (1 + e^x) for x < 0, so the
    exponential never overflows and small outputs keep their relative precision.
    """
    x = _as_array("sigmoid_forward", "x", x)
    negative = x < 0
    z = np.exp(np.where(negative, x, -x))  # e^(−|x|), in (0, 1]
    out = np.where(negative, z, np.ones_like(z)) / (1 + z)
    return out, out


def sigmoid_backward(dout: Array, cache: Array) -> Array:
    """dx = dout ⊙ σ(x) ⊙ (1 − σ(x))."""
    out = cache
    dout = _check_dout("sigmoid_backward", dout, out.shape)
    return dout * out * (1 - out)


def tanh_forward(x: Array) -> tuple[Array, Array]:
    """Hyperbolic tangent: out = tanh(x), elementwise."""
    x = _as_array("tanh_forward", "x", x)
    out = np.tanh(x)
    return out, out


def tanh_backward(dout: Array, cache: Array) -> Array:
    """dx = dout ⊙ (1 − tanh²(x))."""
    out = cache
    dout = _check_dout("tanh_backward", dout, out.shape)
    return dout * (1 - out * out)


# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------


def _normalize(x: Array, axis: int, eps: float) -> tuple[Array, Array]:
    """x̂ = (x − μ) / √(σ² + ε) along ``axis``, and 1 / √(σ² + ε) (kept dims)."""
    centred = x - x.mean(axis=axis, keepdims=True)
    variance = (centred * centred).mean(axis=axis, keepdims=True)  # not np.var: no |·|²
    inv_std = 1 / np.sqrt(variance + eps)
    return centred * inv_std, inv_std


def _normalize_backward(dxhat: Array, xhat: Array, inv_std: Array, axis: int) -> Array:
    """∂L/∂x from ∂L/∂x̂ for x̂ = (x − μ) / √(σ² + ε) with statistics taken along ``axis``."""
    count = xhat.shape[axis]
    return (inv_std / count) * (
        count * dxhat
        - dxhat.sum(axis=axis, keepdims=True)
        - xhat * (dxhat * xhat).sum(axis=axis, keepdims=True)
    )


def batchnorm_forward(
    x: Array, gamma: Array, beta: Array, eps: float = 1e-5
) -> tuple[Array, NormCache]:
    """Batch normalisation in training mode (statistics of the current batch).

    For each feature d, with μ_d and σ²_d the mean and (biased) variance of x[:, d] over the
    batch: x̂ = (x − μ) / √(σ² + ε),  out = γ ⊙ x̂ + β.
    Shapes: x (N, D), gamma (D,), beta (D,) → out (N, D).
    """
    func = "batchnorm_forward"
    x = _as_array(func, "x", x)
    gamma = _as_array(func, "gamma", gamma)
    beta = _as_array(func, "beta", beta)
    _check_norm_params(func, x, gamma, beta)
    xhat, inv_std = _normalize(x, axis=0, eps=eps)
    return gamma * xhat + beta, (xhat, inv_std, gamma)


def batchnorm_backward(dout: Array, cache: NormCache) -> tuple[Array, Array, Array]:
    """Gradients of batch normalisation, with x̂ and s = 1/√(σ² + ε) per feature:

    dx = (s / N) ⊙ (N·dx̂ − Σₙ dx̂ − x̂ ⊙ Σₙ (dx̂ ⊙ x̂)),  where dx̂ = dout ⊙ γ,
    dγ = Σₙ dout ⊙ x̂,  dβ = Σₙ dout.
    """
    xhat, inv_std, gamma = cache
    dout = _check_dout("batchnorm_backward", dout, xhat.shape)
    dx = _normalize_backward(dout * gamma, xhat, inv_std, axis=0)
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def layernorm_forward(
    x: Array, gamma: Array, beta: Array, eps: float = 1e-5
) -> tuple[Array, NormCache]:
    """Layer normalisation (statistics of each sample over its features).

    For each sample n, with μ_n and σ²_n the mean and (biased) variance of x[n, :]:
    x̂ = (x − μ) / √(σ² + ε),  out = γ ⊙ x̂ + β  (γ, β per feature).
    Shapes: x (N, D), gamma (D,), beta (D,) → out (N, D).
    """
    func = "layernorm_forward"
    x = _as_array(func, "x", x)
    gamma = _as_array(func, "gamma", gamma)
    beta = _as_array(func, "beta", beta)
    _check_norm_params(func, x, gamma, beta)
    xhat, inv_std = _normalize(x, axis=1, eps=eps)
    return gamma * xhat + beta, (xhat, inv_std, gamma)


def layernorm_backward(dout: Array, cache: NormCache) -> tuple[Array, Array, Array]:
    """Gradients of layer normalisation, with x̂ and s = 1/√(σ² + ε) per sample:

    dx = (s / D) ⊙ (D·dx̂ − Σ_d dx̂ − x̂ ⊙ Σ_d (dx̂ ⊙ x̂)),  where dx̂ = dout ⊙ γ,
    dγ = Σₙ dout ⊙ x̂,  dβ = Σₙ dout.
    """
    xhat, inv_std, gamma = cache
    dout = _check_dout("layernorm_backward", dout, xhat.shape)
    dx = _normalize_backward(dout * gamma, xhat, inv_std, axis=1)
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


# --------------------------------------------------------------------------------------------
# Losses
# --------------------------------------------------------------------------------------------


def softmax_cross_entropy(logits: Array, labels: Array) -> tuple[Scalar, Array]:
    """Mean softmax cross-entropy over the batch, and its gradient.

    L = −(1/N) Σₙ log p[n, yₙ],  p[n, c] = e^(z[n, c]) / Σ_k e^(z[n, k]),
    computed with log-sum-exp (z shifted by its row maximum), so large logits do not overflow.
    dL/dz = (p − onehot(y)) / N.
    Shapes: logits (N, C), labels (N,) integer class indices in [0, C).
    """
    func = "softmax_cross_entropy"
    logits = _as_array(func, "logits", logits)
    labels = np.asarray(labels)
    _require_ndim(func, "logits", logits, 2, "(N, C)")
    n, classes = logits.shape
    if labels.shape != (n,):
        raise ValueError(
            f"{func}: labels has shape {labels.shape}, expected ({n},) to match logits "
            f"{logits.shape}"
        )
    if labels.dtype.kind not in "iu":
        raise ValueError(f"{func}: labels has dtype {labels.dtype}, expected integer classes")
    if n and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(
            f"{func}: labels must lie in [0, {classes}), got values in "
            f"[{labels.min()}, {labels.max()}]"
        )
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(n)
    loss = -log_probs[rows, labels].sum() / n
    dlogits = np.exp(log_probs)
    dlogits[rows, labels] -= 1
    dlogits /= n
    return loss, dlogits


def mse_loss(pred: Array, target: Array) -> tuple[Scalar, Array]:
    """Half mean squared error over the batch, and its gradient.

    L = 1/(2N) Σ (pred − target)²  (the sum runs over every entry, N = pred.shape[0]),
    dL/dpred = (pred − target) / N.
    Shapes: pred (N, ...), target the same shape.
    """
    func = "mse_loss"
    pred = _as_array(func, "pred", pred)
    target = _as_array(func, "target", target)
    if pred.ndim == 0:
        raise ValueError(f"{func}: pred has shape (), expected (N, ...)")
    if target.shape != pred.shape:
        raise ValueError(
            f"{func}: target has shape {target.shape}, expected {pred.shape} to match pred"
        )
    n = pred.shape[0]
    diff = pred - target
    loss = (diff * diff).sum() / (2 * n)
    return loss, diff / n
