"""The pictures of a check report, when matplotlib is installed (``gradcheck[plots]``).

This is composition only: ``figures`` computes the data, ``plots`` renders it, and the
writers embed the result. The pictures:

- error against step size for finite differences (the V), float64 and float32, at an entry
  of the first counterexample or of a fixed small network, with gradcheck's step marked;
- per-layer gradient norm against depth for deep sigmoid, tanh and ReLU networks;
- per-parameter error bars of the failing checks, when there are any;
- training trajectories: K steps of w ← w − η∇L in the core, torch (SGD) and JAX.
"""

from __future__ import annotations

import numpy as np

from gradcheck.case import Case
from gradcheck.compare import Record
from gradcheck.nn.init import init_params
from gradcheck.nn.spec import NetworkSpec
from gradcheck.report.model import Image
from gradcheck.report.plots import (
    plot_error_bars,
    plot_layer_norms,
    plot_step_curve,
    plot_trajectories,
    plots_available,
)
from gradcheck.runs.figures import (
    error_bars,
    layer_gradient_norms,
    step_size_curve,
    training_trajectories,
)
from gradcheck.runs.sweep import SweepResult

__all__ = ["TRAJECTORY_STEPS", "report_images"]

TRAJECTORY_STEPS = 50
_FIXED = NetworkSpec((4, 8, 3), hidden="tanh", loss="mse")


def _fixed_case(spec: NetworkSpec, seed: int) -> Case:
    rng = np.random.default_rng(seed)
    params = init_params(spec, rng)
    for name in params:
        if name.startswith("b"):  # away from zero, so that no term of the gradient vanishes
            params[name] = rng.uniform(-0.5, 0.5, params[name].shape).astype(spec.dtype)
    X = rng.uniform(-2, 2, (6, spec.widths[0])).astype(spec.dtype)
    y = rng.uniform(-1, 1, (6, spec.widths[-1])).astype(spec.dtype)
    return Case(spec, params, X, y)


def _failing_records(sweep: SweepResult) -> list[Record]:
    return [r for cell in sweep.cells if cell.counterexample for r in cell.counterexample.failures]


def report_images(sweep: SweepResult) -> tuple[Image, ...]:
    """The report's pictures, or none when matplotlib is not installed."""
    if not plots_available():
        return ()
    seed = sweep.config.seed
    images = []
    base = _fixed_case(_FIXED, seed)
    for dtype in ("float64", "float32"):
        case = base.with_dtype(dtype)
        curve = step_size_curve(case, "W1", (0, 0))
        images.append(
            Image(
                f"step_size_{dtype}.png",
                f"Finite-difference error against step size ({dtype})",
                f"Central difference of {curve.label} in {case.spec}: truncation error on the "
                "right, rounding error on the left; the dashed line is the step gradcheck uses.",
                plot_step_curve(curve),
            )
        )
    norms = layer_gradient_norms(seed=seed)
    images.append(
        Image(
            "layer_norms.png",
            "Gradient norm per layer",
            "‖∂L/∂W⁽ˡ⁾‖ at initialisation in 20-layer networks of width 32: sigmoid gradients "
            "vanish towards the input; tanh and ReLU keep their scale.",
            plot_layer_norms(norms),
        )
    )
    failing = _failing_records(sweep)
    if failing:
        images.append(
            Image(
                "error_bars.png",
                "Failing checks: error against what was allowed",
                "Per failing tensor of the counterexamples: |a − b| at the worst entry, the "
                "finite-difference error bar and the allowed difference.",
                plot_error_bars(error_bars(failing)),
            )
        )
    trajectories = training_trajectories(
        base.spec, base.params, base.X, base.y, steps=TRAJECTORY_STEPS
    )
    within = ", ".join(
        f"{engine} {trajectories.steps_within(engine=engine)}/{TRAJECTORY_STEPS}"
        for engine in trajectories.engines
        if engine != "core"
    )
    images.append(
        Image(
            "trajectories.png",
            "Training trajectories",
            f"{TRAJECTORY_STEPS} steps of gradient descent from the same start in each engine; "
            f"steps within tolerance of the core: {within or 'no reference engine installed'}.",
            plot_trajectories(trajectories),
        )
    )
    return tuple(images)
