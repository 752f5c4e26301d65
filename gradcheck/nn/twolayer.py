"""The seed's two-layer function, ``backprop(X, y, weights, biases)``, on the general core.

Contract (row-major, as in the seed's pseudocode)::

    X (B, D), y (B, K), weights = {"w1": (D, H), "w2": (H, K)}, biases = {"b1": (H,), "b2": (K,)}
    a1 = sigmoid(X @ w1 + b1);  y_pred = a1 @ w2 + b2;  L = ½ Σ_batch Σ_outputs (y_pred − y)²

It returns ``{"w1", "b1", "w2", "b2"}`` gradients with the shapes of the inputs. The seed's
w⁽ˡ⁾ is the transpose of the core's W⁽ˡ⁾ (see ``spec``), so the function transposes on the
way in and on the way out; everything else is the core's delta recursion.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from gradcheck.errors import DTypeError, ShapeError
from gradcheck.nn.network import loss_and_grads
from gradcheck.nn.spec import DTYPES, NetworkSpec

__all__ = ["backprop", "two_layer_spec"]


def two_layer_spec(D: int, H: int, K: int, dtype: str = "float64") -> NetworkSpec:
    return NetworkSpec(
        (D, H, K), hidden="sigmoid", output="identity", loss="mse", reduction="sum", dtype=dtype
    )


def _require(
    mapping: Mapping[str, object], keys: tuple[str, str], what: str
) -> dict[str, np.ndarray]:
    if not isinstance(mapping, Mapping):
        raise ShapeError(
            f"{what} must be a dict with keys {', '.join(keys)}, got {type(mapping).__name__}"
        )
    if set(mapping) != set(keys):
        raise ShapeError(
            f"{what} must have exactly the keys {', '.join(keys)}, got {sorted(mapping)}"
        )
    return {k: np.asarray(mapping[k]) for k in keys}


def backprop(
    X: np.ndarray,
    y: np.ndarray,
    weights: Mapping[str, np.ndarray],
    biases: Mapping[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """Gradients of L = ½Σ(ŷ − y)² for the sigmoid-hidden, linear-output two-layer network."""
    w = _require(weights, ("w1", "w2"), "weights")
    b = _require(biases, ("b1", "b2"), "biases")
    dtype = str(w["w1"].dtype)
    if dtype not in DTYPES:
        raise DTypeError(f"w1 has dtype {dtype}; use float64 or float32")
    for name, array in (("w1", w["w1"]), ("w2", w["w2"])):
        if array.ndim != 2:
            raise ShapeError(f"{name} must be 2-d (fan_in, fan_out), got shape {array.shape}")
    (D, H), (H2, K) = w["w1"].shape, w["w2"].shape
    if H2 != H:
        raise ShapeError(
            f"w1 is {w['w1'].shape} and w2 is {w['w2'].shape}: hidden widths {H} ≠ {H2}"
        )
    spec = two_layer_spec(D, H, K, dtype)
    params = {"W1": w["w1"].T, "b1": b["b1"], "W2": w["w2"].T, "b2": b["b2"]}
    _, grads = loss_and_grads(spec, params, X, y)
    return {
        "w1": np.ascontiguousarray(grads["W1"].T),
        "b1": grads["b1"],
        "w2": np.ascontiguousarray(grads["W2"].T),
        "b2": grads["b2"],
    }
