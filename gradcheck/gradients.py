"""``check_gradients``: verify any user's gradient function against numerical derivatives.

    result = check_gradients(loss_fn, grad_fn, params, mode="auto", seed=0)

``loss_fn(params) -> float`` and ``grad_fn(params) -> dict`` take a dict of name →
ndarray. The loss is evaluated in float64 (float32 parameters are widened exactly), and
its derivatives are taken by complex step when ``loss_fn`` accepts complex input and
verifiably returns the analytic continuation, else by Richardson central differences
(``numeric.complex_step``). Then:

* ``mode="full"`` checks every entry (1 evaluation each by complex step, 4 by central
  differences);
* ``mode="probe"`` checks K random directions and a few entries of every tensor, and
  bisects a failing direction to the entry at fault (``numeric.probes``);
* ``mode="auto"`` is full up to ``FULL_LIMIT`` parameters, probes beyond.

This module only orchestrates; the numerics live in ``gradcheck.numeric``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from gradcheck.compare import (
    Record,
    Verdict,
    compare_tensor,
    entry_ratios,
    largest_finite,
    overall_verdict,
)
from gradcheck.errors import DTypeError, GradcheckError, NonFiniteError, ShapeError
from gradcheck.numeric.complex_step import complex_support
from gradcheck.numeric.directional import (
    CentralOracle,
    ComplexStepOracle,
    Directional,
    Oracle,
    scaled,
)
from gradcheck.numeric.evaluator import Evaluator, LossFunctionError
from gradcheck.numeric.noise import noise_along_random_direction
from gradcheck.numeric.probes import (
    Localisation,
    ProbeOutcome,
    Prober,
    ProbeSettings,
    coordinate_probes,
    random_directions,
)
from gradcheck.numeric.steps import Tolerance
from gradcheck.options import CheckOptions, Method, Mode

__all__ = [
    "FULL_LIMIT",
    "GradientCheck",
    "Method",
    "Mode",
    "check_gradients",
    "check_with_options",
]

Array = np.ndarray
FULL_LIMIT = 2048
ANALYTIC = "grad_fn"


@dataclass(frozen=True)
class GradientCheck:
    """The verdict of ``check_gradients`` and the evidence for it.

    ``records`` holds one Record per parameter tensor (the worst entry checked, both values
    there, the errors, the error bar and the kink count). ``probes`` lists every probe in
    probe mode, and ``localisation`` says where bisection found a failing direction's
    error. ``evaluations`` counts calls of ``loss_fn``. ``gradients`` holds what ``grad_fn``
    returned, as checked.
    """

    verdict: Verdict
    records: tuple[Record, ...]
    mode: Literal["full", "probe"]
    method: Literal["complex_step", "central"]
    seed: int
    evaluations: int
    tolerance: Tolerance
    probes: tuple[ProbeOutcome, ...] = ()
    localisation: Localisation | None = None
    notes: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)
    gradients: Mapping[str, Array] = field(default_factory=dict, repr=False)

    @property
    def failures(self) -> tuple[Record, ...]:
        return tuple(r for r in self.records if r.verdict == "fail")

    def summary(self) -> str:
        """One line per failing tensor: the tensor, the index and both values."""
        lines = [f"{self.verdict} ({self.mode} mode, {self.method}, seed {self.seed})"]
        lines.extend(f"  {r.describe()}" for r in self.failures)
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)


def check_gradients(
    loss_fn: Callable[[dict[str, Array]], object],
    grad_fn: Callable[[dict[str, Array]], Mapping[str, object]],
    params: Mapping[str, object],
    *,
    mode: Mode = "auto",
    seed: int = 0,
    method: Method = "auto",
    probes: ProbeSettings | None = None,
    rtol: float | None = None,
    atol: float | None = None,
) -> GradientCheck:
    """Check ``grad_fn`` against numerical derivatives of ``loss_fn`` at ``params``.

    An entry passes when |g − n| ≤ 4·e + rtol·|n| + atol·s, with e the numerical estimate's
    error bar and s the largest gradient entry of all tensors; ``rtol`` and ``atol`` default
    to 64 ulps of float64, or 1024 of float32 (``numeric.steps.black_box_tolerance``). The
    keywords are those of :class:`gradcheck.options.CheckOptions`.
    """
    options = CheckOptions(mode=mode, seed=seed, method=method, probes=probes, rtol=rtol, atol=atol)
    return check_with_options(loss_fn, grad_fn, params, options)


def check_with_options(
    loss_fn: Callable[[dict[str, Array]], object],
    grad_fn: Callable[[dict[str, Array]], Mapping[str, object]],
    params: Mapping[str, object],
    options: CheckOptions,
) -> GradientCheck:
    """``check_gradients`` with its keywords gathered in ``options``."""
    point = _validate_params(params)
    grads = _call_grad_fn(grad_fn, point)
    size = sum(p.size for p in point.values())
    chosen = _mode_for(options.mode, size)
    evaluator = Evaluator(loss_fn)
    wide = {name: value.astype(np.float64) for name, value in point.items()}
    loss = evaluator(wide)
    noise = noise_along_random_direction(evaluator, wide, seed=options.seed)
    central = CentralOracle(evaluator, wide, loss, noise)
    rng = np.random.default_rng(options.seed)
    tolerance = options.tolerance(np.result_type(*grads.values()))
    scale = max((largest_finite(g) for g in grads.values()), default=0.0)

    settings = options.probe_settings()
    directions, first, first_d = _first_direction(central, grads, tolerance, scale, settings, rng)
    oracle, used, notes = _choose_method(options.method, central, first_d)
    prober = Prober(oracle, grads, tolerance, scale, confirm=central)
    found: tuple[ProbeOutcome, ...] = ()
    where = None
    if chosen == "full":
        records = _full(prober, wide)
    else:
        found, where = _probe(prober, wide, settings, rng, directions, first, first_d)
        records = _probe_records(prober, found, where)
    probe_failed = any(p.verdict == "fail" for p in found)
    return GradientCheck(
        verdict="fail" if probe_failed else overall_verdict([r.verdict for r in records]),
        records=records,
        mode=chosen,
        method=used,
        seed=options.seed,
        evaluations=evaluator.evaluations,
        tolerance=tolerance,
        probes=found,
        localisation=where,
        notes=notes,
        meta={"loss": loss, "noise": noise, "step": central.step, "parameters": size},
        gradients=grads,
    )


def _mode_for(mode: Mode, size: int) -> Literal["full", "probe"]:
    return "full" if mode == "full" or (mode == "auto" and size <= FULL_LIMIT) else "probe"


def _first_direction(
    central: CentralOracle,
    grads: dict[str, Array],
    tolerance: Tolerance,
    scale: float,
    settings: ProbeSettings,
    rng: np.random.Generator,
) -> tuple[list[dict[str, Array]], ProbeOutcome, Directional]:
    """One random direction, measured carefully, decides the method and calibrates the
    step's truncation error for the cheap estimates that follow."""
    directions = random_directions(central.params, ProbeSettings(max(1, settings.directions)), rng)
    first, first_d = Prober(central, grads, tolerance, scale).direction(directions[0], refine=True)
    central.calibrate(first_d)
    return directions, first, first_d


