"""Comparison of two engines' gradients, one Record per parameter tensor, and the verdicts.

A Record names the worst entry: the one whose error uses the largest share of its
tolerance (see ``numeric.steps`` for the formula). Entries that straddle a kink, or whose
value depends on the subgradient chosen at a point exactly on a kink, are not compared;
they are counted in ``kink_entries``.

The relative error of an entry is e / max(|a|, |b|) (``relative_error``), with 0/0 = 0:
between two engines e = |a − b|; the comparison matrix divides by max(|g_ref|, s) instead.
``Verdict`` (pass, fail, inconclusive) is defined here for every checker, probes included.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from gradcheck.engines import EngineResult
from gradcheck.numeric.steps import SUBNORMAL_FLOOR, Tolerance, tolerance_for

__all__ = [
    "Record",
    "Verdict",
    "aggregate_verdict",
    "compare_results",
    "compare_tensor",
    "entry_name",
    "entry_ratios",
    "largest_finite",
    "overall_verdict",
    "relative_error",
]

Verdict = Literal["pass", "fail", "inconclusive"]
Array = np.ndarray


@dataclass(frozen=True)
class Record:
    """The comparison of one parameter tensor between engines ``a`` and ``b``.

    ``ratio`` is the worst |a − b| / allowed; above 1 the tensor fails. ``abs_err`` (|a − b|)
    and ``rel_err`` (|a − b| / max(|a|, |b|)) are at that entry, ``index``, as the values. A record
    of a Jacobian block ``∂y/∂x`` has ``out_rank`` > 0: the first ``out_rank`` axes of
    ``shape`` and ``index`` are the output's, the rest the input's.
    """

    engine_a: str
    engine_b: str
    tensor: str
    shape: tuple[int, ...]
    index: tuple[int, ...]
    value_a: float
    value_b: float
    abs_err: float
    rel_err: float
    error_bar: float
    allowed: float
    ratio: float
    checked: int
    kink_entries: int
    tolerance: Tolerance
    verdict: Verdict
    out_rank: int = 0

    @property
    def pair(self) -> str:
        return f"{self.engine_a} vs {self.engine_b}"

    @property
    def kink(self) -> bool:
        """Whether some entries of this tensor sat on or across a kink and were not compared."""
        return self.kink_entries > 0

    @property
    def entry(self) -> str:
        """The worst entry's name: ``W1[2,3]``, or ``∂y[0,1]/∂x[2]`` in a Jacobian block."""
        return entry_name(self.tensor, self.index, self.out_rank)

    def describe(self) -> str:
        """One line: the entry, both values, the error, the error bar and what was allowed."""
        return (
            f"{self.entry} {self.engine_a}={self.value_a:.9g} "
            f"{self.engine_b}={self.value_b:.9g} |diff|={self.abs_err:.3g} "
            f"error bar={self.error_bar:.3g} allowed={self.allowed:.3g} "
            f"({self.ratio:.3g}× the tolerance)"
        )


def entry_name(tensor: str, index: Sequence[int], out_rank: int = 0, sep: str = ",") -> str:
    """``W1[2,3]``; for a Jacobian block ``∂y/∂x`` whose index is the output's first
    ``out_rank`` axes then the input's, ``∂y[0,1]/∂x[2]``. ``sep`` joins the indices."""
    if out_rank < 0:
        raise ValueError(f"out_rank must be >= 0, not {out_rank}")
    dy, slash, dx = tensor.partition("/∂")
    if out_rank == 0 or not slash:
        return f"{tensor}[{sep.join(map(str, index))}]"
    out, inp = (sep.join(map(str, part)) for part in (index[:out_rank], index[out_rank:]))
    return f"{dy}[{out}]/∂{dx}[{inp}]" if inp else f"{dy}[{out}]/∂{dx}"


