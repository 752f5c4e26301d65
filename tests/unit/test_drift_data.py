"""``Drift.to_dict``: the plain data ``gradcheck baseline check --format json`` prints per case."""

from __future__ import annotations

import json

import numpy as np

from gradcheck.baseline import BaselineEntry, compare_to_baseline

GRADS = {"W1": np.array([[1.0, -2.0], [0.5, 3.0]]), "b1": np.array([0.25, -1.0])}
ENTRY = BaselineEntry("k", {"kind": "case"}, 1.5, GRADS, inputs="abc")


def test_a_scaled_drift_names_its_factor_and_its_largest_change() -> None:
    drift = compare_to_baseline(ENTRY, 1.5, {k: 2 * v for k, v in GRADS.items()}, "abd")
    data = drift.to_dict()
    assert json.loads(json.dumps(data)) == data  # plain JSON types only
    assert (data["key"], data["verdict"], data["inputs_changed"]) == ("k", "fail", True)
    assert data["loss"] == {"recorded": 1.5, "now": 1.5} and data["problems"] == []
    w1 = data["tensors"][0]
    assert (w1["tensor"], w1["verdict"], w1["index"]) == ("W1", "fail", [1, 1])
    assert (w1["recorded"], w1["now"], w1["abs_change"]) == (3.0, 6.0, 3.0)
    assert w1["rel_change"] == 0.5 and w1["ratio"] > 1 and w1["factor"] == 2.0


def test_problems_are_listed_and_tensors_not_compared_are_left_out() -> None:
    drift = compare_to_baseline(ENTRY, 2.0, {"W1": GRADS["W1"][:1], "X": GRADS["b1"]})
    data = drift.to_dict()
    assert data["problems"] == [
        "loss is 2, recorded 1.5",
        "tensors not in the baseline: X",
        "tensors missing since the baseline: b1",
        "W1 has shape (1, 2), recorded (2, 2)",
    ]
    assert data["tensors"] == [] and data["inputs_changed"] is False
