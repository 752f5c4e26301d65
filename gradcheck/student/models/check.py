"""The one check that grades any model class declared in ``models.registry``.

A case draws an architecture, a batch and a seed, from which the parameters, X and y are
drawn uniformly (continuous values, so no pre-activation sits exactly on relu's kink and no
pooling window has a tie that matters). A trial constructs the class in the sandbox with
its keyword arguments (``dtype`` float64, the dropout ``seed``), a fresh object each time,
replaces its ``params`` with the drawn ones (the model's own random initialisation is never
used) and calls ``loss(X, y)``, then ``loss(X)`` (test mode: not with batchnorm, whose
running statistics a model keeps where it likes). What comes back is read as ``loss``,
``grads['W1']``, … and ``scores``, and compared with the reference model (``reference``).

Dropout: the reference replays the course's masks (``np.random.seed(seed)`` in every
dropout layer, then ``rand(N, H) < p``). Where the submission's own ``dropout_forward``
keeps other units for that seed (``masks``), the trial stands the reference's loss and
gradients in for its own (the test-mode scores are still compared), and ``trial_records``
compares them with the reference given the units its ``dropout_forward`` keeps, or, where
the loss still differs, with finite differences of its own loss; their engine names say
which. Every check also compares, on the input reported, the submission's gradients
with finite differences of its own loss (``consistency``), which tells a wrong backward
from a wrong forward.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import numpy as np
from hypothesis import strategies as st

from gradcheck.compare import Record
from gradcheck.errors import GradcheckError
from gradcheck.gradients import check_gradients
from gradcheck.student.contract import Check, ContractError, Expected, Mutant
from gradcheck.student.labels import Label
from gradcheck.student.models.declaration import Architecture, ModelDeclaration, ModelOptions
from gradcheck.student.models.masks import Masks, submission_masks
from gradcheck.student.models.mistakes import MISTAKES
from gradcheck.student.models.reference import CORRECT, Outcome, Variation, run_model
from gradcheck.student.networks import import_line, literal
from gradcheck.student.sandbox import CallFailed, CallResult, Sandbox
from gradcheck.student.trial import compare_with, conform

__all__ = ["ModelCase", "ModelCheck", "grad_name"]

Array = np.ndarray
_MODEL = "model"
_OWN_MASKS = "fd of submission loss (its dropout masks are not the seed's replay)"
_ADOPTED = "reference with the submission's own dropout masks"


def grad_name(param: str) -> str:
    """The name a returned gradient is reported under: ``grads['W1']``."""
    return f"grads[{param!r}]"


@dataclass(frozen=True)
class ModelCase:
    """One constructed model, its parameters, a batch X and its labels y. ``test_mode``:
    whether ``loss(X)`` is called too and its scores compared."""

    arch: Architecture
    params: Mapping[str, Array]
    X: Array
    y: Array
    test_mode: bool = True

    def describe(self) -> str:
        calls = "loss(X, y) and loss(X)" if self.test_mode else "loss(X, y)"
        return f"batch {self.X.shape[0]}, {self.arch.describe()}, {calls}"


def _random_case(
    arch: Architecture,
    param_shapes: Mapping[str, tuple[int, ...]],
    *,
    batch: int,
    test_mode: bool,
    seed: int,
) -> ModelCase:
    """Parameters of the size a trained model has (weights about 1/√fan-in, gamma near 1),
    X in ±2 and labels below the number of classes."""
    rng = np.random.default_rng(seed)
    params: dict[str, Array] = {}
    for name, shape in param_shapes.items():
        if name.startswith("gamma"):
            params[name] = rng.uniform(0.5, 1.5, shape)
        elif len(shape) > 1:
            fan_in = int(np.prod(shape[1:])) if len(shape) == 4 else shape[0]
            bound = 1.5 / np.sqrt(fan_in)
            params[name] = rng.uniform(-bound, bound, shape)
        else:
            params[name] = rng.uniform(-0.5, 0.5, shape)
    X = rng.uniform(-2.0, 2.0, (batch, *arch.input_shape))
    y = rng.integers(0, arch.num_classes, batch)
    return ModelCase(arch, params, X, y, test_mode)


def _pair(value: Any) -> tuple[Any, Any]:
    """``(loss, grads)`` from what ``loss(X, y)`` returned, or ContractError."""
    if not isinstance(value, list | tuple) or len(value) != 2:
        got = f"a {type(value).__name__}" + (
            f" of length {len(value)}" if isinstance(value, list | tuple) else ""
        )
        raise ContractError(Label.BAD_RETURN, f"loss(X, y) must return (loss, grads), got {got}")
    loss, grads = value
    if not isinstance(grads, dict):
        raise ContractError(
            Label.BAD_RETURN,
            f"the grads loss(X, y) returned are a {type(grads).__name__}, expected a dict "
            "keyed like params (W1, b1, …)",
        )
    return loss, grads


class ModelCheck(Check):
    """A model class's ``loss``: its scores, loss and every gradient, against the reference
    model and against finite differences of its own loss."""

    examples = 20  # a trial is four requests to the child, and it is made twice

    def __init__(self, declaration: ModelDeclaration, **options: Any) -> None:
        self.declaration = declaration
        self.options: ModelOptions = (
            declaration.defaults.narrow(**options) if options else declaration.defaults
        )

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"{self.declaration.name}.loss"

    @property
    def entry_points(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.declaration.name,)

    # Drawing ---------------------------------------------------------------------------
    @staticmethod
    def _test_mode(arch: Architecture) -> bool:
        """Test mode is checked except with batchnorm, whose test mode reads running
        statistics that a model keeps in no fixed place (the batchnorm check covers it)."""
        return arch.normalization != "batchnorm"

    def cases(self) -> st.SearchStrategy[ModelCase]:
        declaration = self.declaration

        @st.composite
        def draw_case(draw: st.DrawFn) -> ModelCase:
            arch = draw(declaration.architectures(self.options))
            batch = draw(st.integers(2 if arch.normalization == "batchnorm" else 1, 4))
            seed = draw(st.integers(0, 2**32 - 1))
            shapes = declaration.param_shapes(arch)
            return _random_case(
                arch, shapes, batch=batch, test_mode=self._test_mode(arch), seed=seed
            )

        return draw_case()

    def variant(self, case: ModelCase, seed: int) -> ModelCase:
        """The same model with fresh values and one more row in the batch."""
        shapes = self.declaration.param_shapes(case.arch)
        return _random_case(
            case.arch, shapes, batch=case.X.shape[0] + 1, test_mode=case.test_mode, seed=seed
        )

    # Calling ---------------------------------------------------------------------------
    def _construct(self, sandbox: Sandbox, arch: Architecture) -> None:
        kwargs = self.declaration.constructor(arch)
        try:
            sandbox.call(self.declaration.name, kwargs=kwargs, store=_MODEL)
        except CallFailed as failure:
            raise CallFailed(
                failure.label,
                f"constructing {self.declaration.name}({_arguments(kwargs)}) failed: "
                f"{failure.message}",
                failure.trace,
            ) from None

    def _loss(
        self, sandbox: Sandbox, case: ModelCase, params: Mapping[str, Array], *, train: bool
    ) -> CallResult:
        sandbox.setattr(_MODEL, "params", {k: np.array(v) for k, v in params.items()})
        args = (case.X, case.y) if train else (case.X,)
        return sandbox.call("loss", *args, on=_MODEL)

    def call(self, sandbox: Sandbox, case: ModelCase) -> tuple[Any, tuple[str, ...]]:
        """A fresh model with the case's params; ``loss(X, y)``, then ``loss(X)``."""
        self._construct(sandbox, case.arch)
        train = self._loss(sandbox, case, case.params, train=True)
        own = self._own_masks(sandbox, case) is not None
        raw: dict[str, Any] = {"value": train.value, "own_masks": own}
        mutated = train.mutated
        if case.test_mode:
            test = self._loss(sandbox, case, case.params, train=False)
            raw["scores"], mutated = test.value, mutated + test.mutated
        return raw, mutated

    def _own_masks(self, sandbox: Sandbox, case: ModelCase) -> Masks | None:
        arch = case.arch
        if not arch.dropout:
            return None
        shapes = [(case.X.shape[0], width) for width in arch.hidden_dims]
        return submission_masks(sandbox, shapes, arch.keep_ratio, arch.seed)

    def read(self, case: ModelCase, raw: Any) -> dict[str, Any]:
        values: dict[str, Any] = {}
        if "scores" in raw:
            values["scores"] = raw["scores"]
        loss, grads = _pair(raw["value"])
        returned = {"loss": loss, **{grad_name(k): v for k, v in grads.items()}}
        if raw.get("own_masks"):  # compared in trial_records, with the submission's masks
            reference = self._tensors(case, self.outcome(case), train_only=True)
            for name, value in returned.items():
                fits = name in reference and _well_formed(value, reference[name].shape)
                values[name] = reference[name] if fits else value
            return values
        values.update(returned)
        return values

    # The reference ---------------------------------------------------------------------
    def outcome(
        self,
        case: ModelCase,
        variation: Variation = CORRECT,
        masks: Masks | None = None,
    ) -> Outcome:
        """The reference's loss and gradients, and its test-mode scores; with ``masks``
        (by the shape of a dropout layer's input) train mode keeps those units."""
        d = self.declaration
        regularised = [n for n in case.params if d.regularised(n)]
        run = partial(
            run_model,
            d.layers(case.arch),
            case.params,
            case.X,
            reg=case.arch.reg,
            regularised=regularised,
            variation=variation,
        )
        kept = (
            None
            if masks is None
            else {k: np.asarray(v) != 0 for k, v in masks.items() if v is not None}
        )
        train = run(case.y, masks=kept)
        return replace(train, scores=run(None).scores)

    def _tensors(
        self, case: ModelCase, outcome: Outcome, *, train_only: bool = False
    ) -> dict[str, Array]:
        assert outcome.loss is not None and outcome.grads is not None
        tensors = {"loss": np.asarray(outcome.loss)}
        tensors.update({grad_name(k): v for k, v in outcome.grads.items()})
        if case.test_mode and not train_only:
            tensors["scores"] = outcome.scores
        return tensors

    def expected(self, case: ModelCase) -> Expected:
        return self._expected(case, self.outcome(case))

    def _expected(self, case: ModelCase, outcome: Outcome, *, train_only: bool = False) -> Expected:
        """The tensors of ``outcome``, every gradient with the bound on its summed terms."""
        tensors = self._tensors(case, outcome, train_only=train_only)
        rounding = {
            n: np.full(t.shape, outcome.terms) for n, t in tensors.items() if n.startswith("grads")
        }
        return Expected(tensors, rounding, batch=case.X.shape[0])

    def mutants(self, case: ModelCase) -> list[Mutant]:
        return [
            Mutant(m.label, m.what, self._tensors(case, self.outcome(case, m.variation)))
            for m in MISTAKES
            if m.applies(case.arch)
        ]

    def references(self, case: ModelCase) -> tuple[Record, ...]:
        """The reference model's gradients against finite differences of its own loss."""

        def train(params: dict[str, Array]) -> Outcome:
            d = self.declaration
            regularised = [n for n in params if d.regularised(n)]
            return run_model(
                d.layers(case.arch),
                params,
                case.X,
                case.y,
                reg=case.arch.reg,
                regularised=regularised,
            )

        def loss_fn(params: dict[str, Array]) -> float:
            loss = train(params).loss
            assert loss is not None
            return loss

        def grad_fn(params: dict[str, Array]) -> dict[str, Array]:
            grads = train(params).grads
            assert grads is not None
            return dict(grads)

        result = check_gradients(loss_fn, grad_fn, dict(case.params), mode="probe", seed=0)
        return tuple(
            replace(
                r, tensor=grad_name(r.tensor), engine_a="reference", engine_b="fd of reference loss"
            )
            for r in result.records
        )

    # The submission against its own loss -------------------------------------------------
    def consistency(self, sandbox: Sandbox, case: ModelCase) -> tuple[Record, ...]:
        return self._own_records(sandbox, case, "fd of submission loss")

    def trial_records(self, sandbox: Sandbox, case: ModelCase) -> tuple[Record, ...]:
        """Where the submission's dropout keeps other units than the seed's replay: its
        loss and gradients against the reference with its own masks in place (the units
        its ``dropout_forward`` keeps on ones), and, where the loss differs (it draws its
        masks some other way still, or its forward is wrong), against finite differences of
        its own loss."""
        masks = self._own_masks(sandbox, case)
        if masks is None:
            return ()
        own = self._expected(case, self.outcome(case, masks=masks), train_only=True)
        try:
            self._construct(sandbox, case.arch)
            loss, grads = _pair(self._loss(sandbox, case, case.params, train=True).value)
        except (CallFailed, ContractError):
            return ()  # the trial already reports what is wrong with the calls themselves
        returned = {"loss": loss, **{grad_name(k): v for k, v in grads.items()}}
        tensors, _ = conform(own.tensors, returned)  # the trial reports the problems
        records = tuple(replace(r, engine_b=_ADOPTED) for r in compare_with(own, tensors))
        if all(r.verdict != "fail" for r in records if r.tensor == "loss"):
            return records  # its masks are the model's: the loss agrees
        return self._own_records(sandbox, case, _OWN_MASKS)

    def _own_records(self, sandbox: Sandbox, case: ModelCase, engine: str) -> tuple[Record, ...]:
        try:
            self._construct(sandbox, case.arch)
        except CallFailed:
            return ()

        def returned(params: dict[str, Array]) -> tuple[Any, Any]:
            return _pair(self._loss(sandbox, case, params, train=True).value)

        def loss_fn(params: dict[str, Array]) -> float:
            return float(np.asarray(returned(params)[0], dtype=np.float64))

        def grad_fn(params: dict[str, Array]) -> dict[str, Array]:
            grads = returned(params)[1]
            return {n: np.asarray(grads[n], dtype=np.float64) for n in params}

        try:
            result = check_gradients(loss_fn, grad_fn, dict(case.params), mode="probe", seed=0)
        except (GradcheckError, CallFailed, ContractError, TypeError, ValueError, KeyError):
            return ()  # the trial already reports what is wrong with the calls themselves
        return tuple(
            replace(r, tensor=grad_name(r.tensor), engine_a="submission grads", engine_b=engine)
            for r in result.records
        )

    # Reporting -------------------------------------------------------------------------
    def inputs(self, case: ModelCase) -> dict[str, Any]:
        data: dict[str, Any] = {
            "constructor": _jsonable(self.declaration.constructor(case.arch)),
            "params": {k: v.tolist() for k, v in case.params.items()},
            "X": case.X.tolist(),
            "y": case.y.tolist(),
        }
        return data

    def value_label(self, case: ModelCase, tensor: str) -> Label | None:
        """A wrong loss or test-mode scores is a wrong forward; gradients are measured."""
        return Label.WRONG_FORWARD if tensor in ("loss", "scores") else None

    def snippet(self, case: ModelCase, *, source: str = "submission.py") -> str:
        name = self.declaration.name
        kwargs = self.declaration.constructor(case.arch)
        params = ", ".join(f"{k!r}: {literal(v)}" for k, v in case.params.items())
        lines = [
            "import numpy as np",
            import_line(source, [name]),
            f"model = {name}({_arguments(kwargs)})",
            f"model.params = {{{params}}}",
            f"X = {literal(case.X)}",
            f"y = {literal(case.y)}",
            "print(model.loss(X, y))",
        ]
        if case.test_mode:
            lines.append("print(model.loss(X))")
        return "\n".join(lines)


def _well_formed(value: Any, shape: tuple[int, ...]) -> bool:
    """A finite real array of ``shape``: what the trial would compare."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return not np.iscomplexobj(value) and array.shape == shape and bool(np.all(np.isfinite(array)))


def _arguments(kwargs: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}=np.{v}" if k == "dtype" else f"{k}={v!r}" for k, v in kwargs.items())


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value