def compare_tensor(
    tensor: str,
    a: Array,
    b: Array,
    *,
    tolerance: Tolerance,
    engines: tuple[str, str] = ("a", "b"),
    error_bar: Array | None = None,
    skip: Array | None = None,
    network_scale: float = 0.0,
    rounding: Array | None = None,
    eps: float = 0.0,
    tiny: float = 0.0,
) -> Record:
    """Compare two gradients of one tensor entry by entry (computed in float64)."""
    a64 = np.asarray(a, dtype=np.float64)
    b64 = np.asarray(b, dtype=np.float64)
    bar = np.zeros_like(a64) if error_bar is None else np.asarray(error_bar, dtype=np.float64)
    compared = np.ones(a64.shape, dtype=bool) if skip is None else ~np.asarray(skip, dtype=bool)
    diff, allowed, ratio = _entries(
        a64, b64, bar, tolerance, network_scale, rounding=rounding, eps=eps, tiny=tiny
    )
    ratio = np.where(compared, ratio, -1.0)
    checked = int(compared.sum())
    index = _worst_index(ratio)
    worst = float(ratio[index]) if checked else 0.0
    at = _value_at(index, empty=a64.size == 0)
    return Record(
        engine_a=engines[0],
        engine_b=engines[1],
        tensor=tensor,
        shape=tuple(a64.shape),
        index=index,
        value_a=at(a64),
        value_b=at(b64),
        abs_err=_compared_at(diff, compared, index),
        rel_err=_compared_at(relative_error(diff, a64, b64), compared, index),
        error_bar=at(bar),
        allowed=at(allowed),
        ratio=worst,
        checked=checked,
        kink_entries=int(a64.size - checked),
        tolerance=tolerance,
        verdict=_verdict(checked, a64.size, worst),
    )


def relative_error(error: ArrayLike, a: ArrayLike, b: ArrayLike) -> Array:
    """error / max(|a|, |b|) entry by entry (broadcasting), in float64: 0 where the error
    is 0 (so 0/0 is 0), inf where a positive error meets a zero denominator, NaN where
    either side is NaN."""
    error64 = np.asarray(error, np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.where(error64 == 0, 0.0, error64 / np.maximum(np.abs(a), np.abs(b)))


def _worst_index(ratio: Array) -> tuple[int, ...]:
    """The index of the largest ratio (the first on ties); () for an empty tensor."""
    if ratio.size == 0:
        return ()
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(ratio)), ratio.shape))


def _value_at(index: tuple[int, ...], *, empty: bool) -> Callable[[Array], float]:
    """x ↦ x[index] as a float (0 for an empty tensor, which has no entry to name)."""
    return lambda x: 0.0 if empty else float(x[index])


def _compared_at(values: Array, compared: Array, index: tuple[int, ...]) -> float:
    """``values`` at the worst entry ``index`` (0 when no entry is compared)."""
    return float(values[index]) if compared.any() else 0.0


def _verdict(checked: int, size: int, worst: float) -> Verdict:
    """fail when the worst ratio exceeds 1; inconclusive when a tensor has entries but none
    could be compared (all on kinks)."""
    if checked == 0 and size:
        return "inconclusive"
    return "fail" if worst > 1 else "pass"


def entry_ratios(
    a: Array,
    b: Array,
    *,
    tolerance: Tolerance,
    error_bar: Array | None = None,
    network_scale: float = 0.0,
) -> Array:
    """|a − b| / allowed for every entry (above 1 fails; NaN or Inf on either side is inf)."""
    a64, b64 = np.asarray(a, np.float64), np.asarray(b, np.float64)
    bar = np.zeros_like(a64) if error_bar is None else np.asarray(error_bar, np.float64)
    return _entries(a64, b64, bar, tolerance, network_scale)[2]


