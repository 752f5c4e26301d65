"""Checks of whole-network backprop under the calling conventions students meet.

Every convention draws a core :class:`~gradcheck.case.Case` (the core's naming: ``Wl`` of
shape (n_l, n_{l−1}), ``bl`` of shape (n_l,), a batch as rows) and translates it: into the
arguments the submission expects, and the core's gradients into the names, shapes and
orientation the submission must return. Comparisons and diagnoses then happen in the
submission's own terms.
"""

from __future__ import annotations

import importlib.util
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import PurePath
from typing import Any

import numpy as np
from hypothesis import strategies as st

from gradcheck.case import Case
from gradcheck.check import check_case
from gradcheck.compare import Record
from gradcheck.errors import GradcheckError
from gradcheck.nn.activations import Activation
from gradcheck.nn.network import backward, forward
from gradcheck.numeric.kinks import subgradient_ambiguity
from gradcheck.numeric.rounding import term_magnitudes
from gradcheck.strategies import cases
from gradcheck.student.contract import Check, ContractError, Expected, Mutant
from gradcheck.student.labels import Label
from gradcheck.student.mutants import NetworkMutant, network_mutants
from gradcheck.student.sandbox import Ref, Sandbox

__all__ = [
    "CourseraCheck",
    "DeepMLPCheck",
    "NetworkCheck",
    "NielsenCheck",
    "TwoLayerCheck",
    "import_line",
    "literal",
]

Array = np.ndarray


def literal(array: Any) -> str:
    """``np.array([...])`` that evaluates back to ``array`` exactly (float64)."""
    array = np.asarray(array)
    if array.dtype.kind in "iub":
        return f"np.array({array.tolist()!r})"
    return f"np.array({array.tolist()!r}, dtype=np.float64)"


def import_line(source: str, names: Sequence[str]) -> str:
    """How a reproduction gets the submission's ``names``: ``from bob import f, g`` for
    ``bob.py`` (or a folder ``bob``); for a notebook, a comment saying to run the lines
    after its cells, which define them."""
    path = PurePath(source)
    if path.suffix == ".ipynb":
        return f"# run after the cells of {path.name}, which define {', '.join(names)}"
    return f"from {path.stem} import {', '.join(names)}"


def _sequence(raw: Any, length: int, what: str) -> Sequence[Any]:
    if isinstance(raw, np.ndarray) and raw.ndim >= 1 and len(raw) == length and length == 1:
        return [raw[0]]
    if not isinstance(raw, list | tuple) or len(raw) != length:
        got = (
            f"{type(raw).__name__} of length {len(raw)}"
            if isinstance(raw, list | tuple)
            else type(raw).__name__
        )
        raise ContractError(
            Label.BAD_RETURN, f"{what} must be a list of {length} arrays, got a {got}"
        )
    return raw