def _choose_method(
    method: Method, central: CentralOracle, reference: Directional
) -> tuple[Oracle, Literal["complex_step", "central"], tuple[str, ...]]:
    if method == "central":
        return central, "central", ()
    reason = complex_support(central, reference)
    if reason is None:
        return (
            ComplexStepOracle(central.evaluator, central.params, central.loss),
            "complex_step",
            (),
        )
    if method == "complex_step":
        raise LossFunctionError(f"complex step requested, but {reason}")
    return central, "central", (f"complex step not used: {reason}",)


def _full(prober: Prober, params: dict[str, Array]) -> tuple[Record, ...]:
    """Every entry of every tensor, then one Record per tensor. Entries that fail by complex
    step are asked whether they sit on a kink (``Prober.on_kink``) before they count."""
    oracle, tolerance = prober.oracle, prober.tolerance
    records = []
    for name, theta in params.items():
        numerical = np.zeros(theta.shape)
        bars = np.zeros(theta.shape)
        kinked = np.zeros(theta.shape, dtype=bool)
        directions = []
        for flat in range(theta.size):
            v = np.zeros(theta.shape)
            v.flat[flat] = 1.0
            direction = scaled(params, {name: v})
            d = oracle.refine(oracle.derivative(direction), direction)
            u = float(d.direction[name].flat[flat])
            numerical.flat[flat] = d.estimate / u
            bars.flat[flat] = d.error_bar / abs(u)
            kinked.flat[flat] = d.kinked
            directions.append((direction, d))
        ratios = entry_ratios(
            prober.grads[name],
            numerical,
            tolerance=tolerance,
            error_bar=bars,
            network_scale=prober.scale,
        )
        for entry in np.flatnonzero((ratios > 1) & ~kinked):
            direction, d = directions[entry]
            kinked.flat[entry] = prober.on_kink(direction, d)
        records.append(
            compare_tensor(
                name,
                prober.grads[name],
                numerical,
                tolerance=tolerance,
                engines=(ANALYTIC, oracle.method),
                error_bar=bars,
                skip=kinked,
                network_scale=prober.scale,
            )
        )
    return tuple(records)


