"""Losses: each entry holds its value, its gradient with respect to the network output, and
the domain of its targets, together.

Every loss is a per-example sum over the outputs, reduced over the batch by ``"sum"`` or
``"mean"``. ``value(yhat, y)`` and ``grad(yhat, y)`` take the *unreduced* form; the network
divides by the batch size for ``"mean"``. ŷ of shape (B, K) gives a scalar; a stack of
predictions (S, B, K) gives S values at once (finite differences evaluate many perturbed
networks together), so sums run over the last two axes. Targets are validated by
``check_target`` before any arithmetic, so a label out of range is an error, never a silent
wrong answer.

``value`` also accepts complex ŷ (a complex step through the network) and is then the
analytic continuation of the real loss: branches and the softmax shift are chosen by Re ŷ,
as in the activations. ``grad`` and ``pieces`` are for real ŷ only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from gradcheck.errors import DomainError, ShapeError, format_index
from gradcheck.nn.activations import analytic_abs, analytic_clip, analytic_log1p, real_part
from gradcheck.registry import Registry

__all__ = ["LOSSES", "REDUCTIONS", "Loss", "TargetKind", "get_loss"]

Array = np.ndarray
TargetKind = Literal["real", "probability", "labels"]
REDUCTIONS = ("sum", "mean")
_LAST2 = (-2, -1)


@dataclass(frozen=True)
class Loss:
    """A loss L(ŷ, y) = Σ_b Σ_k ℓ(ŷ_bk, y_bk) (softmax cross-entropy couples the k's).

    ``target``: ``"real"`` (any finite y, shape of ŷ), ``"probability"`` (y in [0, 1]) or
    ``"labels"`` (integer class labels of shape (B,), or rows of non-negative numbers
    summing to 1, such as one-hot rows). ``output_range``: the interval the prediction must
    lie strictly inside (BCE on probabilities needs ŷ in (0, 1)). ``default_output``: the
    output activation the loss is usually paired with.
    """

    name: str
    value: Callable[[Array, Array], Array]
    grad: Callable[[Array, Array], Array]
    target: TargetKind
    default_output: str = "identity"
    output_range: tuple[float, float] = (-math.inf, math.inf)
    # Which smooth piece each output lies on, for losses that are not C² everywhere (huber's
    # curvature jumps at |ŷ − y| = δ); a finite difference that changes it is unreliable.
    pieces: Callable[[Array, Array], Array] | None = None

    def check_target(self, y: Array, yhat_shape: tuple[int, ...]) -> None:
        """Raise ShapeError or DomainError unless ``y`` suits outputs of shape ``yhat_shape``."""
        if self.target == "labels":
            _check_labels(self.name, y, yhat_shape)
            return
        if y.shape != yhat_shape:
            raise ShapeError(f"{self.name}: targets y have shape {y.shape}, expected {yhat_shape}")
        if self.target == "probability" and y.size and (np.min(y) < 0 or np.max(y) > 1):
            bad = np.unravel_index(np.argmax((y < 0) | (y > 1)), y.shape)
            raise DomainError(
                f"{self.name}: targets must lie in [0, 1]; y{format_index(bad)} = {float(y[bad])}"
            )

    def check_prediction(self, yhat: Array) -> None:
        """Raise DomainError if ŷ (its real part, for a complex step) leaves the open interval
        the loss is defined on."""
        lo, hi = self.output_range
        if (lo, hi) == (-math.inf, math.inf) or yhat.size == 0:
            return
        yhat = real_part(yhat)
        outside = (yhat <= lo) | (yhat >= hi)
        if outside.any():
            bad = np.unravel_index(np.argmax(outside), yhat.shape)
            raise DomainError(
                f"{self.name}: prediction ŷ{format_index(bad)} = {float(yhat[bad])} is not "
                f"strictly inside ({lo}, {hi}); the output has saturated (use bce_logits)"
            )


LOSSES: Registry[Loss] = Registry("loss")


def get_loss(text: str) -> Loss:
    """Look up ``"mse"``, ``"huber(delta=0.5)"``, ...; unknown names raise UnknownNameError."""
    return LOSSES.get(text)


def _check_labels(name: str, y: Array, yhat_shape: tuple[int, ...]) -> None:
    batch, classes = yhat_shape
    if y.ndim == 1:
        if y.shape != (batch,):
            raise ShapeError(f"{name}: labels y have shape {y.shape}, expected ({batch},)")
        if not np.issubdtype(y.dtype, np.integer):
            raise DomainError(f"{name}: 1-d targets must be integer class labels, got {y.dtype}")
        if y.size and (y.min() < 0 or y.max() >= classes):
            raise DomainError(
                f"{name}: labels must lie in [0, {classes}), got {int(y.min())}..{int(y.max())}"
            )
        return
    if y.shape != yhat_shape:
        raise ShapeError(
            f"{name}: targets y have shape {y.shape}, expected labels ({batch},) "
            f"or one-hot rows {yhat_shape}"
        )
    if y.size and (y.min() < 0 or not np.allclose(y.sum(axis=1), 1, rtol=0, atol=1e-6)):
        raise DomainError(f"{name}: target rows must be non-negative and sum to 1 (one-hot)")


def _one_hot(y: Array, like: Array) -> Array:
    if y.ndim == 2:
        return y
    out = np.zeros_like(like)
    out[..., np.arange(y.shape[0]), y] = 1
    return out


def _mse(name: str) -> Loss:
    """ℓ = ½(ŷ − y)²; ∂ℓ/∂ŷ = ŷ − y."""
    return Loss(
        name,
        value=lambda yhat, y: 0.5 * np.sum((yhat - y) ** 2, axis=_LAST2),
        grad=lambda yhat, y: yhat - y,
        target="real",
    )


def _bce(name: str) -> Loss:
    """ℓ = −[y log ŷ + (1 − y) log(1 − ŷ)]; ∂ℓ/∂ŷ = (ŷ − y) / (ŷ(1 − ŷ)), the textbook form."""
    return Loss(
        name,
        value=lambda yhat, y: (
            -np.sum(y * np.log(yhat) + (1 - y) * analytic_log1p(-yhat), axis=_LAST2)
        ),
        grad=lambda yhat, y: (yhat - y) / (yhat * (1 - yhat)),
        target="probability",
        default_output="sigmoid",
        output_range=(0.0, 1.0),
    )


def _bce_logits(name: str) -> Loss:
    """On logits s: ℓ = max(s, 0) − s·y + log(1 + e^−|s|); ∂ℓ/∂s = σ(s) − y."""

    def grad(s: Array, y: Array) -> Array:
        e = np.exp(-np.abs(s))
        return np.where(s >= 0, 1 / (1 + e), e / (1 + e)) - y

    return Loss(
        name,
        value=lambda s, y: np.sum(
            analytic_clip(s, 0.0, math.inf) - s * y + analytic_log1p(np.exp(-analytic_abs(s))),
            axis=_LAST2,
        ),
        grad=grad,
        target="probability",
    )


def _softmax_ce(name: str) -> Loss:
    """On logits s with one-hot (or label) targets y: ℓ = logsumexp(s) − Σ_k y_k s_k;
    ∂ℓ/∂s = softmax(s) − y. The max is subtracted before exponentiating (the max of Re s for
    a complex s: any real shift leaves logsumexp unchanged)."""

    def value(s: Array, y: Array) -> Array:
        m = np.max(real_part(s), axis=-1, keepdims=True)
        lse = m[..., 0] + np.log(np.sum(np.exp(s - m), axis=-1))
        return np.sum(lse, axis=-1) - np.sum(_one_hot(y, s) * s, axis=_LAST2)

    def grad(s: Array, y: Array) -> Array:
        e = np.exp(s - np.max(s, axis=-1, keepdims=True))
        return e / np.sum(e, axis=-1, keepdims=True) - _one_hot(y, s)

    return Loss(name, value=value, grad=grad, target="labels")


def _huber(name: str, delta: float) -> Loss:
    """ℓ = ½r² for |r| ≤ δ, else δ(|r| − ½δ), with r = ŷ − y; ∂ℓ/∂ŷ = clip(r, −δ, δ)."""
    if delta <= 0:
        raise ValueError(f"{name}: delta must be positive, got {delta}")

    def value(yhat: Array, y: Array) -> Array:
        r = analytic_abs(yhat - y)
        quadratic = real_part(r) <= delta
        return np.sum(np.where(quadratic, 0.5 * r * r, delta * (r - 0.5 * delta)), axis=_LAST2)

    return Loss(
        name,
        value=value,
        grad=lambda yhat, y: np.clip(yhat - y, -delta, delta),
        target="real",
        pieces=lambda yhat, y: np.abs(yhat - y) > delta,
    )


LOSSES.register("mse", _mse, summary="½ Σ (ŷ − y)²")
LOSSES.register("bce", _bce, summary="binary cross-entropy on probabilities ŷ in (0, 1)")
LOSSES.register("bce_logits", _bce_logits, summary="binary cross-entropy on logits, stable")
LOSSES.register(
    "softmax_ce", _softmax_ce, summary="softmax cross-entropy on logits; integer labels or one-hot"
)
LOSSES.register("huber", _huber, delta=1.0, summary="Huber loss with threshold delta")
