"""The one check that runs any :class:`~gradcheck.student.catalogue.spec.LayerFunction`.

A case draws the sizes, every input, every config and the upstream gradients. A trial calls
the submission's forward in the sandbox with the inputs and configs in call order (the
configs with ``state`` may be updated in place, and come back), then its backward with the
upstream gradients and the cache the forward returned, which never leaves the child. What
comes back is read under the function's own names (``out``, ``bn_param['running_mean']``,
``dx``, ``dgamma``) and compared with the reference, entry by entry.

A function declared without a reference is compared, on every trial, with finite
differences of the submission's own forward instead (``trial_records``); a catalogue
function gets that comparison once, on the input that is reported (``consistency``), which
tells a wrong forward from a wrong backward.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gradcheck.compare import Record
from gradcheck.errors import GradcheckError
from gradcheck.gradients import check_gradients
from gradcheck.student.catalogue.spec import Input, LayerFunction, Sizes, Values
from gradcheck.student.contract import Check, ContractError, Expected, Mutant
from gradcheck.student.labels import Label
from gradcheck.student.networks import import_line, literal
from gradcheck.student.sandbox import CallFailed, Ref, Sandbox

__all__ = ["DEFAULT_EXAMPLES", "FunctionCase", "FunctionCheck"]

Array = np.ndarray
_FORWARD_SLOT = "forward"
# Inputs searched per layer function: a layer's mistakes are in its formula, which shows on
# almost any input, and its edges (kinks, ties, a batch of one) are drawn on purpose; a whole
# course file grades 15 to 20 of them, so each gets fewer than a whole network does.
DEFAULT_EXAMPLES = 20


@dataclass(frozen=True)
class FunctionCase:
    """The sizes, the named inputs and configs, and the upstream gradient of each output."""

    sizes: Mapping[str, int]
    values: Mapping[str, Any]
    douts: Mapping[str, Array]
    batch_size: str = "N"
    # What the reference takes from the submission's own run (a dropout mask it drew
    # another valid way): passed to the reference, never to the submission.
    adopted: Mapping[str, Any] = field(default_factory=dict)

    @property
    def reference_values(self) -> dict[str, Any]:
        return {**self.values, **self.adopted}

    @property
    def batch(self) -> int:
        return int(self.sizes.get(self.batch_size, 1))

    def describe(self) -> str:
        parts = []
        for name, value in self.values.items():
            if isinstance(value, np.ndarray):
                parts.append(f"{name} of shape {value.shape}")
            else:
                parts.append(f"{name} = {_short(value)}")
        return ", ".join(parts)


def _short(value: Any) -> str:
    if isinstance(value, dict):
        inner = ", ".join(f"{k!r}: {_short(v)}" for k, v in value.items())
        return "{" + inner + "}"
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape}"
    return repr(value)


def _array(spec: Input, sizes: Sizes) -> st.SearchStrategy[Array]:
    shape = spec.resolve(sizes)
    if spec.domain in ("labels", "index"):
        high = sizes[spec.high] if spec.high is not None else 2
        return arrays(np.int64, shape, elements=st.integers(0, max(0, high - 1)))
    if spec.domain == "mask":
        return arrays(np.bool_, shape, elements=st.booleans())
    low = 0.1 if spec.domain == "positive" else -spec.bound
    floats = st.floats(low, spec.bound, allow_subnormal=False, allow_nan=False)
    return arrays(np.float64, shape, elements=floats, unique=spec.domain == "distinct")


def _random_array(spec: Input, sizes: Sizes, rng: np.random.Generator) -> Array:
    shape = spec.resolve(sizes)
    if spec.domain in ("labels", "index"):
        high = sizes[spec.high] if spec.high is not None else 2
        return rng.integers(0, max(1, high), shape)
    if spec.domain == "mask":
        return rng.random(shape) < 0.7
    low = 0.1 if spec.domain == "positive" else -spec.bound
    return rng.uniform(low, spec.bound, shape)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value.copy()
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


def _source(value: Any) -> str:
    """Python source that evaluates to ``value`` (arrays exactly, dicts of them)."""
    if isinstance(value, np.ndarray):
        return literal(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_source(v)}" for k, v in value.items()) + "}"
    return repr(value)


class FunctionCheck(Check):
    """Any layer function of the catalogue, or one declared in an assignment's TOML."""

    def __init__(self, function: LayerFunction) -> None:
        self.function = function

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.function.name

    @property
    def entry_points(self) -> tuple[str, ...]:  # type: ignore[override]
        return self.function.entry_points

    @property
    def examples(self) -> int | None:  # type: ignore[override]
        return self.function.examples or DEFAULT_EXAMPLES

    # Drawing ---------------------------------------------------------------------------
    def cases(self) -> st.SearchStrategy[FunctionCase]:
        fn = self.function

        @st.composite
        def draw_case(draw: st.DrawFn) -> FunctionCase:
            sizes = draw(fn.sizes())
            values: dict[str, Any] = {i.name: draw(_array(i, sizes)) for i in fn.inputs}
            values.update({c.name: draw(c.build(sizes)) for c in fn.configs})
            floats = st.floats(-3.0, 3.0, allow_subnormal=False)
            douts = {
                f"d{o.name}": draw(arrays(np.float64, o.resolve(sizes), elements=floats))
                for o in fn.outputs
            }
            return FunctionCase(sizes, values, self._douts(values, douts), fn.batch)

        return draw_case()

    def _douts(self, values: Values, douts: dict[str, Array]) -> dict[str, Array]:
        return douts if self._calls_backward(values) else {}

    def _calls_backward(self, values: Values) -> bool:
        fn = self.function
        return fn.backward is not None and (fn.backward_when is None or fn.backward_when(values))

    def _has_gradients(self, case: FunctionCase) -> bool:
        """Whether the case asks for gradients: a loss always, a layer when it calls the
        backward."""
        return self.function.backward is None or bool(case.douts)

    def variant(self, case: FunctionCase, seed: int) -> FunctionCase:
        """Fresh random inputs with one more row in the batch; the same configs."""
        rng = np.random.default_rng(seed)
        fn = self.function
        sizes = dict(case.sizes)
        if fn.batch in sizes:
            sizes[fn.batch] += 1
        values: dict[str, Any] = {i.name: _random_array(i, sizes, rng) for i in fn.inputs}
        values.update({c.name: _copy(case.values[c.name]) for c in fn.configs})
        douts = {f"d{o.name}": rng.uniform(-3, 3, o.resolve(sizes)) for o in fn.outputs}
        return FunctionCase(sizes, values, self._douts(values, douts), fn.batch)

    # Calling ---------------------------------------------------------------------------
    def _arguments(self, case: FunctionCase) -> tuple[list[Any], list[int]]:
        """The forward's arguments in call order, fresh copies; the positions of the
        configs it is meant to update."""
        stateful = {c.name for c in self.function.configs if c.state}
        order = self.function.call_order
        return [_copy(case.values[n]) for n in order], [
            i for i, n in enumerate(order) if n in stateful
        ]

    def call(self, sandbox: Sandbox, case: FunctionCase) -> tuple[Any, tuple[str, ...]]:
        fn = self.function
        args, report = self._arguments(case)
        forward = sandbox.call(fn.forward, *args, store=_FORWARD_SLOT, report=report)
        raw: dict[str, Any] = {"forward": forward.value, "state": forward.reported}
        mutated = forward.mutated
        if self._calls_backward(case.values):
            assert fn.backward is not None
            douts = [case.douts[f"d{o.name}"] for o in fn.outputs]
            if fn.cache:
                self._split(forward.value, len(fn.outputs) + 1, fn.forward, "(out, cache)")
                rest: list[Any] = [Ref(_FORWARD_SLOT)[len(fn.outputs)]]
            else:
                rest = self._arguments(case)[0]
            backward = sandbox.call(fn.backward, *douts, *rest)
            raw["backward"] = backward.value
            mutated = mutated + backward.mutated
        return raw, mutated

    @staticmethod
    def _split(value: Any, length: int, what: str, shape: str) -> tuple[Any, ...]:
        if length == 1 and not isinstance(value, list | tuple):
            return (value,)
        if not isinstance(value, list | tuple) or len(value) != length:
            got = (
                f"{type(value).__name__} of length {len(value)}"
                if isinstance(value, list | tuple)
                else type(value).__name__
            )
            raise ContractError(Label.BAD_RETURN, f"{what} must return {shape}, got a {got}")
        return tuple(value)

    def read(self, case: FunctionCase, raw: Any) -> dict[str, Any]:
        fn = self.function
        outputs = [o.name for o in fn.outputs]
        if fn.backward is None:
            shape = "(" + ", ".join([*outputs, *fn.grads]) + ")"
            returned = self._split(raw["forward"], len(outputs) + len(fn.grads), fn.forward, shape)
            return dict(zip([*outputs, *fn.grads], returned, strict=True))
        names = [*outputs, "cache"] if fn.cache else outputs
        shape = names[0] if len(names) == 1 else "(" + ", ".join(names) + ")"
        forward = self._split(raw["forward"], len(names), fn.forward, shape)
        values: dict[str, Any] = dict(zip(outputs, forward, strict=False))
        values.update(self._state(raw.get("state", [])))
        if "backward" in raw:
            grads = ", ".join(fn.grads)
            shape = grads if len(fn.grads) == 1 else f"({grads})"
            returned = self._split(raw["backward"], len(fn.grads), fn.backward or "", shape)
            values.update(zip(fn.grads, returned, strict=True))
        return values

    def _state(self, reported: list[Any]) -> dict[str, Any]:
        configs = [c for c in self.function.configs if c.state]
        found: dict[str, Any] = {}
        for config, after in zip(configs, reported, strict=False):
            for key in config.state:
                if not isinstance(after, dict) or key not in after:
                    raise ContractError(
                        Label.WRONG_MODE,
                        f"{config.name} has no {key!r} after the forward: the running "
                        "statistics must be stored back into it",
                    )
                found[config.state_name(key)] = after[key]
        return found

    # The reference ---------------------------------------------------------------------
    def reference_tensors(self, case: FunctionCase) -> dict[str, Array]:
        reference = self.function.reference
        if reference is None:
            return {}
        values = {k: _copy(v) for k, v in case.reference_values.items()}
        tensors = dict(reference.forward(values))
        if self._has_gradients(case):
            tensors.update(reference.backward(values, case.douts))
        return {k: np.asarray(v, dtype=np.float64) for k, v in tensors.items()}

    def expected(self, case: FunctionCase) -> Expected:
        tensors = self.reference_tensors(case)
        reference = self.function.reference
        skip: dict[str, Array] = {}
        rounding: dict[str, Array] = {}
        if reference is not None and reference.skip is not None:
            skip = {k: v for k, v in reference.skip(case.reference_values).items() if k in tensors}
        if reference is not None and reference.rounding is not None:
            bounds = reference.rounding(case.reference_values, case.douts)
            rounding = {k: np.asarray(v, np.float64) for k, v in bounds.items() if k in tensors}
        return Expected(tensors, rounding, skip, batch=case.batch)

    def adopt(self, case: FunctionCase, values: Mapping[str, Any]) -> FunctionCase:
        """The case with the submission's own valid random choice adopted by the reference
        (``Reference.adopt``), or ``case`` itself."""
        reference = self.function.reference
        if reference is None or reference.adopt is None:
            return case
        try:
            outputs = {
                o.name: np.asarray(values[o.name], dtype=np.float64)
                for o in self.function.outputs
                if o.name in values
            }
            adopted = reference.adopt(case.values, outputs)
        except (TypeError, ValueError):  # an output that is not an array: conform says so
            return case
        if adopted is case.values:
            return case
        extra = {k: v for k, v in adopted.items() if k not in case.values}
        return replace(case, adopted=extra)

    def mutants(self, case: FunctionCase) -> list[Mutant]:
        reference = self.function.reference
        if reference is None or reference.mutants is None:
            return []
        base = self.reference_tensors(case)
        return [
            Mutant(label, mistake, {**base, **changed})
            for label, mistake, changed in reference.mutants(case.reference_values, case.douts)
        ]

    def references(self, case: FunctionCase) -> tuple[Record, ...]:
        """The reference's gradients against finite differences of the reference forward."""
        reference = self.function.reference
        if reference is None or not self._has_gradients(case):
            return ()

        def loss_fn(params: dict[str, Array]) -> float:
            return self._objective(reference.forward({**case.reference_values, **params}), case)

        def grad_fn(params: dict[str, Array]) -> dict[str, Array]:
            grads = reference.backward({**case.reference_values, **params}, case.douts)
            return {name: np.asarray(grads[f"d{name}"]) for name in params}

        result = check_gradients(loss_fn, grad_fn, self._wrt(case), mode="full")
        return tuple(
            replace(r, engine_a="reference", engine_b="fd of reference forward")
            for r in result.records
        )

    def _wrt(self, case: FunctionCase) -> dict[str, Array]:
        names = [self.function.wrt(g) for g in self.function.grads]
        return {n: np.asarray(case.values[n], dtype=np.float64) for n in names}

    def _objective(self, outputs: Mapping[str, Any], case: FunctionCase) -> float:
        """⟨douts, outputs⟩, or the loss itself for a function without a backward."""
        fn = self.function
        if fn.backward is None:
            return float(np.asarray(outputs[fn.outputs[0].name], dtype=np.float64))
        return float(
            sum(
                np.sum(np.asarray(outputs[o.name], dtype=np.float64) * case.douts[f"d{o.name}"])
                for o in fn.outputs
            )
        )

    # The submission against its own forward ----------------------------------------------
    def consistency(self, sandbox: Sandbox, case: FunctionCase) -> tuple[Record, ...]:
        """The submission's gradients against finite differences (probes) of its own forward."""
        fn = self.function
        if not self._has_gradients(case):
            return ()

        def loss_fn(params: dict[str, Array]) -> float:
            args, report = self._arguments(FunctionCase(case.sizes, {**case.values, **params}, {}))
            out = sandbox.call(fn.forward, *args, report=report).value
            count = len(fn.outputs) + (int(fn.cache) if fn.backward else len(fn.grads))
            returned = self._split(out, count, fn.forward, "its outputs")
            return self._objective(
                dict(zip([o.name for o in fn.outputs], returned, strict=False)), case
            )

        def grad_fn(params: dict[str, Array]) -> dict[str, Array]:
            trial = FunctionCase(case.sizes, {**case.values, **params}, case.douts)
            raw, _ = self.call(sandbox, trial)
            read = self.read(trial, raw)
            return {n: np.asarray(read[f"d{n}"], dtype=np.float64) for n in params}

        try:
            result = check_gradients(loss_fn, grad_fn, self._wrt(case), mode="probe", seed=0)
        except (GradcheckError, CallFailed, ContractError, TypeError, ValueError, KeyError):
            return ()  # the trial already reports what is wrong with the calls themselves
        return tuple(
            replace(
                r,
                tensor=f"d{r.tensor}",
                engine_a="submission backward",
                engine_b="fd of submission forward",
            )
            for r in result.records
        )

    def value_label(self, case: FunctionCase, tensor: str) -> Label | None:
        """A wrong running statistic, or a wrong output in test mode, is ``wrong_mode``; any
        other wrong output is ``wrong_forward``."""
        fn = self.function
        if any(tensor == c.state_name(k) for c in fn.configs for k in c.state):
            return Label.WRONG_MODE
        if tensor not in {o.name for o in fn.outputs}:
            return None
        test_mode = any(
            isinstance(v, dict) and v.get("mode") == "test" for v in case.values.values()
        )
        return Label.WRONG_MODE if test_mode else Label.WRONG_FORWARD

    def trial_records(self, sandbox: Sandbox, case: FunctionCase) -> tuple[Record, ...]:
        """For a function without a reference, the comparison every trial makes."""
        return () if self.function.reference is not None else self.consistency(sandbox, case)

    # Reporting -------------------------------------------------------------------------
    def inputs(self, case: FunctionCase) -> dict[str, Any]:
        data = {name: _jsonable(value) for name, value in case.values.items()}
        data.update({name: value.tolist() for name, value in case.douts.items()})
        return data

    def snippet(self, case: FunctionCase, *, source: str = "submission.py") -> str:
        fn = self.function
        names = [n for n in fn.entry_points]
        lines = ["import numpy as np", import_line(source, names)]
        lines += [f"{name} = {_source(value)}" for name, value in case.values.items()]
        args = ", ".join(fn.call_order)
        if fn.backward is None:
            lines.append(f"print({fn.forward}({args}))")
            return "\n".join(lines)
        outputs = [o.name for o in fn.outputs]
        returned = [*outputs, "cache"] if fn.cache else outputs
        rest = "cache" if fn.cache else args
        lines.append(f"{', '.join(returned)} = {fn.forward}({args})")
        if case.douts:
            lines += [f"{name} = {literal(value)}" for name, value in case.douts.items()]
            call = f"{fn.backward}({', '.join(case.douts)}, {rest})"
            lines.append(f"print({', '.join(outputs)}, {call})")
        else:
            lines.append(f"print({', '.join(outputs)})")
        return "\n".join(lines)
