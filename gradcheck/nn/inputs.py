"""Input validation for the core: parameter names and shapes, dtypes, finiteness, targets.

Every check raises a specific GradcheckError whose message names the array and the problem,
so that bad input never reaches the arithmetic and never yields a silent wrong answer.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from gradcheck.errors import DTypeError, NonFiniteError, ShapeError, format_index
from gradcheck.nn.spec import NetworkSpec

__all__ = ["check_finite", "validate_batch", "validate_params"]


def check_finite(name: str, array: np.ndarray) -> None:
    """Raise NonFiniteError naming the first NaN or Inf entry of ``array``."""
    if array.size and not np.isfinite(array).all():
        index = np.unravel_index(np.argmax(~np.isfinite(array)), array.shape)
        raise NonFiniteError(
            f"{name}{format_index(index)} is {float(array[index])}; inputs must be finite"
        )


def _as_float_array(name: str, value: object, dtype: np.dtype[np.floating]) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)
    ):
        raise DTypeError(f"{name} must be a numeric array, got dtype {array.dtype}")
    if np.issubdtype(array.dtype, np.floating) and array.dtype != dtype:
        raise DTypeError(
            f"{name} has dtype {array.dtype} but the network runs in {dtype}; "
            f"convert it explicitly (gradcheck never casts silently)"
        )
    return array.astype(dtype, copy=False)


def validate_params(spec: NetworkSpec, params: Mapping[str, object]) -> dict[str, np.ndarray]:
    """Check names, shapes, dtype and finiteness; return the parameters as arrays.

    Integer arrays are accepted and converted to the spec's dtype (that is exact for the
    integers a test writes by hand); a float array of the other precision is an error.
    """
    if not isinstance(params, Mapping):
        raise ShapeError(
            f"parameters must be a mapping of name to array, got {type(params).__name__}"
        )
    expected = spec.param_shapes()
    missing = [name for name in expected if name not in params]
    extra = sorted(set(params) - set(expected))
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing)}")
        if extra:
            parts.append(f"unexpected {', '.join(map(str, extra))}")
        raise ShapeError(
            f"parameters do not fit {spec.widths}: {'; '.join(parts)} "
            f"(expected {', '.join(expected)})"
        )
    arrays: dict[str, np.ndarray] = {}
    for name, shape in expected.items():
        array = _as_float_array(name, params[name], spec.np_dtype)
        if array.shape != shape:
            raise ShapeError(
                f"{name} has shape {array.shape}, expected {shape} for widths {spec.widths}"
            )
        check_finite(name, array)
        arrays[name] = array
    return arrays


def validate_batch(spec: NetworkSpec, X: object, y: object) -> tuple[np.ndarray, np.ndarray]:
    """Check the inputs X (B, n₀) and the targets y against the loss's domain."""
    x = _as_float_array("X", X, spec.np_dtype)
    if x.ndim != 2 or x.shape[1] != spec.widths[0]:
        raise ShapeError(f"X has shape {x.shape}, expected (batch, {spec.widths[0]})")
    if x.shape[0] < 1:
        raise ShapeError("X has an empty batch; at least one example is needed")
    check_finite("X", x)
    loss = spec.loss_fn
    target = np.asarray(y)
    if loss.target == "labels" and target.ndim == 1 and np.issubdtype(target.dtype, np.integer):
        loss.check_target(target, (x.shape[0], spec.widths[-1]))
        return x, target
    target = _as_float_array("y", target, spec.np_dtype)
    check_finite("y", target)
    loss.check_target(target, (x.shape[0], spec.widths[-1]))
    return x, target
