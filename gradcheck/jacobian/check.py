"""``check_function``: a vector function's VJP and JVP against float64 numerical derivatives.

Full mode (up to ``FULL_LIMIT`` Jacobian entries) builds the whole Jacobian three ways: its
columns numerically (4 evaluations of the float64 forward per input entry, ``numerical``),
its rows by the VJP of each output entry's unit cotangent (reverse mode) and its columns by
the JVP of each input entry's unit tangent (forward mode). Every entry is compared, one
Record per (output, input) pair of tensors, named ``∂y/∂x`` with the output's index first.

Probe mode checks vᵀJ·u for random exact cotangents v and tangents u:

* reverse: the scalar L(x) = vᵀy(x) with gradient vᵀJ goes through ``check_gradients``'
  probe mode (random directions, coordinate samples, bisection to the input entry); the
  output entry at fault is then found by bisecting v over the outputs;
* forward: J·u against the derivative along u, output by output; a failing u is bisected
  over its support to the input entry.

A random cotangent catches an error in any single Jacobian entry (J_ij enters vᵀJ with the
weight v_i, which is never 0), which one fixed projection such as v = 1 would let cancel.
The tolerance is the dtype's (``steps.framework_tolerance``), with the scale of each output
tensor's Jacobian as s. Entries that fail where the forward has a kink are not compared.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from gradcheck.compare import Record, compare_tensor, entry_ratios, largest_finite, overall_verdict
from gradcheck.errors import GradcheckError, ShapeError
from gradcheck.gradients import GradientCheck, check_with_options
from gradcheck.jacobian.function import Block, Unsupported, VectorFunction, offsets
from gradcheck.jacobian.numerical import Derivative, Numerical
from gradcheck.numeric.probes import ProbeSettings
from gradcheck.numeric.steps import FRAMEWORK_DTYPES, Tolerance, framework_tolerance
from gradcheck.options import CheckOptions

__all__ = ["FULL_LIMIT", "MODES", "JacobianOptions", "check_function"]

Array = np.ndarray
FULL_LIMIT = 1 << 16  # Jacobian entries (n_out × n_in) checked one by one in auto mode
MODES = ("rev", "fwd")
ModeName = Literal["rev", "fwd"]


@dataclass(frozen=True)
class JacobianOptions:
    """``mode`` (auto, full, probe), the AD ``modes`` checked, ``seed``, ``rtol``/``atol``
    replacing the dtype's defaults, ``nondet_tol`` (how far two runs of the backward may
    differ), and the probe budget."""

    mode: Literal["auto", "full", "probe"] = "auto"
    modes: tuple[str, ...] = MODES
    seed: int = 0
    rtol: float | None = None
    atol: float | None = None
    nondet_tol: float = 0.0
    probes: ProbeSettings | None = None

    def __post_init__(self) -> None:
        CheckOptions(mode=self.mode, seed=self.seed, rtol=self.rtol, atol=self.atol)
        unknown = [m for m in self.modes if m not in MODES]
        if unknown or not self.modes:
            raise GradcheckError(f"modes must be a non-empty subset of {MODES}, not {self.modes}")
        if not (np.isfinite(self.nondet_tol) and self.nondet_tol >= 0):
            raise GradcheckError(f"nondet_tol must be a finite number >= 0, not {self.nondet_tol}")

    @staticmethod
    def modes_of(modes: object) -> tuple[str, ...]:
        """A caller's ``modes`` as a tuple; a bare string such as ``"rev"`` is refused rather
        than read as the letters ``('r', 'e', 'v')``."""
        if isinstance(modes, str) or not isinstance(modes, Iterable):
            raise GradcheckError(f"modes must be a list such as ('rev', 'fwd'), not {modes!r}")
        return tuple(modes)

    def tolerance(self, dtype: str) -> Tolerance:
        return framework_tolerance(dtype).overridden(self.rtol, self.atol)


def coarsest(dtypes: Sequence[str]) -> str:
    """The dtype with the largest ε among ``dtypes``."""
    return max(dtypes, key=lambda d: FRAMEWORK_DTYPES[d][0])


def exact_random(rng: np.random.Generator, size: int) -> Array:
    """Gaussian-like values k/32, |k| ≤ 128, never 0: exact in every supported dtype."""
    k = np.clip(np.round(rng.standard_normal(size) * 32), -128, 128)
    return np.where(k == 0, 1.0, k) / 32


def check_function(fn: VectorFunction, options: JacobianOptions) -> GradientCheck:
    """Check ``fn``'s VJP (``"rev"`` in ``options.modes``) and JVP (``"fwd"``)."""
    numerical = Numerical(fn, seed=options.seed)
    rng = np.random.default_rng(options.seed)
    notes: list[str] = []
    meta: dict[str, object] = {"n_in": fn.n_in, "n_out": fn.n_out, "step": numerical.step}
    problems, v, vjp = _nondeterminism(fn, rng, options.nondet_tol, meta)
    notes.extend(problems)
    # What a golden-gradient baseline records: vᵀJ for the seeded cotangent, and vᵀy.
    meta["loss"] = float(v @ numerical.y)
    gradients = {b.name: vjp[s].reshape(b.shape) for b, s in offsets(fn.inputs)}
    checked: list[str] = []
    full = options.mode == "full" or (options.mode == "auto" and fn.n_in * fn.n_out <= FULL_LIMIT)
    jacobian = _numerical_jacobian(numerical) if full else None
    records: list[Record] = []
    probe_result: GradientCheck | None = None
    for name in ("rev", "fwd"):
        if name not in options.modes:
            continue
        try:
            if jacobian is not None:
                records.extend(_full(fn, numerical, jacobian, name, options))
            elif name == "rev":
                probe_result, found = _reverse_probe(fn, numerical, options, rng)
                records.extend(found)
            else:
                records.extend(_forward_probe(fn, numerical, options, rng))
            checked.append(name)
        except Unsupported as reason:
            label = "forward" if name == "fwd" else "reverse"
            notes.append(f"{label} mode not checked: unsupported ({reason})")
    meta["modes_checked"] = tuple(checked)
    if not checked:
        raise GradcheckError("no mode could be checked: " + "; ".join(notes))
    verdict = overall_verdict([r.verdict for r in records])
    if problems:
        verdict = "fail"
    evaluations = numerical.evaluations + (probe_result.evaluations if probe_result else 0)
    first = coarsest([b.dtype for b in fn.inputs])
    return GradientCheck(
        verdict=verdict,
        records=tuple(records),
        mode="full" if full else "probe",
        method="central",
        seed=options.seed,
        evaluations=evaluations,
        tolerance=options.tolerance(first),
        probes=probe_result.probes if probe_result else (),
        localisation=probe_result.localisation if probe_result else None,
        notes=tuple(notes),
        meta=meta,
        gradients=gradients,
    )


