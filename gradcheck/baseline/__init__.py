"""Golden-gradient baselines: record gradients once, fail when they drift.

* ``store``  — the ``.npz`` + JSON file format and its entries;
* ``drift``  — the comparison of new gradients with recorded ones;
* ``cases``  — fixed cases rebuilt from (spec, seed, batch), recorded and checked by engine.
"""

from __future__ import annotations

from gradcheck.baseline.drift import Drift, compare_to_baseline, drift_tolerance
from gradcheck.baseline.store import BASELINE_FORMAT, Baseline, BaselineEntry, fingerprint

__all__ = [
    "BASELINE_FORMAT",
    "Baseline",
    "BaselineEntry",
    "Drift",
    "compare_to_baseline",
    "drift_tolerance",
    "fingerprint",
]