class NetworkCheck(Check):
    """A whole network's gradients. Subclasses give the convention."""

    # One or more sets of keywords for ``strategies.cases``; several are drawn from in turn.
    bounds: Sequence[Mapping[str, Any]] = ()
    batch: tuple[int, int] = (1, 6)
    # Small inputs shrink to readable counterexamples; large ones (up to LARGE_BATCH rows and
    # LARGE_WIDTH units) catch the bugs that show only past some size: a loop bound, a
    # hard-coded slice, a reduction over the wrong axis that happens to agree on small shapes.
    SMALL_WIDTH = 5
    LARGE_BATCH = 64
    LARGE_WIDTH = 16

    def _sizes(self) -> list[tuple[int, int, int]]:
        """(min batch, max batch, max width) of each regime the search draws from."""
        low, high = self.batch
        small = (low, high, self.SMALL_WIDTH)
        if high <= 1:  # a convention with one example at a time: only the widths grow
            return [small, (low, high, self.LARGE_WIDTH)]
        return [small, (max(low, high + 1), self.LARGE_BATCH, self.LARGE_WIDTH)]

    def cases(self) -> st.SearchStrategy[Case]:
        # Pre-activations both clear of kinks and exactly on them: entries that depend on the
        # subgradient taken there are not compared, so relu′(0) = 0 and = 1 both pass.
        return st.one_of(
            *(
                cases(
                    min_batch=low,
                    max_batch=high,
                    residual=False,
                    dtypes=("float64",),
                    max_width=width,
                    kinks=kinks,
                    **bounds,
                )
                for low, high, width in self._sizes()
                for bounds in self.bounds
                for kinks in ("avoid", "aim")
            )
        )

    @abstractmethod
    def convert(
        self, case: Case, tensors: Mapping[str, Array], *, scale: bool = True
    ) -> dict[str, Array]:
        """The core-named ``tensors`` under the submission's names and shapes; ``scale``
        applies the convention's constant factor (off for masks)."""

    def forward_outputs(self, case: Case) -> dict[str, tuple[Array, Array]]:
        """Outputs of a forward function the submission returns, with their rounding bounds."""
        return {}

    def expected(self, case: Case) -> Expected:
        spec = case.spec
        cache = forward(spec, case.params, case.X)
        grads = backward(spec, case.params, cache, case.y)  # the forward pass above, reused
        rounding = term_magnitudes(spec, case.params, cache, case.y)
        ambiguous = subgradient_ambiguity(spec, case.params, cache, case.y) or {}
        masks = {n: ambiguous.get(n, np.zeros(g.shape, bool)) for n, g in grads.items()}
        tensors = self.convert(case, grads)
        bounds = self.convert(case, {n: rounding[n] for n in grads})
        skip = self.convert(case, masks, scale=False)
        for name, (value, bound) in self.forward_outputs(case).items():
            tensors[name], bounds[name] = value, bound
        return Expected(tensors, bounds, skip, batch=case.X.shape[0])

    def mutants(self, case: Case) -> list[Mutant]:
        """The core's mutants (``mutants.network_mutants``) in this convention's names, the
        cost confusions at a sigmoid output added, and each named for what it is."""
        outputs = {name: value for name, (value, _) in self.forward_outputs(case).items()}
        return [
            Mutant(m.label, m.mistake, {**self.convert(case, m.grads), **outputs})
            for m in [*_named_mutants(case), *_cost_mutants(case)]
        ]

    def variant(self, case: Case, seed: int) -> Case:
        spec, rng = case.spec, np.random.default_rng(seed)
        batch = case.X.shape[0] + 1 if self.batch[1] > 1 else 1
        params = {}
        for name, shape in spec.param_shapes().items():
            bound = 2 / np.sqrt(shape[1]) if name.startswith("W") else 1.0
            params[name] = rng.uniform(-bound, bound, shape)
        X = rng.uniform(-3, 3, (batch, spec.widths[0]))
        low = 0.0 if spec.loss_fn.target == "probability" else -3.0
        y = rng.uniform(low, 1.0 if low == 0 else 3.0, (batch, spec.widths[-1]))
        return Case(spec, params, X, y)

    def references(self, case: Case) -> tuple[Record, ...]:
        engines = ["core", "fd"] + (["torch"] if importlib.util.find_spec("torch") else [])
        return check_case(case, engines).records


def _named_mutants(case: Case) -> list[NetworkMutant]:
    """``network_mutants`` less the "every layer" ones where the hidden and the output
    activations differ: those apply the hidden activation's mistake to the output layer
    too (relu′ "left out" there leaves σ′ out), so their name is wrong, and each layer's
    own mutants already cover the mistake. A missing σ′ at the output says what the
    student's delta then is: under the quadratic cost it is the cross-entropy's a − y."""
    spec = case.spec
    found = []
    for m in network_mutants(case):
        if m.mistake.endswith(", in every layer") and spec.hidden != spec.output:
            continue
        if m.label == Label.MISSING_ACTIVATION_DERIVATIVE and m.mistake.endswith(
            "in the output layer"
        ):
            cost = (
                "dZ = dAL, ∂L/∂AL not multiplied by σ′(z)"
                if spec.loss == "bce"
                else "δ = a − y, the cross-entropy cost's delta, where the quadratic cost's "
                "(a − y)·σ′(z) was due"
            )
            m = replace(m, mistake=f"{m.mistake} ({cost})")
        found.append(m)
    return found


def _cost_mutants(case: Case) -> list[NetworkMutant]:
    """At a sigmoid output under cross-entropy, whose delta is AL − Y: the quadratic
    cost's delta (AL − Y)·σ′(z), i.e. σ′ applied once more (dAL = AL − Y, then the
    sigmoid's backward)."""
    spec = case.spec
    if spec.output != "sigmoid" or spec.loss != "bce":
        return []
    cache = forward(spec, case.params, case.X)

    def twice(layer: int, act: Activation, z: Array, f: Array) -> Array:
        derivative = act.df(z, f)
        return np.asarray(derivative * derivative if layer == spec.depth else derivative)

    with np.errstate(all="ignore"):
        grads = backward(spec, case.params, cache, case.y, derivative=twice)
    mistake = (
        "the quadratic cost's output delta (AL − Y)·σ′(z) where cross-entropy's AL − Y was "
        "due (dAL = AL − Y, then the sigmoid's backward)"
    )
    return [NetworkMutant(Label.WRONG_ACTIVATION_DERIVATIVE, mistake, grads)]