def _nondeterminism(
    fn: VectorFunction, rng: np.random.Generator, tol: float, meta: dict[str, object]
) -> tuple[list[str], Array, Array]:
    """The backward run twice on one random cotangent v: a difference beyond ``tol``
    (absolute, per entry, as torch's ``nondet_tol``) is reported with its size. Returns the
    problems, v and vᵀJ."""
    v = exact_random(rng, fn.n_out)
    first, second = _vjp(fn, v), _vjp(fn, v)
    size = float(np.max(np.abs(first - second), initial=0.0))
    meta["nondeterminism"] = size
    if size > tol or not np.array_equal(np.isnan(first), np.isnan(second)):
        return (
            [
                f"nondeterministic: two runs of the backward on the same cotangent differ by "
                f"{size:.3g} (nondet_tol={tol:g})"
            ],
            v,
            first,
        )
    return [], v, first


def _vjp(fn: VectorFunction, v: Array) -> Array:
    g = np.asarray(fn.vjp(v), np.float64)
    if g.shape != (fn.n_in,):
        raise ShapeError(f"the VJP returned {g.size} entries, expected {fn.n_in}")
    return g


def _jvp(fn: VectorFunction, u: Array) -> Array:
    y = np.asarray(fn.jvp(u), np.float64)
    if y.shape != (fn.n_out,):
        raise ShapeError(f"the JVP returned {y.size} entries, expected {fn.n_out}")
    return y


@dataclass(frozen=True)
class _Jacobian:
    values: Array  # (n_out, n_in)
    bars: Array
    columns: tuple[Derivative, ...]


def _numerical_jacobian(numerical: Numerical) -> _Jacobian:
    columns = tuple(numerical.column(j) for j in range(numerical.x.size))
    n_out = numerical.y.size
    values = np.array([c.estimate for c in columns]).T.reshape(n_out, len(columns))
    bars = np.array([c.error_bar for c in columns]).T.reshape(n_out, len(columns))
    return _Jacobian(values, bars, columns)


def _analytic(fn: VectorFunction, name: str) -> Array:
    """The Jacobian by unit cotangents (rows, reverse) or unit tangents (columns, forward)."""
    if name == "rev":
        rows = []
        for i in range(fn.n_out):
            v = np.zeros(fn.n_out)
            v[i] = 1.0
            rows.append(_vjp(fn, v))
        return np.array(rows).reshape(fn.n_out, fn.n_in)
    columns = []
    for j in range(fn.n_in):
        u = np.zeros(fn.n_in)
        u[j] = 1.0
        columns.append(_jvp(fn, u))
    return np.array(columns).T.reshape(fn.n_out, fn.n_in)


