"""Checks of modular layers in the widely taught ``(out, cache)`` / ``backward(dout, cache)``
style: affine, relu, sigmoid and tanh layers, and the softmax and MSE losses.

Each check calls the forward function, then the backward function with the cache the
forward returned (it stays in the child) and a random upstream gradient. The reference is
written with the core's registries; it is itself checked against finite differences of the
reference forward, and against torch, on the inputs that are reported.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gradcheck.compare import Record
from gradcheck.errors import GradcheckError
from gradcheck.gradients import check_gradients
from gradcheck.nn.activations import ACTIVATIONS
from gradcheck.nn.losses import LOSSES
from gradcheck.student.contract import Check, ContractError, Expected, Mutant
from gradcheck.student.labels import Label
from gradcheck.student.networks import import_line, literal
from gradcheck.student.sandbox import CallFailed, Ref, Sandbox

__all__ = ["ActivationLayerCheck", "AffineCheck", "LayerCase", "LossCheck", "layer_checks"]

Array = np.ndarray


@dataclass(frozen=True)
class LayerCase:
    """Named inputs of one layer call; ``dout`` is the upstream gradient (absent for losses)."""

    inputs: Mapping[str, Array]
    dout: Array | None = None

    @property
    def batch(self) -> int:
        return int(self.inputs["x"].shape[0])

    def describe(self) -> str:
        return ", ".join(f"{name} of shape {value.shape}" for name, value in self.inputs.items())


def _values(shape: tuple[int, ...], bound: float = 3.0) -> st.SearchStrategy[Array]:
    return arrays(np.float64, shape, elements=st.floats(-bound, bound, allow_subnormal=False))


def _random(rng: np.random.Generator, shape: tuple[int, ...], bound: float = 3.0) -> Array:
    return rng.uniform(-bound, bound, shape)


def _pair(raw: Any, what: str) -> tuple[Any, Any]:
    if not isinstance(raw, list | tuple) or len(raw) != 2:
        raise ContractError(
            Label.BAD_RETURN, f"{what} must return a pair, got a {type(raw).__name__}"
        )
    return raw[0], raw[1]


class _LayerCheck(Check):
    layer = ""
    forward = ""
    backward = ""

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.layer

    @property
    def entry_points(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.forward, self.backward)

    def call(self, sandbox: Sandbox, case: LayerCase) -> tuple[Any, tuple[str, ...]]:
        forward = sandbox.call(self.forward, *case.inputs.values(), store="forward")
        _pair(forward.value, self.forward)
        backward = sandbox.call(self.backward, case.dout, Ref("forward")[1])
        return {
            "out": forward.value[0],
            "grads": backward.value,
        }, forward.mutated + backward.mutated

    def snippet(self, case: LayerCase, *, source: str = "submission.py") -> str:
        names = ", ".join(case.inputs)
        lines = ["import numpy as np", import_line(source, [self.forward, self.backward])]
        lines += [f"{name} = {literal(value)}" for name, value in case.inputs.items()]
        lines += [f"dout = {literal(case.dout)}", f"out, cache = {self.forward}({names})"]
        lines.append(f"print(out, {self.backward}(dout, cache))")
        return "\n".join(lines)

    def inputs(self, case: LayerCase) -> dict[str, Any]:
        data = {name: value.tolist() for name, value in case.inputs.items()}
        if case.dout is not None:
            data["dout"] = case.dout.tolist()
        return data

    def consistency(self, sandbox: Sandbox, case: LayerCase) -> tuple[Record, ...]:
        """check_gradients (probe mode) on ⟨dout, forward(inputs)⟩ through the sandbox, with
        the submission's backward as the gradient: its own forward and backward must agree."""
        wrt = {name: value for name, value in case.inputs.items() if name != "y"}

        def loss_fn(params: dict[str, Array]) -> float:
            out = sandbox.call(self.forward, *{**case.inputs, **params}.values()).value
            value = out[0] if isinstance(out, list | tuple) else out
            if case.dout is None:
                return float(np.asarray(value, dtype=np.float64))
            return float(np.sum(np.asarray(value, dtype=np.float64) * case.dout))

        def grad_fn(params: dict[str, Array]) -> dict[str, Array]:
            raw, _ = self.call(sandbox, LayerCase({**case.inputs, **params}, case.dout))
            values = self.read(case, raw)
            return {name: np.asarray(values[f"d{name}"], dtype=np.float64) for name in params}

        try:
            result = check_gradients(loss_fn, grad_fn, wrt, mode="probe", seed=0)
        except (GradcheckError, CallFailed, ContractError, TypeError, ValueError, KeyError):
            return ()  # the trial already reports what is wrong with the calls themselves
        return tuple(
            replace(r, engine_a="submission backward", engine_b="fd of submission forward")
            for r in result.records
        )

    def reference_grads(self, case: LayerCase) -> dict[str, Array]:
        raise NotImplementedError

    def objective(self, case: LayerCase, inputs: Mapping[str, Array]) -> float:
        raise NotImplementedError

    def references(self, case: LayerCase) -> tuple[Record, ...]:
        wrt = {name: value for name, value in case.inputs.items() if name != "y"}

        def loss_fn(params: dict[str, Array]) -> float:
            return self.objective(case, {**case.inputs, **params})

        def grad_fn(params: dict[str, Array]) -> dict[str, Array]:
            grads = self.reference_grads(LayerCase({**case.inputs, **params}, case.dout))
            return {name: grads[f"d{name}"] for name in params}

        records = [
            replace(r, engine_a="reference", engine_b="fd of reference forward")
            for r in check_gradients(loss_fn, grad_fn, wrt, mode="full").records
        ]
        if importlib.util.find_spec("torch") is not None:
            from gradcheck.compare import compare_tensor
            from gradcheck.numeric.steps import TOLERANCES
            from reference_impls.torch_layers import layer_grads

            ours = self.reference_grads(case)
            for name, value in layer_grads(self.layer, case.inputs, case.dout).items():
                records.append(
                    compare_tensor(
                        name,
                        ours[name],
                        value,
                        tolerance=TOLERANCES[("float64", "analytic")],
                        engines=("reference", "torch"),
                    )
                )
        return tuple(records)