def _probe(
    prober: Prober,
    params: dict[str, Array],
    settings: ProbeSettings,
    rng: np.random.Generator,
    directions: list[dict[str, Array]],
    first: ProbeOutcome,
    first_d: Directional,
) -> tuple[tuple[ProbeOutcome, ...], Localisation | None]:
    """Directions first (stopping at the first confirmed failure), then coordinate samples;
    a failing direction is bisected unless a failing coordinate already names the entry."""
    outcomes: list[ProbeOutcome] = []
    failing = None
    for k, v in enumerate(directions[: settings.directions]):
        if k == 0 and prober.oracle.method == "central":
            outcome, d = first, first_d
        else:
            outcome, d = prober.direction(v)
        outcomes.append(outcome)
        if outcome.verdict == "fail":  # confirmed: the remaining directions can add nothing
            failing = (len(outcomes) - 1, v, d)
            break
    coordinates = [
        prober.coordinate(name, index, v)
        for name, index, v in coordinate_probes(params, settings, rng)
    ]
    outcomes.extend(coordinates)
    where = None
    if failing is not None and not any(c.verdict == "fail" for c in coordinates):
        position, v, d = failing
        where = _localise_past_kinks(prober, v, d)
        if where is None:  # the direction's whole mismatch came from kinks
            outcomes[position] = replace(outcomes[position], verdict="inconclusive")
    return tuple(outcomes), where


def _localise_past_kinks(
    prober: Prober, v: dict[str, Array], d: Directional, attempts: int = 3
) -> Localisation | None:
    """Bisect v; if the entry found sits on a kink, take it out of v and look again, as long
    as what is left still fails. None when the failure is explained by kinks alone."""
    v = {name: np.array(part) for name, part in v.items()}
    for _ in range(attempts):
        where = prober.localise(v, d)
        if not where.kinked:
            return where
        v[where.tensor].flat[where.flat] = 0.0
        outcome, d = prober.direction(v, refine=True)
        if outcome.verdict != "fail":
            return None
    return None


def _probe_records(
    prober: Prober, outcomes: tuple[ProbeOutcome, ...], where: Localisation | None
) -> tuple[Record, ...]:
    """Per tensor: the localised entry if bisection ended there, else its worst coordinate."""
    coordinates = [c for c in outcomes if c.kind == "coordinate"]
    records = []
    for name, g in prober.grads.items():
        verdict: Verdict
        mine = [c for c in coordinates if c.tensor == name]
        if where is not None and where.tensor == name:
            values = (where.analytic, where.numerical, where.error_bar, where.allowed)
            index, verdict, ratio = where.index, "fail", where.ratio
        elif mine:
            worst = max(mine, key=lambda c: c.ratio if c.verdict != "inconclusive" else -1.0)
            s = worst.scale
            values = (
                worst.analytic / s,
                worst.numerical / s,
                worst.error_bar / abs(s),
                worst.allowed / abs(s),
            )
            index, verdict, ratio = worst.index or (), worst.verdict, worst.ratio
            if all(c.verdict == "inconclusive" for c in mine):
                verdict = "inconclusive"
        else:
            continue
        analytic, numerical, bar, allowed = values
        diff = abs(analytic - numerical)
        records.append(
            Record(
                engine_a=ANALYTIC,
                engine_b=prober.oracle.method,
                tensor=name,
                shape=tuple(g.shape),
                index=tuple(index),
                value_a=analytic,
                value_b=numerical,
                abs_err=diff,
                rel_err=diff / max(abs(analytic), abs(numerical)) if diff else 0.0,
                error_bar=bar,
                allowed=allowed,
                ratio=ratio,
                checked=len(mine),
                kink_entries=sum(c.verdict == "inconclusive" for c in mine),
                tolerance=prober.tolerance,
                verdict=verdict,
            )
        )
    return tuple(records)


def _validate_params(params: Mapping[str, object]) -> dict[str, Array]:
    if not isinstance(params, Mapping) or not params:
        raise ShapeError("params must be a non-empty dict of name → array")
    point = {}
    for name, value in params.items():
        array = np.asarray(value)
        if not np.issubdtype(array.dtype, np.floating):
            raise DTypeError(f"params[{name!r}] must be a float array, got dtype {array.dtype}")
        if not np.all(np.isfinite(array)):
            raise NonFiniteError(f"params[{name!r}] contains NaN or Inf")
        point[str(name)] = array
    return point


def _call_grad_fn(
    grad_fn: Callable[[dict[str, Array]], Mapping[str, object]], point: dict[str, Array]
) -> dict[str, Array]:
    try:
        raw = grad_fn({name: value.copy() for name, value in point.items()})
    except Exception as error:
        raise GradcheckError(f"grad_fn raised {type(error).__name__}: {error}") from error
    if not isinstance(raw, Mapping):
        raise GradcheckError(
            f"grad_fn must return a dict of name → array, got {type(raw).__name__}"
        )
    missing, extra = set(point) - set(raw), set(raw) - set(point)
    if missing or extra:
        raise ShapeError(
            f"grad_fn returned gradients for {sorted(map(str, raw))}, expected {sorted(point)}"
        )
    grads = {}
    for name, value in point.items():
        grad = np.asarray(raw[name])
        if grad.shape != value.shape:
            raise ShapeError(f"grad_fn's {name} has shape {grad.shape}, expected {value.shape}")
        if not np.issubdtype(grad.dtype, np.floating):
            raise DTypeError(f"grad_fn's {name} must be a float array, got dtype {grad.dtype}")
        grads[name] = grad
    return grads
