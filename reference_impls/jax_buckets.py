"""Shape buckets for the JAX reference: pad a case to a standard shape, and cut the gradients
back to the real one. Pure NumPy, so that every step can be read and tested on its own.

A case of depth L, widths (n₀, …, n_L) and batch B is padded to a :class:`Bucket` of depth
D ≥ L, width W ≥ max nₗ and batch N ≥ B, so that cases of many shapes share one compiled
program. The padding changes nothing the loss or a real gradient sees:

* every layer is W × W. Layer l keeps its weights in ``Wl[:n_l, :n_{l−1}]`` and is zero
  elsewhere, so a padded unit has z = 0, and whatever its activation makes of that meets a
  zero column of the next layer; padded input features are zero columns of X;
* the D − L extra layers come *first* and are marked not real: the program passes their
  input through unchanged (they also hold W = I, b = 0 and the identity activation);
* padded batch rows (X = 0) and padded output columns are masked out of the loss
  (``rows``, ``cols``), with in-domain stand-in values so that nothing there can be NaN;
* residual layers and the ``mean`` divisor (the *real* batch size) are data, not shapes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from gradcheck.nn.spec import NetworkSpec

__all__ = [
    "MIN_BATCH",
    "MIN_DEPTH",
    "MIN_WIDTH",
    "Bucket",
    "Padded",
    "bucket_for",
    "bucket_size",
    "layer_activations",
    "pad_case",
    "real_layer",
    "unpad_grads",
]

# The smallest buckets; each grows by doubling. The default sweep (widths ≤ 16, batch ≤ 8,
# depth ≤ 6) fits in the smallest one.
MIN_WIDTH, MIN_BATCH, MIN_DEPTH = 16, 8, 6


def bucket_size(n: int, smallest: int) -> int:
    """The smallest of ``smallest``·2ᵏ (k = 0, 1, …) that is at least ``n``."""
    size = smallest
    while size < n:
        size *= 2
    return size


@dataclass(frozen=True)
class Bucket:
    """A padded shape: every layer ``width`` × ``width``, ``batch`` rows, ``depth`` layers."""

    width: int
    batch: int
    depth: int

    def __str__(self) -> str:
        return f"{self.width}x{self.batch}x{self.depth}"  # e.g. "16x8x6"


def bucket_for(spec: NetworkSpec, batch: int) -> Bucket:
    """The bucket of a case of ``spec`` with ``batch`` rows."""
    return Bucket(
        width=bucket_size(max(spec.widths), MIN_WIDTH),
        batch=bucket_size(batch, MIN_BATCH),
        depth=bucket_size(spec.depth, MIN_DEPTH),
    )


def real_layer(spec: NetworkSpec, bucket: Bucket, layer: int) -> int:
    """The 0-based index, in the bucket's stack of layers, of the spec's layer ``layer``
    (1-based). The pass-through layers come first, so the spec's last layer is the last."""
    return bucket.depth - spec.depth + layer - 1


def layer_activations(spec: NetworkSpec, bucket: Bucket) -> list[str]:
    """The activation name of each of the bucket's layers: ``identity`` for pass-through
    layers, then the spec's hidden activation, and its output activation last."""
    names = ["identity"] * bucket.depth
    for layer in range(1, spec.depth + 1):
        last = layer == spec.depth
        names[real_layer(spec, bucket, layer)] = str(spec.output) if last else spec.hidden
    return names


class Padded(NamedTuple):
    """One case padded to a bucket: the arguments of the bucketed program, as NumPy arrays.

    D, W and N are the bucket's depth, width and batch; float arrays have the spec's dtype.
    """

    W: np.ndarray  # (D, W, W): layer k maps a (N, W) activation A to A·W[k]ᵀ + b[k]
    b: np.ndarray  # (D, W)
    activation: np.ndarray  # (D,) int32: each layer's index into the program's activations
    residual: np.ndarray  # (D,) bool: a = f + a_prev
    real: np.ndarray  # (D,) bool: False for the pass-through layers, which return a_prev
    x: np.ndarray  # (N, W)
    target: np.ndarray  # (N, W) of the dtype, or (N,) int32 class labels
    rows: np.ndarray  # (N,) bool: the real batch rows
    cols: np.ndarray  # (W,) bool: the real output columns
    divisor: np.ndarray  # () of the dtype: the real batch size for "mean", else 1


def pad_case(
    spec: NetworkSpec,
    params: Mapping[str, np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    bucket: Bucket,
    activation_codes: list[int],
) -> Padded:
    """Pad a case to ``bucket``. ``activation_codes`` holds one int per bucket layer (see
    :func:`layer_activations`). The caller's arrays are copied, never modified. ``y`` of
    integer dtype and shape (B,) is read as class labels, anything else as dense targets."""
    dtype = spec.np_dtype
    depth, width, rows = bucket.depth, bucket.width, bucket.batch
    batch, outputs = X.shape[0], spec.widths[-1]
    W = np.zeros((depth, width, width), dtype)
    W[:] = np.eye(width, dtype=dtype)  # pass-through layers keep W = I, b = 0
    b = np.zeros((depth, width), dtype)
    residual = np.zeros(depth, bool)
    real = np.zeros(depth, bool)
    for layer in range(1, spec.depth + 1):
        k = real_layer(spec, bucket, layer)
        n_out, n_in = spec.widths[layer], spec.widths[layer - 1]
        W[k] = 0
        W[k, :n_out, :n_in] = params[f"W{layer}"]
        b[k, :n_out] = params[f"b{layer}"]
        residual[k] = layer in spec.residual
        real[k] = True
    x = np.zeros((rows, width), dtype)
    x[:batch, : spec.widths[0]] = X
    if y.ndim == 1 and np.issubdtype(y.dtype, np.integer):
        target = np.zeros(rows, np.int32)  # padded rows get label 0, a valid index
        target[:batch] = y
    else:
        target = np.zeros((rows, width), dtype)
        target[:batch, :outputs] = y
    return Padded(
        W=W,
        b=b,
        activation=np.asarray(activation_codes, np.int32),
        residual=residual,
        real=real,
        x=x,
        target=target,
        rows=np.arange(rows) < batch,
        cols=np.arange(width) < outputs,
        divisor=np.asarray(batch if spec.reduction == "mean" else 1, dtype),
    )


def unpad_grads(
    spec: NetworkSpec, bucket: Bucket, grad_W: np.ndarray, grad_b: np.ndarray
) -> dict[str, np.ndarray]:
    """The real layers' gradients, cut from the bucket's stacks ``grad_W`` (D, W, W) and
    ``grad_b`` (D, W): fresh, writable, contiguous arrays keyed ``W1, b1, …``."""
    grads: dict[str, np.ndarray] = {}
    for layer in range(1, spec.depth + 1):
        k = real_layer(spec, bucket, layer)
        n_out, n_in = spec.widths[layer], spec.widths[layer - 1]
        grads[f"W{layer}"] = np.array(grad_W[k, :n_out, :n_in])
        grads[f"b{layer}"] = np.array(grad_b[k, :n_out])
    return grads