class AffineCheck(_LayerCheck):
    layer, forward, backward = "affine", "affine_forward", "affine_backward"

    @st.composite
    def _cases(draw: st.DrawFn) -> LayerCase:  # type: ignore[misc]
        n = draw(st.integers(1, 4))
        dims = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
        m = draw(st.integers(1, 4))
        d = int(np.prod(dims))
        x = draw(_values((n, *dims)))
        w = draw(_values((d, m), 2.0))
        b = draw(_values((m,), 1.0))
        return LayerCase({"x": x, "w": w, "b": b}, draw(_values((n, m))))

    def cases(self) -> st.SearchStrategy[LayerCase]:
        return AffineCheck._cases()  # type: ignore[no-any-return]

    def read(self, case: LayerCase, raw: Any) -> dict[str, Any]:
        grads = raw["grads"]
        if not isinstance(grads, list | tuple) or len(grads) != 3:
            raise ContractError(Label.BAD_RETURN, "affine_backward must return (dx, dw, db)")
        return {"out": raw["out"], "dx": grads[0], "dw": grads[1], "db": grads[2]}

    def reference_grads(self, case: LayerCase) -> dict[str, Array]:
        x, w = case.inputs["x"], case.inputs["w"]
        dout = case.dout
        assert dout is not None
        flat = x.reshape(x.shape[0], -1)
        return {"dx": (dout @ w.T).reshape(x.shape), "dw": flat.T @ dout, "db": dout.sum(axis=0)}

    def objective(self, case: LayerCase, inputs: Mapping[str, Array]) -> float:
        x = inputs["x"]
        out = x.reshape(x.shape[0], -1) @ inputs["w"] + inputs["b"]
        return float(np.sum(out * case.dout))

    def expected(self, case: LayerCase) -> Expected:
        x, w, b = (case.inputs[k] for k in ("x", "w", "b"))
        dout = case.dout
        assert dout is not None
        flat = x.reshape(x.shape[0], -1)
        tensors = {"out": flat @ w + b, **self.reference_grads(case)}
        rounding = {
            "out": np.abs(flat) @ np.abs(w) + np.abs(b),
            "dx": (np.abs(dout) @ np.abs(w).T).reshape(x.shape),
            "dw": np.abs(flat).T @ np.abs(dout),
            "db": np.abs(dout).sum(axis=0),
        }
        return Expected(tensors, rounding, batch=case.batch)

    def variant(self, case: LayerCase, seed: int) -> LayerCase:
        rng = np.random.default_rng(seed)
        x = case.inputs["x"]
        n, m = x.shape[0] + 1, case.inputs["w"].shape[1]
        return LayerCase(
            {
                "x": _random(rng, (n, *x.shape[1:])),
                "w": _random(rng, case.inputs["w"].shape, 2.0),
                "b": _random(rng, (m,), 1.0),
            },
            _random(rng, (n, m)),
        )


