"""Drift: how far the gradients of a check moved from their recorded values.

Each tensor is compared entry by entry like two analytic engines (``numeric.steps``: a few
hundred ulps of the tensor's scale by default), with the recorded value as engine
``baseline`` and the new one as ``current``. A drift is a failure even when finite
differences still agree with the new gradient: it is how a change of initialisation, of the
loss's reduction or of dtype handling shows up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from gradcheck.baseline.store import BaselineEntry
from gradcheck.compare import Record, compare_tensor
from gradcheck.numeric.steps import Tolerance, tolerance_for

__all__ = ["Drift", "compare_to_baseline", "drift_tolerance"]

Array = np.ndarray


def drift_tolerance(dtype: str, rtol: float | None = None, atol: float | None = None) -> Tolerance:
    """The analytic-vs-analytic tolerance of ``dtype`` (float32 for anything narrower)."""
    base = tolerance_for("float64" if dtype == "float64" else "float32", ("analytic", "analytic"))
    return base.overridden(rtol, atol)


@dataclass(frozen=True)
class Drift:
    """The comparison of one check with its recorded entry."""

    key: str
    verdict: Literal["pass", "fail"]
    records: tuple[Record, ...]
    loss: tuple[float, float]
    inputs_changed: bool
    problems: tuple[str, ...] = ()
    factors: Mapping[str, float] = field(default_factory=dict)

    @property
    def drifted(self) -> tuple[Record, ...]:
        return tuple(r for r in self.records if r.verdict == "fail")

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON: the verdict, the problems and, per tensor, its largest change
        (``factor``: the common multiple of a scaled gradient, else None)."""
        return {
            "key": self.key,
            "verdict": self.verdict,
            "inputs_changed": self.inputs_changed,
            "loss": {"recorded": self.loss[0], "now": self.loss[1]},
            "problems": list(self.problems),
            "tensors": [_record_data(r, self.factors.get(r.tensor)) for r in self.records],
        }

    def describe(self) -> str:
        """Which tensors drifted and by how much, and the likely reason."""
        if self.verdict == "pass":
            worst = max((r.rel_err for r in self.records), default=0.0)
            return f"{self.key}: matches its baseline (largest relative change {worst:.3g})"
        lines = [f"{self.key}: gradients drifted from the baseline"]
        lines.extend(f"  {p}" for p in self.problems)
        for r in self.drifted:
            where = f"{r.tensor}[{', '.join(map(str, r.index))}]"
            lines.append(
                f"  {r.tensor}: largest change at {where}: recorded {r.value_a:.9g}, now "
                f"{r.value_b:.9g} (relative change {r.rel_err:.3g}, "
                f"{r.ratio:.3g}× the tolerance)"
            )
            if r.tensor in self.factors:
                lines[-1] += f"; now {self.factors[r.tensor]:.6g} × the recorded gradient"

        recorded, now = self.loss
        if recorded != now:
            lines.append(f"  loss: recorded {recorded:.9g}, now {now:.9g}")
        lines.append(
            "  the inputs differ from the recorded ones: initialisation or data changed"
            if self.inputs_changed
            else "  the inputs are the recorded ones: the gradient computation changed"
        )
        return "\n".join(lines)


def _record_data(record: Record, factor: float | None) -> dict[str, Any]:
    return {
        "tensor": record.tensor,
        "verdict": record.verdict,
        "index": list(record.index),
        "recorded": record.value_a,
        "now": record.value_b,
        "abs_change": record.abs_err,
        "rel_change": record.rel_err,
        "ratio": record.ratio,
        "factor": factor,
    }