def _weights(case: Case, transpose: bool, column: bool = False) -> tuple[list[Array], list[Array]]:
    depth = case.spec.depth
    W = [case.params[f"W{i}"].T if transpose else case.params[f"W{i}"] for i in range(1, depth + 1)]
    b = [
        case.params[f"b{i}"][:, None] if column else case.params[f"b{i}"]
        for i in range(1, depth + 1)
    ]
    return [np.array(w) for w in W], [np.array(v) for v in b]


class _SingleFunction(NetworkCheck):
    """A convention with one entry point, which a custom assignment may rename and whose
    network it may narrow (``bounds`` keywords replaced)."""

    function = "backprop"

    def __init__(self, function: str | None = None, **narrow: Any) -> None:
        if function is not None:
            self.function = function
        losses = narrow.pop("losses", None)
        if losses is not None:  # keep the loss's own output layer: narrow, never mix
            self.bounds = tuple(b for b in self.bounds if set(b["losses"]) & set(losses))
            if not self.bounds:
                raise GradcheckError(f"no loss of {losses} suits this convention")
        if narrow:
            self.bounds = tuple({**bounds, **narrow} for bounds in self.bounds)

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.function

    @property
    def entry_points(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.function,)


class TwoLayerCheck(_SingleFunction):
    bounds = (
        {
            "min_depth": 2,
            "max_depth": 2,
            "activations": ["sigmoid"],
            "output_activations": ["identity"],
            "losses": ["mse"],
            "reductions": ["sum"],
        },
    )
    _keys = ("w1", "b1", "w2", "b2")

    def _arguments(self, case: Case) -> tuple[Array, Array, dict[str, Array], dict[str, Array]]:
        (w1, w2), (b1, b2) = _weights(case, transpose=True)
        return case.X, case.y, {"w1": w1, "w2": w2}, {"b1": b1, "b2": b2}

    def call(self, sandbox: Sandbox, case: Case) -> tuple[Any, tuple[str, ...]]:
        result = sandbox.call(self.function, *self._arguments(case))
        return result.value, result.mutated

    def read(self, case: Case, raw: Any) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise ContractError(
                Label.BAD_RETURN,
                f"{self.function} returned a {type(raw).__name__}; "
                "expected a dict with keys w1, b1, w2, b2",
            )
        return {key: raw[key] for key in self._keys if key in raw}

    def convert(
        self, case: Case, tensors: Mapping[str, Array], *, scale: bool = True
    ) -> dict[str, Array]:
        return {
            "w1": tensors["W1"].T,
            "b1": tensors["b1"],
            "w2": tensors["W2"].T,
            "b2": tensors["b2"],
        }

    def snippet(self, case: Case, *, source: str = "submission.py") -> str:
        X, y, w, b = self._arguments(case)
        return (
            f"import numpy as np\n{import_line(source, [self.function])}\n"
            f"X = {literal(X)}\ny = {literal(y)}\n"
            f"weights = {{'w1': {literal(w['w1'])}, 'w2': {literal(w['w2'])}}}\n"
            f"biases = {{'b1': {literal(b['b1'])}, 'b2': {literal(b['b2'])}}}\n"
            f"print({self.function}(X, y, weights, biases))"
        )

    def inputs(self, case: Case) -> dict[str, Any]:
        X, y, w, b = self._arguments(case)
        return {
            "X": X.tolist(),
            "y": y.tolist(),
            "weights": {k: v.tolist() for k, v in w.items()},
            "biases": {k: v.tolist() for k, v in b.items()},
        }


