"""Helpers shared by the tests. Cross-engine checks of a case go through the plugin's
``gradcheck`` fixture (``gradcheck.assert_case``); tests that hold two engines' raw loss and
gradients compare them with :func:`assert_outputs_match`."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from gradcheck.compare import compare_tensor
from gradcheck.numeric.steps import Tolerance, machine_eps, tolerance_for

REFERENCE_ENGINES = ("torch", "jax")

Outputs = tuple[float | None, Mapping[str, np.ndarray]]
"""What an engine computed: its loss (None where the function under test returns none) and
its gradients by name."""

# The reference tests' atol, as a fraction of the network's largest |∂L/∂θ|: tighter than the
# shared analytic table's (1e-9, 1e-4) because torch, JAX and the core differ only by
# summation order and libm (~1e-15 relative in float64, ~3e-6 in float32), and a bound this
# close catches any wrong formula.
REFERENCE_ATOL = {"float64": 1e-12, "float32": 1e-5}


def available_engines() -> list[str]:
    """core, fd, cs and every reference engine that is installed. In CI a missing reference is
    an error, not a skip: CI installs both, so their tests must really run there."""
    engines = ["core", "fd", "cs"]
    for name in REFERENCE_ENGINES:
        if importlib.util.find_spec(name) is not None:
            engines.append(name)
        elif os.environ.get("CI") == "true":
            pytest.fail(f"{name} is not installed in CI; `make test` installs the [{name}] extra")
    return engines


def modules_imported_by(statement: str, candidates: Sequence[str]) -> list[str]:
    """Which of ``candidates`` a fresh interpreter has imported after ``statement``."""
    found = f"sorted(set(sys.modules) & set({list(candidates)!r}))"
    code = f"import sys, json; {statement}; print(json.dumps({found}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return list(json.loads(out.stdout))


def reference_tolerance(dtype: str, *, rtol: float | None = None) -> Tolerance:
    """The shared analytic tolerance of ``dtype`` with ``REFERENCE_ATOL`` (and ``rtol`` where
    given), its atol scaled by the network's largest |∂L/∂θ| (``scale_floor`` 1): without the
    table's rounding term, that is what keeps an entry that cancels to nearly zero from
    demanding relative accuracy it cannot have."""
    shared = tolerance_for(dtype, ("analytic", "analytic"))
    return replace(shared.overridden(rtol=rtol, atol=REFERENCE_ATOL[dtype]), scale_floor=1.0)


def assert_outputs_match(
    label: str,
    want: Outputs,
    got: Outputs,
    *,
    dtype: str,
    names: Sequence[str],
    engines: tuple[str, str] = ("got", "want"),
    forward: Tolerance | None = None,
    backward: Tolerance | None = None,
    min_scale: float = 0.0,
    rounding: Mapping[str, np.ndarray] | None = None,
) -> None:
    """Assert that ``got`` (the engine under test) computes ``want``'s loss and gradients.

    As tinygrad's ``helper_test_op`` does, it checks the forward pass first (the loss, a
    float, within ``forward``), then the gradients' names (``names``, in order) and each
    gradient's shape, dtype (``dtype``) and values (within ``backward``). A failure names the
    pass and the tensor ("backward pass tensor W1"), the worst entry, both values and what
    was allowed. Both tolerances default to ``tolerance_for(dtype, analytic pair)`` from
    ``gradcheck.numeric.steps``; ``gradcheck.compare.compare_tensor`` applies them entry by
    entry, with no error bar:

        |got − want| ≤ rtol·|want| + atol·max(‖got‖∞, ‖want‖∞, scale_floor·S) + r·ε·M

    where S = max(min_scale, the largest |entry| of all ``want``'s gradients) for a gradient
    and S = min_scale for the loss, and the rounding term r·ε·M counts only where
    ``rounding`` gives M (``numeric.rounding.term_magnitudes``; ``"loss"`` for the loss).
    """
    eps = machine_eps(dtype)
    bounds = rounding or {}
    shared = tolerance_for(dtype, ("analytic", "analytic"))
    (want_loss, want_grads), (got_loss, got_grads) = want, got
    if want_loss is None:
        assert got_loss is None, f"{label}: forward pass gives {got_loss!r}, want no loss"
    else:
        assert isinstance(got_loss, float), (
            f"{label}: forward pass: loss is {type(got_loss).__name__}, not float"
        )
        record = compare_tensor(
            "loss",
            np.array(got_loss),
            np.array(want_loss),
            tolerance=shared if forward is None else forward,
            engines=engines,
            network_scale=min_scale,
            rounding=bounds.get("loss"),
            eps=eps,
        )
        assert record.verdict == "pass", f"{label}: forward pass: {record.describe()}"
    assert list(got_grads) == list(names), (
        f"{label}: backward pass gives tensors {list(got_grads)}, not {list(names)}"
    )
    scale = max([min_scale, *(float(np.max(np.abs(want_grads[n]), initial=0)) for n in names)])
    for name in names:
        mine, theirs = np.asarray(got_grads[name]), np.asarray(want_grads[name])
        where = f"{label}: backward pass tensor {name}"
        assert mine.shape == theirs.shape, f"{where}: shape {mine.shape}, not {theirs.shape}"
        assert mine.dtype == np.dtype(dtype), f"{where}: dtype {mine.dtype}, not {dtype}"
        record = compare_tensor(
            name,
            mine,
            theirs,
            tolerance=shared if backward is None else backward,
            engines=engines,
            network_scale=scale,
            rounding=bounds.get(name),
            eps=eps,
        )
        assert record.verdict == "pass", f"{where}: {record.describe()}"


def local_cluster(workers: int = 2) -> Any:
    """A loopback Dask ``LocalCluster`` of ``workers`` processes of one thread each, as
    ``--executor dask`` starts (a context manager). Needs the dask extra."""
    import distributed

    return distributed.LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