def _entries(
    a64: Array,
    b64: Array,
    bar: Array,
    tolerance: Tolerance,
    network_scale: float,
    *,
    rounding: Array | None = None,
    eps: float = 0.0,
    tiny: float = 0.0,
) -> tuple[Array, Array, Array]:
    """Per entry: |a − b|, what is allowed (``numeric.steps``), and their ratio."""
    diff = np.abs(a64 - b64)
    finite = np.isfinite(a64) & np.isfinite(b64)
    diff = np.where(finite, diff, np.inf)
    scale = max(largest_finite(a64), largest_finite(b64), tolerance.scale_floor * network_scale)
    allowed = (
        tolerance.rtol * np.abs(b64) + tolerance.atol * scale + tolerance.error_bar_factor * bar
    )
    if rounding is not None:
        allowed = allowed + tolerance.rounding_factor * eps * np.asarray(rounding, np.float64)
    # Below the smallest normal number, engines may flush subnormals to zero (XLA does).
    allowed = np.maximum(allowed, max(SUBNORMAL_FLOOR * tiny, tolerance.floor))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = np.where(diff == 0, 0.0, diff / allowed)
    ratio = np.where(finite, ratio, np.inf)  # NaN or Inf on either side always fails
    return diff, allowed, ratio


def largest_finite(x: Array) -> float:
    """max |x| over the finite entries of ``x`` (0 when there are none): the scale of a
    gradient tensor that NaN or Inf entries cannot hide."""
    finite = x[np.isfinite(x)]
    return float(np.max(np.abs(finite))) if finite.size else 0.0


def _merge(*masks: Mapping[str, Array] | None) -> dict[str, Array]:
    merged: dict[str, Array] = {}
    for mask in masks:
        for name, value in (mask or {}).items():
            merged[name] = merged[name] | value if name in merged else np.asarray(value, bool)
    return merged


def compare_results(
    a: EngineResult,
    b: EngineResult,
    *,
    dtype: str,
    ambiguous: Mapping[str, Array] | None = None,
    rounding: Mapping[str, Array] | None = None,
) -> tuple[Record, ...]:
    """A Record for the loss values (as tensor ``"loss"``), then one per parameter tensor in
    the order of ``a.grads`` (W1, b1, …)."""
    tolerance = tolerance_for(dtype, (a.kind, b.kind))
    loss_record = compare_tensor(
        "loss",
        np.array(a.loss),
        np.array(b.loss),
        tolerance=tolerance_for(dtype, ("analytic", "analytic")),
        engines=(a.engine, b.engine),
        rounding=None if rounding is None else rounding.get("loss"),
        eps=float(np.finfo(np.dtype(dtype)).eps),
        tiny=float(np.finfo(np.dtype(dtype)).tiny),  # a float32 loss may underflow to 0
    )
    skip = _merge(a.unreliable, b.unreliable, ambiguous)
    network_scale = max(
        (
            largest_finite(np.asarray(g, dtype=np.float64))
            for g in (*a.grads.values(), *b.grads.values())
        ),
        default=0.0,
    )
    records = [loss_record]
    for name in a.grads:
        bars = [r.error_bars[name] for r in (a, b) if r.error_bars is not None]
        records.append(
            compare_tensor(
                name,
                a.grads[name],
                b.grads[name],
                tolerance=tolerance,
                engines=(a.engine, b.engine),
                error_bar=np.sum(bars, axis=0) if bars else None,
                skip=skip.get(name),
                network_scale=network_scale,
                rounding=None if rounding is None else rounding[name],
                eps=float(np.finfo(np.dtype(dtype)).eps),
                tiny=float(np.finfo(np.dtype(dtype)).tiny),
            )
        )
    return tuple(records)


def overall_verdict(verdicts: list[Verdict] | tuple[Verdict, ...]) -> Verdict:
    """fail beats inconclusive beats pass."""
    if "fail" in verdicts:
        return "fail"
    if "inconclusive" in verdicts:
        return "inconclusive"
    return "pass"


def aggregate_verdict(verdicts: list[Verdict] | tuple[Verdict, ...]) -> Verdict:
    """The verdict of many independent examples: one failure fails them all, and they are
    inconclusive only when none of them could be decided."""
    if "fail" in verdicts:
        return "fail"
    if "pass" in verdicts or not verdicts:
        return "pass"
    return "inconclusive"
