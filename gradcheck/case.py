"""Case: everything needed to re-run one gradient check, how a seeded one is drawn, and its
on-disk form.

A seeded case is drawn by :func:`draw_case` from one generator, in this order: the weights
by ``init_params`` (Xavier-uniform), every bias from U(−0.5, 0.5) (away from zero, so that
no term of the gradient vanishes), X, then the targets inside the loss's domain (labels
uniform over the classes; probabilities and regression targets from the ``Draws`` given).
The golden gradients (``baseline.cases.fixed_case``, ``UNIFORM_DRAWS``) and the comparison
matrix (``runs.matrix.draw_cases``, ``NORMAL_DRAWS``) draw through it.

A case is saved as ``NAME.npz`` (the arrays, loadable with ``allow_pickle=False``) beside
``NAME.json`` (the spec's canonical text, the seed and the array names).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np

from gradcheck.errors import GradcheckError
from gradcheck.io import atomic_write_bytes, atomic_write_text, npz_json_pair, pair_stem
from gradcheck.nn.init import init_params
from gradcheck.nn.inputs import validate_batch, validate_params
from gradcheck.nn.spec import NetworkSpec

__all__ = [
    "NORMAL_DRAWS",
    "UNIFORM_DRAWS",
    "Case",
    "Draws",
    "draw_batch",
    "draw_case",
    "draw_params",
]

CASE_FORMAT = 1


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.array(array, copy=True)
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class Case:
    """A validated network spec, parameters, batch and seed. Arrays are read-only copies,
    so an engine that tries to modify its inputs fails loudly instead of corrupting the
    comparison."""

    spec: NetworkSpec
    params: Mapping[str, np.ndarray]
    X: np.ndarray
    y: np.ndarray
    seed: int | None = field(default=None)

    def __post_init__(self) -> None:
        params = validate_params(self.spec, self.params)
        x, y = validate_batch(self.spec, self.X, self.y)
        object.__setattr__(
            self, "params", MappingProxyType({k: _frozen(v) for k, v in params.items()})
        )
        object.__setattr__(self, "X", _frozen(x))
        object.__setattr__(self, "y", _frozen(y))

    def __reduce__(self) -> tuple[type[Case], tuple[object, ...]]:
        # MappingProxyType does not pickle; a case crosses to worker processes as plain data.
        return (Case, (self.spec, dict(self.params), self.X, self.y, self.seed))

    @property
    def batch(self) -> int:
        return int(self.X.shape[0])

    def describe(self) -> str:
        seed = "" if self.seed is None else f" seed={self.seed}"
        return f"{self.spec} batch={self.batch}{seed}"

    def with_dtype(self, dtype: str) -> Case:
        """The same case in another dtype (an explicit cast, for references in float64)."""
        spec = self.spec.replace(dtype=dtype)
        labels = self.y.ndim == 1 and np.issubdtype(self.y.dtype, np.integer)
        return Case(
            spec,
            {k: v.astype(dtype) for k, v in self.params.items()},
            self.X.astype(dtype),
            self.y if labels else self.y.astype(dtype),
            self.seed,
        )

    # Saving and loading -------------------------------------------------------------------
    def save(self, stem: str | Path) -> tuple[Path, Path]:
        """Write ``stem.npz`` and ``stem.json`` atomically; return both paths."""
        arrays = {f"param_{k}": np.asarray(v) for k, v in self.params.items()}
        arrays.update(X=np.asarray(self.X), y=np.asarray(self.y))
        npz_path, json_path = npz_json_pair(stem)
        atomic_write_bytes(npz_path, _npz_bytes(arrays))
        meta = {"format": CASE_FORMAT, "spec": self.spec.to_text(), "seed": self.seed}
        atomic_write_text(json_path, json.dumps(meta, indent=2) + "\n")
        return npz_path, json_path

    @classmethod
    def load(cls, path: str | Path) -> Case:
        """Read a case saved by :meth:`save`; ``path`` may name the .npz, the .json or the stem."""
        npz_path, json_path = npz_json_pair(path)
        for required in (npz_path, json_path):
            if not required.is_file():
                raise GradcheckError(f"case file {required} does not exist")
        try:
            meta = json.loads(json_path.read_text())
            spec = NetworkSpec.parse(meta["spec"])
            with np.load(npz_path, allow_pickle=False) as data:
                params = {k[len("param_") :]: data[k] for k in data.files if k.startswith("param_")}
                X, y = data["X"], data["y"]
        except (KeyError, TypeError, ValueError, OSError, zipfile.BadZipFile) as error:
            raise GradcheckError(f"case {pair_stem(path)} is unreadable: {error!r}") from error
        return cls(spec, params, X, y, meta.get("seed"))


def _npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    import io

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()


# Drawing a seeded case ----------------------------------------------------------------------
Draw = Callable[[np.random.Generator, tuple[int, ...]], np.ndarray]


@dataclass(frozen=True)
class Draws:
    """The distributions of a seeded case's X and of its targets (probabilities for a BCE
    loss, values for a regression one): each takes the generator and a shape."""

    inputs: Draw
    values: Draw
    probabilities: Draw


def _uniform(low: float, high: float) -> Draw:
    return lambda rng, shape: rng.uniform(low, high, shape)


def _standard_normal(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.standard_normal(shape)


# X in ±2 (beyond ±1, so saturating units are exercised), values in ±1, probabilities in [0, 1).
UNIFORM_DRAWS = Draws(inputs=_uniform(-2, 2), values=_uniform(-1, 1), probabilities=_uniform(0, 1))
# X and values ~ N(0, 1); probabilities in (0.05, 0.95), clear of BCE's steep ends.
NORMAL_DRAWS = Draws(
    inputs=_standard_normal, values=_standard_normal, probabilities=_uniform(0.05, 0.95)
)


def draw_params(spec: NetworkSpec, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """``init_params(spec, rng)`` weights, then every bias from U(−0.5, 0.5), in the spec's
    dtype and in the order W1, b1, …, all from ``rng``."""
    params = init_params(spec, rng)
    for name in params:
        if name.startswith("b"):  # away from zero, so that no term of the gradient vanishes
            params[name] = rng.uniform(-0.5, 0.5, params[name].shape).astype(spec.dtype)
    return params


def draw_batch(
    spec: NetworkSpec, rng: np.random.Generator, batch: int, draws: Draws
) -> tuple[np.ndarray, np.ndarray]:
    """X of shape (batch, n₀) from ``draws.inputs``, then targets in the loss's domain: labels
    uniform over the n_L classes, else (batch, n_L) from ``draws.probabilities`` or
    ``draws.values``. Floats are cast to the spec's dtype."""
    X = draws.inputs(rng, (batch, spec.widths[0])).astype(spec.dtype)
    out, target = spec.widths[-1], spec.loss_fn.target
    y: np.ndarray
    if target == "labels":
        y = rng.integers(0, out, batch)
    elif target == "probability":
        y = draws.probabilities(rng, (batch, out)).astype(spec.dtype)
    else:
        y = draws.values(rng, (batch, out)).astype(spec.dtype)
    return X, y


def draw_case(
    spec: NetworkSpec,
    rng: np.random.Generator,
    batch: int,
    draws: Draws,
    seed: int | None = None,
) -> Case:
    """One case from ``rng``: :func:`draw_params`, then :func:`draw_batch` (module docstring);
    ``seed`` is recorded on the case."""
    params = draw_params(spec, rng)
    X, y = draw_batch(spec, rng, batch, draws)
    return Case(spec, params, X, y, seed)