def compare_to_baseline(
    entry: BaselineEntry,
    loss: float,
    grads: Mapping[str, Array],
    inputs: str = "",
    *,
    rtol: float | None = None,
    atol: float | None = None,
) -> Drift:
    """Compare ``grads`` (and ``loss``) with ``entry``; tensors added, removed or reshaped
    count as drift."""
    dtype = next((np.asarray(g).dtype.name for g in entry.grads.values()), "float64")
    loss_tolerance = drift_tolerance(dtype, rtol, atol)  # validates rtol/atol before anything
    problems = _loss_problems(entry.loss, float(loss), loss_tolerance)
    problems += _tensor_set_problems(entry.grads, grads)
    records, tensor_problems = _compare_tensors(entry.grads, grads, rtol, atol)
    problems += tensor_problems
    bad = problems or any(r.verdict == "fail" for r in records)
    return Drift(
        key=entry.key,
        verdict="fail" if bad else "pass",
        records=records,
        loss=(entry.loss, float(loss)),
        inputs_changed=bool(entry.inputs and inputs and entry.inputs != inputs),
        problems=tuple(problems),
        factors=_drift_factors(entry.grads, grads, records),
    )


def _loss_problems(recorded: float, now: float, tolerance: Tolerance) -> list[str]:
    if _losses_agree(recorded, now, tolerance):
        return []
    return [f"loss is {now:.9g}, recorded {recorded:.9g}"]


def _tensor_set_problems(recorded: Mapping[str, Array], now: Mapping[str, Array]) -> list[str]:
    """Tensors present on one side only."""
    added, removed = sorted(set(now) - set(recorded)), sorted(set(recorded) - set(now))
    problems = []
    if added:
        problems.append(f"tensors not in the baseline: {', '.join(added)}")
    if removed:
        problems.append(f"tensors missing since the baseline: {', '.join(removed)}")
    return problems


def _compare_tensors(
    recorded: Mapping[str, Array],
    now: Mapping[str, Array],
    rtol: float | None,
    atol: float | None,
) -> tuple[tuple[Record, ...], list[str]]:
    """A record for each tensor on both sides with the same shape (in recorded order), and
    the shape and dtype changes found on the way. The largest recorded entry of any tensor
    is the network scale that floors each tensor's own (``compare_tensor``)."""
    scale = max((float(np.max(np.abs(g), initial=0.0)) for g in recorded.values()), default=0.0)
    records, problems = [], []
    for name in (n for n in recorded if n in now):
        old, new = np.asarray(recorded[name]), np.asarray(now[name])
        if old.shape != new.shape:
            problems.append(f"{name} has shape {new.shape}, recorded {old.shape}")
            continue
        if old.dtype != new.dtype:
            problems.append(f"{name} has dtype {new.dtype}, recorded {old.dtype}")
        records.append(
            compare_tensor(
                name,
                old,
                new,
                tolerance=drift_tolerance(old.dtype.name, rtol, atol),
                engines=("baseline", "current"),
                network_scale=scale,
            )
        )
    return tuple(records), problems


def _drift_factors(
    recorded: Mapping[str, Array], now: Mapping[str, Array], records: tuple[Record, ...]
) -> dict[str, float]:
    """For each drifted tensor that is a multiple of its recorded value: that multiple."""
    factors = {}
    for r in records:
        factor = _common_factor(recorded[r.tensor], now[r.tensor])
        if r.verdict == "fail" and factor is not None:
            factors[r.tensor] = factor
    return factors


def _losses_agree(old: float, new: float, tolerance: Tolerance) -> bool:
    """|new − old| ≤ (rtol + atol)·max(|old|, |new|): a loss is one number, its own scale."""
    if not (np.isfinite(old) and np.isfinite(new)):
        return bool(old == new or (np.isnan(old) and np.isnan(new)))
    scale = max(abs(old), abs(new))
    return abs(new - old) <= (tolerance.rtol + tolerance.atol) * scale + tolerance.floor


def _common_factor(old: Array, new: Array) -> float | None:
    """c when new = c·old to 1e-6 (a changed reduction or scaling), else None."""
    a, b = np.asarray(old, np.float64).ravel(), np.asarray(new, np.float64).ravel()
    norm = float(a @ a)
    if norm == 0.0:
        return None
    c = float(a @ b) / norm
    residual = float(np.linalg.norm(b - c * a))
    return c if residual <= 1e-6 * max(float(np.linalg.norm(b)), 1e-300) else None