class DeepMLPCheck(_SingleFunction):
    bounds = tuple(
        {
            "min_depth": 1,
            "max_depth": 4,
            "activations": ["sigmoid", "tanh", "relu", "leaky_relu"],
            "output_activations": [output],
            "losses": [loss],
            "reductions": ["mean"],
        }
        for loss, output in (("mse", "identity"), ("bce", "sigmoid"))
    )

    def _arguments(self, case: Case) -> tuple[Array, Array, list[Array], list[Array], str, str]:
        W, b = _weights(case, transpose=True)
        return case.X, case.y, W, b, case.spec.hidden, case.spec.loss

    def call(self, sandbox: Sandbox, case: Case) -> tuple[Any, tuple[str, ...]]:
        result = sandbox.call(self.function, *self._arguments(case))
        return result.value, result.mutated

    def read(self, case: Case, raw: Any) -> dict[str, Any]:
        depth = case.spec.depth
        dW, db = _sequence(raw, 2, f"{self.function}'s return value (dW, db)")
        dW, db = _sequence(dW, depth, "dW"), _sequence(db, depth, "db")
        return {
            **{f"dW[{i}]": dW[i] for i in range(depth)},
            **{f"db[{i}]": db[i] for i in range(depth)},
        }

    def convert(
        self, case: Case, tensors: Mapping[str, Array], *, scale: bool = True
    ) -> dict[str, Array]:
        # bce is the mean over the outputs too, which the core's losses do not divide by.
        k = 1.0 / case.spec.widths[-1] if scale and case.spec.loss == "bce" else 1.0
        depth = case.spec.depth
        out = {f"dW[{i}]": tensors[f"W{i + 1}"].T * k for i in range(depth)}
        out.update({f"db[{i}]": tensors[f"b{i + 1}"] * k for i in range(depth)})
        return {name: (v.astype(bool) if not scale else v) for name, v in out.items()}

    def snippet(self, case: Case, *, source: str = "submission.py") -> str:
        X, y, W, b, activation, loss = self._arguments(case)
        return (
            f"import numpy as np\n{import_line(source, [self.function])}\n"
            f"X = {literal(X)}\ny = {literal(y)}\n"
            f"weights = [{', '.join(literal(w) for w in W)}]\n"
            f"biases = [{', '.join(literal(v) for v in b)}]\n"
            f"print({self.function}(X, y, weights, biases, {activation!r}, {loss!r}))"
        )

    def inputs(self, case: Case) -> dict[str, Any]:
        X, y, W, b, activation, loss = self._arguments(case)
        return {
            "X": X.tolist(),
            "y": y.tolist(),
            "weights": [w.tolist() for w in W],
            "biases": [v.tolist() for v in b],
            "activation": activation,
            "loss": loss,
        }


class CourseraCheck(NetworkCheck):
    """The course's column-major L-layer network: ``forward(X, parameters) -> (AL, caches)``
    and ``backward(AL, Y, caches) -> grads``, ReLU hidden layers and, as in the course, one
    sigmoid output unit (``AL`` of shape (1, m)). The entry-point names, the output width
    and the output activations drawn can be set (an assignment's TOML does)."""

    name = "L_model_backward"
    bounds: Sequence[Mapping[str, Any]] = (
        {
            "min_depth": 1,
            "max_depth": 4,
            "activations": ["relu"],
            "output_activations": ["sigmoid"],
            "losses": ["bce"],
            "reductions": ["mean"],
            "output_width": 1,
        },
    )

    def __init__(
        self,
        forward: str = "L_model_forward",
        backward: str = "L_model_backward",
        *,
        output_width: int | None = 1,
        output_activations: Sequence[str] = ("sigmoid",),
    ) -> None:
        self.forward, self.backward = forward, backward
        self.name = backward
        self.entry_points = (forward, backward)
        self.bounds = tuple(
            {**b, "output_width": output_width, "output_activations": list(output_activations)}
            for b in CourseraCheck.bounds
        )

    def _arguments(self, case: Case) -> tuple[Array, dict[str, Array], Array]:
        W, b = _weights(case, transpose=False, column=True)
        parameters = {}
        for i in range(case.spec.depth):
            parameters[f"W{i + 1}"], parameters[f"b{i + 1}"] = W[i], b[i]
        return np.array(case.X.T), parameters, np.array(case.y.T)

    def call(self, sandbox: Sandbox, case: Case) -> tuple[Any, tuple[str, ...]]:
        X, parameters, Y = self._arguments(case)
        forward_result = sandbox.call(self.forward, X, parameters, store="forward")
        value = forward_result.value
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise ContractError(Label.BAD_RETURN, f"{self.forward} must return (AL, caches)")
        backward_result = sandbox.call(self.backward, Ref("forward")[0], Y, Ref("forward")[1])
        return {
            "AL": value[0],
            "grads": backward_result.value,
        }, forward_result.mutated + backward_result.mutated

    def read(self, case: Case, raw: Any) -> dict[str, Any]:
        grads = raw["grads"]
        if not isinstance(grads, dict):
            raise ContractError(
                Label.BAD_RETURN,
                f"{self.backward} returned a {type(grads).__name__}; expected a dict dW1, db1, …",
            )
        keys = [f"{p}{i}" for i in range(1, case.spec.depth + 1) for p in ("dW", "db")]
        return {"AL": raw["AL"], **{key: grads[key] for key in keys if key in grads}}

    def convert(
        self, case: Case, tensors: Mapping[str, Array], *, scale: bool = True
    ) -> dict[str, Array]:
        out: dict[str, Array] = {}
        for i in range(1, case.spec.depth + 1):
            out[f"dW{i}"], out[f"db{i}"] = tensors[f"W{i}"], tensors[f"b{i}"][:, None]
        return out

    def forward_outputs(self, case: Case) -> dict[str, tuple[Array, Array]]:
        cache = forward(case.spec, case.params, case.X)
        depth = case.spec.depth
        terms = np.abs(cache.activations[depth - 1]) @ np.abs(case.params[f"W{depth}"]).T
        bound = 1.0 + terms + np.abs(case.params[f"b{depth}"])
        return {"AL": (cache.output.T, bound.T)}

    def snippet(self, case: Case, *, source: str = "submission.py") -> str:
        X, parameters, Y = self._arguments(case)
        items = ", ".join(f"{k!r}: {literal(v)}" for k, v in parameters.items())
        return (
            f"import numpy as np\n{import_line(source, [self.forward, self.backward])}\n"
            f"X = {literal(X)}\nY = {literal(Y)}\nparameters = {{{items}}}\n"
            f"AL, caches = {self.forward}(X, parameters)\n"
            f"print({self.backward}(AL, Y, caches))"
        )

    def inputs(self, case: Case) -> dict[str, Any]:
        X, parameters, Y = self._arguments(case)
        return {
            "X": X.tolist(),
            "Y": Y.tolist(),
            "parameters": {k: v.tolist() for k, v in parameters.items()},
        }