class ActivationLayerCheck(_LayerCheck):
    def __init__(self, activation: str) -> None:
        self.layer = activation
        self.forward, self.backward = f"{activation}_forward", f"{activation}_backward"
        self.activation = ACTIVATIONS.get(activation)

    def cases(self) -> st.SearchStrategy[LayerCase]:
        shapes = st.tuples(st.integers(1, 4), st.integers(1, 4))
        return shapes.flatmap(
            lambda shape: st.builds(
                lambda x, d: LayerCase({"x": x}, d), _values(shape), _values(shape)
            )
        )

    def read(self, case: LayerCase, raw: Any) -> dict[str, Any]:
        return {"out": raw["out"], "dx": raw["grads"]}

    def _derivative(self, x: Array) -> Array:
        return self.activation.df(x, self.activation.f(x))

    def reference_grads(self, case: LayerCase) -> dict[str, Array]:
        return {"dx": case.dout * self._derivative(case.inputs["x"])}

    def objective(self, case: LayerCase, inputs: Mapping[str, Array]) -> float:
        return float(np.sum(self.activation.f(inputs["x"]) * case.dout))

    def expected(self, case: LayerCase) -> Expected:
        x = case.inputs["x"]
        tensors = {"out": self.activation.f(x), **self.reference_grads(case)}
        assert case.dout is not None
        rounding = {"out": 1.0 + np.abs(x), "dx": 4.0 * np.abs(case.dout)}
        skip = {"dx": np.isin(x, self.activation.kinks)}  # either one-sided derivative is fine
        return Expected(tensors, rounding, skip, batch=case.batch)

    def mutants(self, case: LayerCase) -> list[Mutant]:
        x, dout = case.inputs["x"], case.dout
        assert dout is not None
        out = self.activation.f(x)
        found = [
            Mutant(
                Label.MISSING_ACTIVATION_DERIVATIVE,
                f"{self.layer}′ left out",
                {"out": out, "dx": dout.copy()},
            ),
            Mutant(
                Label.WRONG_ACTIVATION_DERIVATIVE,
                f"{self.layer}′ taken at the activation, f′(f(x))",
                {"out": out, "dx": dout * self._derivative(out)},
            ),
        ]
        if self.activation.df_of_output is not None:
            found.append(
                Mutant(
                    Label.WRONG_ACTIVATION_DERIVATIVE,
                    f"{self.layer}′ written for a = f(x) but applied to x",
                    {"out": out, "dx": dout * self.activation.df_of_output(x)},
                )
            )
        return found

    def variant(self, case: LayerCase, seed: int) -> LayerCase:
        rng = np.random.default_rng(seed)
        shape = (case.batch + 1, *case.inputs["x"].shape[1:])
        return LayerCase({"x": _random(rng, shape)}, _random(rng, shape))


class LossCheck(_LayerCheck):
    """``softmax_loss(x, y)`` and ``mse_loss(x, y)``: (loss, dx), the mean over the batch."""

    def __init__(self, function: str, loss: str) -> None:
        self.layer = self.forward = function
        self.loss = LOSSES.get(loss)

    @property
    def entry_points(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.forward,)

    def cases(self) -> st.SearchStrategy[LayerCase]:
        labels = self.loss.target == "labels"

        @st.composite
        def draw_case(draw: st.DrawFn) -> LayerCase:
            n, c = draw(st.integers(1, 5)), draw(st.integers(2 if labels else 1, 5))
            x = draw(_values((n, c)))
            y = draw(
                arrays(np.int64, (n,), elements=st.integers(0, c - 1))
                if labels
                else _values((n, c))
            )
            return LayerCase({"x": x, "y": y})

        return draw_case()

    def call(self, sandbox: Sandbox, case: LayerCase) -> tuple[Any, tuple[str, ...]]:
        result = sandbox.call(self.forward, case.inputs["x"], case.inputs["y"])
        return result.value, result.mutated

    def read(self, case: LayerCase, raw: Any) -> dict[str, Any]:
        loss, dx = _pair(raw, self.forward)
        return {"loss": loss, "dx": dx}

    def reference_grads(self, case: LayerCase) -> dict[str, Array]:
        x, y = case.inputs["x"], case.inputs["y"]
        return {"dx": self.loss.grad(x, y) / case.batch}

    def objective(self, case: LayerCase, inputs: Mapping[str, Array]) -> float:
        x = inputs["x"]
        return float(self.loss.value(x, inputs["y"])) / x.shape[0]

    def expected(self, case: LayerCase) -> Expected:
        x = case.inputs["x"]
        loss = np.asarray(self.objective(case, case.inputs))
        dx = self.reference_grads(case)["dx"]
        rounding = {
            "loss": np.asarray(1.0 + np.sum(np.abs(x)) / case.batch),
            "dx": (2.0 + np.abs(x)) / case.batch,
        }
        return Expected({"loss": loss, "dx": dx}, rounding, batch=case.batch)

    def variant(self, case: LayerCase, seed: int) -> LayerCase:
        rng = np.random.default_rng(seed)
        x = case.inputs["x"]
        shape = (case.batch + 1, x.shape[1])
        if self.loss.target == "labels":
            y = rng.integers(0, shape[1], shape[0])
        else:
            y = _random(rng, shape)
        return LayerCase({"x": _random(rng, shape), "y": y})

    def snippet(self, case: LayerCase, *, source: str = "submission.py") -> str:
        x, y = case.inputs["x"], case.inputs["y"]
        return (
            f"import numpy as np\n{import_line(source, [self.forward])}\n"
            f"x = {literal(x)}\ny = {literal(y)}\nprint({self.forward}(x, y))"
        )


def layer_checks() -> tuple[Check, ...]:
    return (
        AffineCheck(),
        ActivationLayerCheck("relu"),
        ActivationLayerCheck("sigmoid"),
        ActivationLayerCheck("tanh"),
        LossCheck("softmax_loss", "softmax_ce"),
        LossCheck("mse_loss", "mse"),
    )