def _engine(name: str) -> str:
    return "vjp" if name == "rev" else "jvp"


def _full(
    fn: VectorFunction,
    numerical: Numerical,
    jacobian: _Jacobian,
    name: str,
    options: JacobianOptions,
) -> list[Record]:
    analytic = _analytic(fn, name)
    records = []
    for out, rows in offsets(fn.outputs):
        scale = largest_finite(analytic[rows])
        for inp, cols in offsets(fn.inputs):
            a, n = analytic[rows, cols], jacobian.values[rows, cols]
            bars = jacobian.bars[rows, cols]
            tolerance = options.tolerance(coarsest([out.dtype, inp.dtype]))
            ratios = entry_ratios(a, n, tolerance=tolerance, error_bar=bars, network_scale=scale)
            kinked = np.zeros(a.shape, dtype=bool)
            for i, j in zip(*np.nonzero(ratios > 1), strict=True):
                column = jacobian.columns[cols.start + int(j)]
                kinked[i, j] = bool(numerical.kinked(column)[rows.start + int(i)])
            shape = out.shape + inp.shape
            record = compare_tensor(
                _tensor(out, inp),
                a.reshape(shape),
                n.reshape(shape),
                tolerance=tolerance,
                engines=(_engine(name), "central"),
                error_bar=bars.reshape(shape),
                skip=kinked.reshape(shape),
                network_scale=scale,
            )
            records.append(replace(record, out_rank=len(out.shape)))
    return records


def _tensor(out: Block, inp: Block) -> str:
    return f"∂{out.name}/∂{inp.name}"


def _locate(blocks: tuple[Block, ...], flat: int) -> tuple[Block, tuple[int, ...]]:
    for block, where in offsets(blocks):
        if where.start <= flat < where.stop:
            index = np.unravel_index(flat - where.start, block.shape) if block.shape else ()
            return block, tuple(int(i) for i in index)
    raise IndexError(flat)


def _entry_record(
    fn: VectorFunction,
    i: int,
    j: int,
    analytic: float,
    numerical: Derivative,
    name: str,
    options: JacobianOptions,
    scale: float,
) -> Record:
    """A Record for the single Jacobian entry (i, j), as full mode would give it."""
    out, out_index = _locate(fn.outputs, i)
    inp, in_index = _locate(fn.inputs, j)
    tolerance = options.tolerance(coarsest([out.dtype, inp.dtype]))
    record = compare_tensor(
        _tensor(out, inp),
        np.array([analytic]),
        np.array([numerical.estimate[i]]),
        tolerance=tolerance,
        engines=(_engine(name), "central"),
        error_bar=np.array([numerical.error_bar[i]]),
        network_scale=scale,
    )
    return replace(
        record, shape=out.shape + inp.shape, index=out_index + in_index, out_rank=len(out.shape)
    )


def _reverse_probe(
    fn: VectorFunction, numerical: Numerical, options: JacobianOptions, rng: np.random.Generator
) -> tuple[GradientCheck, list[Record]]:
    """vᵀy(x) for one exact random v, through ``check_gradients``' probe mode; a failure is
    then bisected over the outputs to name the Jacobian entry."""
    v = exact_random(rng, fn.n_out)
    grad = _vjp(fn, v)
    blocks = offsets(fn.inputs)

    def split(flat: Array) -> dict[str, Array]:
        return {b.name: flat[s].reshape(b.shape) for b, s in blocks}

    def loss(params: dict[str, Array]) -> float:
        x = np.concatenate([np.ravel(params[b.name]) for b, _ in blocks])
        return float(v @ numerical.evaluate(x))

    dtype = coarsest([b.dtype for b in (*fn.inputs, *fn.outputs)])
    tolerance = options.tolerance(dtype)
    probe_options = CheckOptions(
        mode="probe",
        seed=options.seed,
        method="central",
        probes=options.probes,
        rtol=tolerance.rtol,
        atol=tolerance.atol,
    )
    result = check_with_options(loss, lambda _: split(grad), split(numerical.x), probe_options)
    records = list(result.records)
    if result.verdict == "fail":
        j = _failing_input(fn, result)
        if j is not None:
            records.append(_reverse_output(fn, numerical, options, v, j))
    return result, records


def _failing_input(fn: VectorFunction, result: GradientCheck) -> int | None:
    where = result.localisation
    failing = [r for r in result.records if r.verdict == "fail"]
    if where is not None and where.block == 1:
        tensor, index = where.tensor, where.index
    elif failing:
        tensor, index = failing[0].tensor, failing[0].index
    else:
        return None
    for block, s in offsets(fn.inputs):
        if block.name == tensor:
            flat = int(np.ravel_multi_index(index, block.shape)) if block.shape else 0
            return s.start + flat
    return None


