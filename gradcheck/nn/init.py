"""Parameter initialisers, registered by name. Each returns ``{"W1": …, "b1": …}`` in the spec's
dtype, with biases set to zero.

For W⁽ˡ⁾ of shape (fan_out, fan_in):

* ``xavier_uniform``: U(−r, r), r = √(6 / (fan_in + fan_out))   (Glorot & Bengio, 2010)
* ``xavier_normal``:  N(0, 2 / (fan_in + fan_out))
* ``he_uniform``:     U(−r, r), r = √(6 / fan_in)               (He et al., 2015)
* ``he_normal``:      N(0, 2 / fan_in)
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from gradcheck.errors import UnknownNameError
from gradcheck.nn.spec import NetworkSpec

__all__ = ["INITIALISERS", "init_params"]

Sampler = Callable[[np.random.Generator, tuple[int, int]], np.ndarray]


def _uniform(limit: Callable[[int, int], float]) -> Sampler:
    def sample(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
        r = limit(shape[1], shape[0])
        return rng.uniform(-r, r, size=shape)

    return sample


def _normal(std: Callable[[int, int], float]) -> Sampler:
    def sample(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
        return rng.normal(0.0, std(shape[1], shape[0]), size=shape)

    return sample


INITIALISERS: dict[str, Sampler] = {
    "xavier_uniform": _uniform(lambda fan_in, fan_out: math.sqrt(6 / (fan_in + fan_out))),
    "xavier_normal": _normal(lambda fan_in, fan_out: math.sqrt(2 / (fan_in + fan_out))),
    "he_uniform": _uniform(lambda fan_in, fan_out: math.sqrt(6 / fan_in)),
    "he_normal": _normal(lambda fan_in, fan_out: math.sqrt(2 / fan_in)),
}


def init_params(
    spec: NetworkSpec, rng: np.random.Generator | int | None = None, scheme: str = "xavier_uniform"
) -> dict[str, np.ndarray]:
    """Draw parameters for ``spec`` (samples in float64, then one explicit cast to the dtype)."""
    if scheme not in INITIALISERS:
        raise UnknownNameError(f"unknown initialiser {scheme!r} (known: {', '.join(INITIALISERS)})")
    generator = np.random.default_rng(rng)
    params = {}
    for name, shape in spec.param_shapes().items():
        if name.startswith("W"):
            params[name] = INITIALISERS[scheme](generator, shape).astype(spec.dtype)  # type: ignore[arg-type]
        else:
            params[name] = np.zeros(shape, dtype=spec.dtype)
    return params
