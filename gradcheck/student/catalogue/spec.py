"""What a graded layer function is, as data: its inputs with their shapes and domains, its
config arguments, its outputs and gradients, and (for the catalogue's own entries) a NumPy
reference.

One :class:`LayerFunction` describes the widely taught modular style::

    out, cache = name_forward(*inputs, *configs)      # or (*outputs, cache)
    dx, dw, … = name_backward(dout, cache)            # or (*douts, cache)

or, with ``backward=None``, a function that returns its value and its gradients at once::

    loss, dx = softmax_loss(x, y)

Shapes are written with named sizes (``("N", "D")``) that a ``sizes`` strategy draws
together, so that constrained sizes (a convolution's output height) stay consistent. The
generic check (``check.FunctionCheck``) runs any entry: catalogue entries are compared with
their reference, and every entry, declared ones without a reference included, against
finite differences of the submission's own forward.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from hypothesis import strategies as st

from gradcheck.student.labels import Label

__all__ = [
    "Config",
    "Domain",
    "Input",
    "LayerFunction",
    "MutantTensors",
    "Output",
    "Reference",
    "Sizes",
    "Values",
    "fixed",
    "one_of",
    "ranges",
]

Array = np.ndarray
Sizes = Mapping[str, int]
# The named inputs and configs of one call (``{"x": …, "gamma": …, "bn_param": {…}}``).
Values = Mapping[str, Any]
# A mutant reference: the label, the mistake in words, and the tensors it changes.
MutantTensors = tuple[Label, str, dict[str, Array]]

# real: uniform in ±bound; positive: in [0.1, bound]; distinct: real and pairwise distinct
# (no ties, as max pooling needs); labels and index: integers in [0, size of ``high``);
# mask: booleans. Only real, positive and distinct inputs are differentiable.
Domain = Literal["real", "positive", "distinct", "labels", "index", "mask"]
_DIFFERENTIABLE = ("real", "positive", "distinct")


@dataclass(frozen=True)
class Input:
    """One array argument. ``shape`` holds size names or fixed integers; ``high`` names the
    size that bounds integer domains (``labels`` below ``C``)."""

    name: str
    shape: tuple[str | int, ...]
    domain: Domain = "real"
    bound: float = 3.0
    high: str | None = None

    @property
    def differentiable(self) -> bool:
        return self.domain in _DIFFERENTIABLE

    def resolve(self, sizes: Sizes) -> tuple[int, ...]:
        return tuple(sizes[d] if isinstance(d, str) else d for d in self.shape)


@dataclass(frozen=True)
class Output:
    """One value the forward returns before its cache (``out``, ``next_h``, ``loss``)."""

    name: str
    shape: tuple[str | int, ...]

    def resolve(self, sizes: Sizes) -> tuple[int, ...]:
        return tuple(sizes[d] if isinstance(d, str) else d for d in self.shape)


@dataclass(frozen=True)
class Config:
    """A non-array argument: a dict such as ``bn_param`` or a scalar such as ``G``, drawn
    once per case by ``build(sizes)``. ``state`` lists the keys the forward is meant to update
    in place (batchnorm's ``running_mean``): they are read back after the call, compared
    with the reference as tensors named ``bn_param['running_mean']``, and not reported as
    an input mutation."""

    name: str
    build: Callable[[Sizes], st.SearchStrategy[Any]]
    state: tuple[str, ...] = ()

    def state_name(self, key: str) -> str:
        return f"{self.name}[{key!r}]"


@dataclass(frozen=True)
class Reference:
    """The correct function, in NumPy and float64.

    - ``forward(values)``: every output by name, and every config state by its state name;
    - ``backward(values, douts)``: every gradient by name (``dx``, ``dgamma``), where
      ``douts`` holds the upstream gradient of each output (``dout``, ``dnext_h``);
    - ``skip(values)``: boolean masks of entries that are not compared, by tensor name
      (a relu at exactly 0, a max-pooling window with a tie): either answer is right there;
    - ``mutants(values, douts)``: references with one known mistake each, for the diagnosis;
    - ``adopt(values, outputs)``: for random layers, the values with the submission's own
      valid random choice in place (dropout's mask when it was drawn another way than the
      seed replay), or ``values`` unchanged.
    """

    forward: Callable[[Values], dict[str, Array]]
    backward: Callable[[Values, Mapping[str, Array]], dict[str, Array]]
    skip: Callable[[Values], dict[str, Array]] | None = None
    mutants: Callable[[Values, Mapping[str, Array]], list[MutantTensors]] | None = None
    adopt: Callable[[Values, Mapping[str, Array]], Values] | None = None


@dataclass(frozen=True)
class LayerFunction:
    """One gradable function (or forward/backward pair) of a course's assignments.

    ``grads`` are what the backward returns, in order, each ``"d" + an input's name``;
    ``arguments`` is the call order of the forward when configs sit between inputs
    (``spatial_groupnorm_forward(x, gamma, beta, G, gn_param)``), by default the inputs and
    then the configs. ``batch`` is the size a variant grows by one. ``examples`` caps the
    Hypothesis search for slow functions (naive convolutions). Without a ``reference`` the
    function is checked against finite differences of the submission's own forward only.
    ``backward_when(values)`` says whether a case calls the backward at all (batchnorm's
    test mode is checked by its values only); by default every case does. Without a
    ``cache`` the forward returns its outputs alone and the backward takes the upstream
    gradients and then the forward's own arguments (``relu_backward(dout, x)``).
    """

    name: str
    family: str
    forward: str
    backward: str | None
    inputs: tuple[Input, ...]
    outputs: tuple[Output, ...]
    grads: tuple[str, ...]
    sizes: Callable[[], st.SearchStrategy[dict[str, int]]]
    configs: tuple[Config, ...] = ()
    reference: Reference | None = None
    arguments: tuple[str, ...] | None = None
    batch: str = "N"
    examples: int | None = None
    description: str = ""
    backward_when: Callable[[Values], bool] | None = None
    cache: bool = True

    @property
    def entry_points(self) -> tuple[str, ...]:
        return (self.forward,) if self.backward is None else (self.forward, self.backward)

    @property
    def call_order(self) -> tuple[str, ...]:
        if self.arguments is not None:
            return self.arguments
        return (*(i.name for i in self.inputs), *(c.name for c in self.configs))

    def input(self, name: str) -> Input:
        return next(i for i in self.inputs if i.name == name)

    def wrt(self, grad: str) -> str:
        """The input a gradient belongs to: ``dgamma`` → ``gamma``."""
        return grad[1:]


def ranges(**bounds: tuple[int, int]) -> Callable[[], st.SearchStrategy[dict[str, int]]]:
    """A ``sizes`` strategy drawing each named size independently in its closed range."""

    def sizes() -> st.SearchStrategy[dict[str, int]]:
        return st.fixed_dictionaries({k: st.integers(lo, hi) for k, (lo, hi) in bounds.items()})

    return sizes


def fixed(value: Any) -> Callable[[Sizes], st.SearchStrategy[Any]]:
    """A config ``build`` that always gives ``value`` (a copy per case for dicts)."""

    def build(_: Sizes) -> st.SearchStrategy[Any]:
        return st.builds(lambda: dict(value) if isinstance(value, dict) else value)

    return build


def one_of(values: Sequence[Any]) -> Callable[[Sizes], st.SearchStrategy[Any]]:
    """A config ``build`` that draws one of ``values``."""

    def build(_: Sizes) -> st.SearchStrategy[Any]:
        return st.sampled_from(list(values)).map(lambda v: dict(v) if isinstance(v, dict) else v)

    return build