def _reverse_output(
    fn: VectorFunction, numerical: Numerical, options: JacobianOptions, v: Array, j: int
) -> Record:
    """Bisect the cotangent v over the outputs for the entry i whose J_ij is wrong: the
    analytic (v⊙mask)ᵀJ at input j against Σ_mask v_i·J_num[i, j] with its error bar."""
    column = numerical.column(j)
    tolerance = options.tolerance(coarsest([b.dtype for b in (*fn.inputs, *fn.outputs)]))
    candidates = np.arange(fn.n_out)
    while candidates.size > 1:
        half = candidates[: candidates.size // 2]
        mask = np.zeros(fn.n_out)
        mask[half] = v[half]
        analytic = _vjp(fn, mask)[j]
        expected = float(mask @ column.estimate)
        bar = float(np.abs(mask) @ column.error_bar)
        allowed = (
            4 * bar
            + tolerance.rtol * abs(expected)
            + tolerance.atol * max(abs(expected), abs(analytic))
        )
        candidates = half if abs(analytic - expected) > allowed else candidates[half.size :]
    i = int(candidates[0])
    unit = np.zeros(fn.n_out)
    unit[i] = 1.0
    row = _vjp(fn, unit)
    return _entry_record(fn, i, j, float(row[j]), column, "rev", options, largest_finite(row))


def _forward_probe(
    fn: VectorFunction, numerical: Numerical, options: JacobianOptions, rng: np.random.Generator
) -> list[Record]:
    """J·u for a few exact random tangents u; a failing one is bisected over its support."""
    settings = options.probes or ProbeSettings()
    dtype = coarsest([b.dtype for b in (*fn.inputs, *fn.outputs)])
    tolerance = options.tolerance(dtype)
    scale = _power_of_two_scale(numerical.x)
    worst: tuple[float, Array] | None = None
    for _ in range(max(1, settings.directions)):
        u = exact_random(rng, fn.n_in) * scale
        ratio = _tangent_ratio(fn, numerical, u, tolerance)
        if worst is None or ratio > worst[0]:
            worst = (ratio, u)
        if ratio > 1:
            break
    assert worst is not None
    ratio, u = worst
    if ratio <= 1:
        return [_forward_summary(fn, numerical, u, tolerance, options)]
    support = np.flatnonzero(u)
    while support.size > 1:
        half = support[: support.size // 2]
        part = np.zeros_like(u)
        part[half] = u[half]
        support = (
            half if _tangent_ratio(fn, numerical, part, tolerance) > 1 else support[half.size :]
        )
    j = int(support[0])
    column = numerical.column(j)
    unit = np.zeros(fn.n_in)
    unit[j] = 1.0
    analytic = _jvp(fn, unit)
    ratios = entry_ratios(
        analytic,
        column.estimate,
        tolerance=tolerance,
        error_bar=column.error_bar,
        network_scale=largest_finite(analytic),
    )
    i = int(np.argmax(ratios))
    return [
        _entry_record(
            fn, i, j, float(analytic[i]), column, "fwd", options, largest_finite(analytic)
        )
    ]


def _power_of_two_scale(x: Array) -> Array:
    """2^round(log2 max(1, |x|)): an entry's scale that keeps k/32·scale exact."""
    return np.exp2(np.round(np.log2(np.maximum(1.0, np.abs(x)))))


def _tangent_ratio(
    fn: VectorFunction, numerical: Numerical, u: Array, tolerance: Tolerance
) -> float:
    """The worst |J·u − D_u y| / allowed over the outputs; a kink there counts as 0."""
    d = numerical.along(u)
    analytic = _jvp(fn, d.u)
    ratios = entry_ratios(
        analytic,
        d.estimate,
        tolerance=tolerance,
        error_bar=d.error_bar,
        network_scale=largest_finite(analytic),
    )
    ratios = np.where(numerical.kinked(d) & (ratios > 1), 0.0, ratios)
    return float(np.max(ratios, initial=0.0))


def _forward_summary(
    fn: VectorFunction,
    numerical: Numerical,
    u: Array,
    tolerance: Tolerance,
    options: JacobianOptions,
) -> Record:
    """A passing forward probe as one Record over the outputs (``J·u``)."""
    d = numerical.along(u)
    analytic = _jvp(fn, d.u)
    return compare_tensor(
        "J·u",
        analytic,
        d.estimate,
        tolerance=tolerance,
        engines=("jvp", "central"),
        error_bar=d.error_bar,
        skip=numerical.kinked(d),
        network_scale=largest_finite(analytic),
    )
