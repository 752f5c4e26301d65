"""The same seed draws the same cases in any process, whatever it has imported: Hypothesis
would otherwise mix in constants from the local modules imported so far (``runs.seeded``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from gradcheck.runs.sweep import SweepConfig, run_sweep

ROOT = Path(__file__).resolve().parents[2]
CONFIG = dict(engines=("core", "fd"), examples=4, dtypes=("float64",), activations=("tanh",),
              losses=("mse", "huber"), max_depth=3, max_width=5)  # fmt: skip

FRESH = """
import json, sys
from gradcheck.runs.sweep import SweepConfig, run_sweep
sweep = run_sweep(SweepConfig(**json.loads(sys.argv[1])))
print(json.dumps([[p.worst_case for p in c.pairs] + [p.worst.ratio for p in c.pairs]
                  for c in sweep.cells]))
"""


def test_a_process_that_imported_more_draws_the_same_cases() -> None:
    import gradcheck.cli
    import gradcheck.student.validate  # noqa: F401

    here = run_sweep(SweepConfig(**CONFIG))  # type: ignore[arg-type]
    fresh = subprocess.run(
        [sys.executable, "-c", FRESH, json.dumps(CONFIG)],
        capture_output=True, text=True, timeout=300, cwd=ROOT, check=True,
    )  # fmt: skip
    expected = [[p.worst_case for p in c.pairs] + [p.worst.ratio for p in c.pairs]  # type: ignore[union-attr]
                for c in here.cells]  # fmt: skip
    assert json.loads(fresh.stdout) == expected