class NielsenCheck(NetworkCheck):
    name = "Network.backprop"
    entry_points = ("Network",)
    batch = (1, 1)
    bounds = (
        {
            "min_depth": 1,
            "max_depth": 4,
            "activations": ["sigmoid"],
            "output_activations": ["sigmoid"],
            "losses": ["mse"],
            "reductions": ["sum"],
        },
    )

    def _arguments(self, case: Case) -> tuple[list[int], list[Array], list[Array], Array, Array]:
        W, b = _weights(case, transpose=False, column=True)
        return list(case.spec.widths), W, b, np.array(case.X.T), np.array(case.y.T)

    def call(self, sandbox: Sandbox, case: Case) -> tuple[Any, tuple[str, ...]]:
        sizes, W, b, x, y = self._arguments(case)
        sandbox.call("Network", sizes, store="net")
        sandbox.setattr("net", "weights", W)
        sandbox.setattr("net", "biases", b)
        result = sandbox.call("backprop", x, y, on="net")
        return result.value, result.mutated

    def read(self, case: Case, raw: Any) -> dict[str, Any]:
        depth = case.spec.depth
        nabla_b, nabla_w = _sequence(raw, 2, "backprop's return value (nabla_b, nabla_w)")
        nabla_b, nabla_w = (
            _sequence(nabla_b, depth, "nabla_b"),
            _sequence(nabla_w, depth, "nabla_w"),
        )
        return {
            **{f"nabla_w[{i}]": nabla_w[i] for i in range(depth)},
            **{f"nabla_b[{i}]": nabla_b[i] for i in range(depth)},
        }

    def convert(
        self, case: Case, tensors: Mapping[str, Array], *, scale: bool = True
    ) -> dict[str, Array]:
        depth = case.spec.depth
        out = {f"nabla_w[{i}]": tensors[f"W{i + 1}"] for i in range(depth)}
        out.update({f"nabla_b[{i}]": tensors[f"b{i + 1}"][:, None] for i in range(depth)})
        return out

    def snippet(self, case: Case, *, source: str = "submission.py") -> str:
        sizes, W, b, x, y = self._arguments(case)
        return (
            f"import numpy as np\n{import_line(source, ['Network'])}\n"
            f"net = Network({sizes!r})\n"
            f"net.weights = [{', '.join(literal(w) for w in W)}]\n"
            f"net.biases = [{', '.join(literal(v) for v in b)}]\n"
            f"print(net.backprop({literal(x)}, {literal(y)}))"
        )

    def inputs(self, case: Case) -> dict[str, Any]:
        sizes, W, b, x, y = self._arguments(case)
        return {
            "sizes": sizes,
            "weights": [w.tolist() for w in W],
            "biases": [v.tolist() for v in b],
            "x": x.tolist(),
            "y": y.tolist(),
        }
