"""The object behind the pytest fixture ``gradcheck``.

    def test_affine(gradcheck):
        gradcheck.assert_layer(affine_forward, affine_backward, {"x": x, "w": w, "b": b})

    def test_my_function(gradcheck):
        gradcheck.assert_torch(MyFunction.apply, (x, w))   # or assert_jax(f, (x, w))

Each ``assert_*`` method runs a check, adds its summary to the test's ledger (which the
plugin turns into the session report), and raises :class:`GradientAssertionError`, naming
the tensor, the index and both values, when the check fails. With a baseline, a passing check
is also compared with its recorded gradients (or recorded, in update mode). Settings come,
in order of precedence, from the call's keywords, the test's ``@pytest.mark.gradcheck``
and the command line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from gradcheck.baseline.drift import Drift, compare_to_baseline
from gradcheck.baseline.store import Baseline, BaselineEntry, fingerprint
from gradcheck.errors import GradcheckError
from gradcheck.options import CheckOptions
from gradcheck.testing.session import CheckSummary, TestChecks

__all__ = [
    "BaselineSession",
    "CheckSettings",
    "GradcheckFixture",
    "GradientAssertionError",
    "drift_summary",
]

Array = np.ndarray


class GradientAssertionError(AssertionError):
    """A gradient check failed; the message names each failing tensor, index and values."""


@dataclass(frozen=True)
class CheckSettings(CheckOptions):
    """What a check does when its caller does not say: the options of ``check_gradients``
    (:class:`gradcheck.options.CheckOptions`) and the engines of ``assert_case``."""

    engines: tuple[Any, ...] = ("core", "fd")  # names, or Engine objects

    def merged(self, overrides: Mapping[str, Any], where: str) -> CheckSettings:
        known = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            names = ", ".join(sorted(known))
            raise GradcheckError(
                f"{where}: unknown gradcheck setting {unknown[0]!r} (known: {names})"
            )
        values = {k: v for k, v in overrides.items() if v is not None}
        if "engines" in values:
            values["engines"] = tuple(values["engines"])
        return replace(self, **values)


@dataclass
class BaselineSession:
    """The baseline a session checks against, or records into (``update``)."""

    path: str
    baseline: Baseline
    update: bool = False


class GradcheckFixture:
    """``gradcheck.assert_gradients``, ``assert_layer``, ``assert_torch``, ``assert_jax`` and
    ``assert_case`` for one test."""

    def __init__(
        self,
        ledger: TestChecks,
        settings: CheckSettings,
        *,
        baseline: BaselineSession | None = None,
    ) -> None:
        self.baseline = baseline
        self.begin(ledger, settings)

    def begin(self, ledger: TestChecks, settings: CheckSettings) -> None:
        """Start a new test: a fresh ledger, its settings, no labels used yet. (The plugin's
        fixture is one object per session, so that Hypothesis tests can use it.)"""
        self.ledger = ledger
        self.settings = settings
        self.recorded: list[BaselineEntry] = []
        self.unrecorded: list[str] = []
        self._labels: dict[str, int] = {}

    # The checks ----------------------------------------------------------------------------
    def assert_gradients(
        self,
        loss_fn: Callable[[dict[str, Array]], object],
        grad_fn: Callable[[dict[str, Array]], Mapping[str, object]],
        params: Mapping[str, object],
        *,
        label: str | None = None,
        **settings: Any,
    ) -> Any:
        """Fail unless ``grad_fn(params)`` matches numerical derivatives of ``loss_fn``."""
        __tracebackhide__ = True
        from gradcheck.gradients import check_gradients

        chosen = self.settings.merged(settings, "assert_gradients")
        name = self._label(label or _name_of(loss_fn, "assert_gradients"))
        result = check_gradients(loss_fn, grad_fn, params, **chosen.keywords())
        self._conclude(name, "gradients", "grad_fn", result, params)
        return result

    def assert_layer(
        self,
        forward: Callable[..., tuple[Any, Any]],
        backward: Callable[[Array, Any], Any],
        inputs: Mapping[str, Any],
        *,
        wrt: Sequence[str] | None = None,
        dout: Array | None = None,
        label: str | None = None,
        **settings: Any,
    ) -> Any:
        """Fail unless ``backward(dout, cache)`` matches numerical derivatives of
        Σ forward(*inputs)[0] ⊙ dout (see :func:`gradcheck.check_layer`)."""
        __tracebackhide__ = True
        from gradcheck.layer_check import check_layer

        chosen = self.settings.merged(settings, "assert_layer")
        name = self._label(label or _name_of(forward, "assert_layer"))
        result = check_layer(forward, backward, inputs, wrt=wrt, dout=dout, **chosen.keywords())
        checked = {k: inputs[k] for k in result.gradients}
        self._conclude(name, "layer", "backward", result, checked)
        return result

    def assert_torch(
        self,
        fn: Callable[..., Any],
        inputs: Any,
        *,
        order: int = 1,
        modes: Sequence[str] = ("rev", "fwd"),
        nondet_tol: float = 0.0,
        label: str | None = None,
        **settings: Any,
    ) -> Any:
        """Fail unless ``fn``'s VJP (and JVP, where it has one) match numerical derivatives
        of its forward (:func:`gradcheck.torch.check`)."""
        __tracebackhide__ = True
        from gradcheck.torch import check

        chosen = self.settings.merged(settings, "assert_torch")
        name = self._label(label or _name_of(fn, "assert_torch"))
        result = check(
            fn, inputs, order=order, modes=modes, nondet_tol=nondet_tol, **_framework(chosen)
        )
        self._conclude(name, "torch", "autograd", result, result.gradients)
        return result

    def assert_jax(
        self,
        f: Callable[..., Any],
        args: Any,
        *,
        order: int = 1,
        modes: Sequence[str] = ("fwd", "rev"),
        label: str | None = None,
        **settings: Any,
    ) -> Any:
        """Fail unless ``f``'s JAX derivatives (``jax.vjp`` and ``jax.jvp``, custom rules
        included) match numerical derivatives of ``f`` (:func:`gradcheck.jax.check`)."""
        __tracebackhide__ = True
        from gradcheck.jax import check

        chosen = self.settings.merged(settings, "assert_jax")
        name = self._label(label or _name_of(f, "assert_jax"))
        keywords = _framework(chosen)
        keywords.pop("method")
        keywords.pop("probes")
        result = check(f, args, order=order, modes=modes, **keywords)
        self._conclude(name, "jax", "jax", result, result.gradients)
        return result

    def assert_case(
        self, case: Any, engines: Sequence[Any] | None = None, *, label: str | None = None
    ) -> Any:
        """Fail unless every pair of ``engines`` agrees on ``case`` (``check_case``)."""
        __tracebackhide__ = True
        from gradcheck.check import check_case, describe_failures

        chosen = self.settings.merged({"engines": engines}, "assert_case")
        name = self._label(label or f"case {case.spec.to_text()}")
        result = check_case(case, chosen.engines)
        notes = [f"engine {run.engine} raised {run.error}" for run in result.errors]
        summary = CheckSummary.from_records(
            name,
            "case",
            result.verdict,
            f"{', '.join(_engine_name(e) for e in chosen.engines)} on {case.describe()}",
            result.records,
            evaluations=result.evaluations,
            notes=notes,
        )
        self.ledger.add(summary)
        if result.verdict == "fail":
            raise GradientAssertionError(f"gradcheck: {describe_failures(result)}")
        return result

    # Shared steps ----------------------------------------------------------------------------
    def _label(self, base: str) -> str:
        count = self._labels[base] = self._labels.get(base, 0) + 1
        return base if count == 1 else f"{base}#{count}"

    def _conclude(
        self, name: str, kind: str, analytic: str, result: Any, inputs: Mapping[str, object]
    ) -> None:
        __tracebackhide__ = True
        detail = f"{result.mode} mode, {result.method.replace('_', ' ')}, seed {result.seed}"
        summary = CheckSummary.from_records(
            name,
            kind,
            result.verdict,
            detail,
            result.records,
            evaluations=result.evaluations,
            notes=result.notes,
        )
        summary = replace(
            summary,
            tensors=tuple(
                replace(t, engine_a=analytic, engine_b=t.engine_b.replace("_", " "))
                for t in summary.tensors
            ),
        )
        self.ledger.add(summary)
        if result.verdict == "fail":
            raise GradientAssertionError(_failure_message(name, summary, result))
        self._against_baseline(name, float(result.meta.get("loss", 0.0)), result, inputs)

    def _against_baseline(
        self, name: str, loss: float, result: Any, inputs: Mapping[str, object]
    ) -> None:
        __tracebackhide__ = True
        if self.baseline is None or _inside_hypothesis():
            return  # Hypothesis draws new inputs each run: there is nothing fixed to record
        key = f"{self.ledger.test}::{name}"
        grads = {k: np.array(v) for k, v in result.gradients.items()}
        inputs_print = fingerprint({k: np.asarray(v) for k, v in inputs.items()})
        if self.baseline.update:
            source = {"kind": "test", "test": self.ledger.test, "label": name}
            self.recorded.append(BaselineEntry(key, source, loss, grads, inputs_print))
            return
        entry = self.baseline.baseline.get(key)
        if entry is None:
            self.unrecorded.append(key)
            return
        drift = compare_to_baseline(entry, loss, grads, inputs_print)
        self.ledger.add(drift_summary(name, drift))
        if drift.verdict == "fail":
            raise GradientAssertionError(
                f"gradcheck: {drift.describe()}\n  baseline: {self.baseline.path} (re-record "
                "it with --gradcheck-baseline-update if the change is intended)"
            )


def drift_summary(name: str, drift: Drift) -> CheckSummary:
    """A baseline comparison as a check of kind ``baseline``."""
    summary = CheckSummary.from_records(
        name, "baseline", drift.verdict, "against the recorded gradients", drift.records
    )
    return replace(summary, notes=drift.problems)


def _failure_message(name: str, summary: CheckSummary, result: Any) -> str:
    failing = [t for t in summary.tensors if t.verdict == "fail"]
    tensors = ", ".join(t.tensor for t in failing)
    lines = [f"gradcheck: wrong gradient for {tensors} in {name!r} ({summary.detail})"]
    lines.extend(f"  {t.describe()}" for t in failing)
    if not failing and result.localisation is None:
        lines.append("  a random direction disagreed; no single entry was named")
    lines.extend(f"  note: {note}" for note in summary.notes)
    return "\n".join(lines)


def _framework(settings: CheckSettings) -> dict[str, Any]:
    """The settings a torch or JAX check takes (mode, seed, method, probes, rtol, atol)."""
    keywords = settings.keywords()
    return {k: keywords[k] for k in ("mode", "seed", "method", "probes", "rtol", "atol")}


def _name_of(function: object, default: str) -> str:
    name = str(getattr(function, "__name__", ""))
    return name if name.isidentifier() else default


def _engine_name(engine: Any) -> str:
    return engine if isinstance(engine, str) else str(getattr(engine, "name", engine))


def _inside_hypothesis() -> bool:
    try:
        from hypothesis import currently_in_test_context
    except ImportError:  # pragma: no cover - Hypothesis is a dependency
        return False
    return bool(currently_in_test_context())
