"""The report's pictures: PNG renderings of the data in ``gradcheck.runs.figures``. Rendering
only: every number drawn here was computed there. ``report_images`` picks what a sweep's
report shows:

- error against step size for finite differences (the V), float64 and float32, at an entry
  of a fixed small network (``baseline.cases.fixed_case``), with gradcheck's step marked;
- per-layer gradient norm against depth for deep sigmoid, tanh and ReLU networks;
- per-parameter error bars of the failing checks, when there are any;
- training trajectories: K steps of w ← w − η∇L in the core, torch (SGD) and JAX.

matplotlib is optional (``pip install 'gradcheck[plots]'``) and imported on first use. Each
figure is a stand-alone ``matplotlib.figure.Figure`` drawn by the Agg canvas: pyplot and its
global figure registry are never touched, so nothing is left open and no backend is switched.
Sizes and DPI are fixed and the PNG carries no version metadata, so the same data gives the
same bytes on the same matplotlib.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from gradcheck.baseline.cases import fixed_case
from gradcheck.case import Case
from gradcheck.compare import Record
from gradcheck.errors import GradcheckError
from gradcheck.nn.spec import NetworkSpec
from gradcheck.report.model import Image
from gradcheck.runs.figures import (
    ErrorBars,
    LayerNorms,
    StepCurve,
    Trajectories,
    error_bars,
    layer_gradient_norms,
    step_size_curve,
    training_trajectories,
)
from gradcheck.runs.sweep import SweepResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes  # type: ignore[import-not-found, unused-ignore]
    from matplotlib.figure import Figure  # type: ignore[import-not-found, unused-ignore]

__all__ = [
    "TRAJECTORY_STEPS",
    "plot_error_bars",
    "plot_layer_norms",
    "plot_step_curve",
    "plot_trajectories",
    "plots_available",
    "png_data_uri",
    "report_images",
]

DPI = 100
SIZE = (6.4, 4.2)  # inches
WIDE = (11.0, 4.2)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MISSING = "plots need matplotlib: pip install 'gradcheck[plots]'"
ENGINE_STYLES: dict[str, dict[str, Any]] = {
    "core": {"color": "C0", "linestyle": "-", "linewidth": 3.0, "alpha": 0.6},
    "torch": {"color": "C1", "linestyle": "--", "linewidth": 1.6},
    "jax": {"color": "C2", "linestyle": ":", "linewidth": 2.0},
}


def plots_available() -> bool:
    """Whether matplotlib can be imported (the ``plots`` extra is installed)."""
    try:
        import matplotlib  # type: ignore[import-not-found, unused-ignore]  # noqa: F401
    except ImportError:
        return False
    return True


def png_data_uri(png: bytes) -> str:
    """``data:image/png;base64,…`` for an ``<img src>`` in an HTML report."""
    if not bytes(png).startswith(PNG_SIGNATURE):
        raise GradcheckError("png_data_uri needs PNG bytes (they start with b'\\x89PNG')")
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _figure(size: tuple[float, float]) -> Figure:
    try:
        from matplotlib.backends.backend_agg import (  # type: ignore[import-not-found, unused-ignore]
            FigureCanvasAgg,
        )
        from matplotlib.figure import Figure  # type: ignore[import-not-found, unused-ignore]
    except ImportError as error:
        raise GradcheckError(MISSING) from error
    figure = Figure(figsize=size, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    figure.clear()
    return buffer.getvalue()


def _positive(values: np.ndarray) -> np.ndarray:
    """Entries ≤ 0 (and non-finite ones) as NaN: gaps on a log axis instead of warnings."""
    values = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(values) & (values > 0), values, np.nan)


def _log_limits(*arrays: np.ndarray) -> tuple[float, float] | None:
    """A decade below the smallest and above the largest positive finite value, if any."""
    values = np.concatenate([_positive(a).ravel() for a in arrays])
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    return float(values.min()) / 10, float(values.max()) * 10


def _empty(axes: Axes, text: str) -> None:
    axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes)
    axes.set_xticks([])
    axes.set_yticks([])


def plot_step_curve(curve: StepCurve) -> bytes:
    """log-log |D(h) − ∂L/∂θ_i| against h, with gradcheck's step marked by a labelled
    vertical line. Steps whose error is exactly 0 leave a gap."""
    figure = _figure(SIZE)
    axes = figure.add_subplot()
    limits = _log_limits(curve.errors)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.plot(curve.steps, _positive(curve.errors), marker="o", markersize=3, label="|D(h) − g|")
    axes.axvline(curve.chosen, color="C3", linestyle="--", label="gradcheck's step")
    axes.text(
        curve.chosen,
        0.97,
        f" h = {curve.chosen:.2g}",
        color="C3",
        va="top",
        transform=axes.get_xaxis_transform(),
    )
    axes.set_xlim(float(curve.steps.min()) / 2, float(curve.steps.max()) * 2)
    if limits is not None:
        axes.set_ylim(*limits)
    axes.set_xlabel("step h")
    axes.set_ylabel("absolute error")
    axes.set_title(
        f"Central difference D(h) of {curve.label} ({curve.dtype}), g = {curve.gradient:.6g}"
    )
    axes.grid(True, which="major", alpha=0.3)
    axes.legend(loc="lower right")
    return _png(figure)


def plot_layer_norms(norms: Sequence[LayerNorms]) -> bytes:
    """‖∂L/∂W⁽ˡ⁾‖_F against the layer l, log-y, one line per activation."""
    if not norms:
        raise GradcheckError("plot_layer_norms needs at least one LayerNorms")
    figure = _figure(SIZE)
    from matplotlib.ticker import MaxNLocator  # type: ignore[import-not-found, unused-ignore]

    axes = figure.add_subplot()
    axes.set_yscale("log")
    for entry in norms:
        axes.plot(
            entry.layers, _positive(entry.norms), marker="o", markersize=3, label=entry.activation
        )
    limits = _log_limits(*(entry.norms for entry in norms))
    if limits is not None:
        axes.set_ylim(*limits)
    first = norms[0].spec
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("layer l (1 = next to the input)")
    axes.set_ylabel(r"$\|\partial L / \partial W^{(l)}\|_F$")
    axes.set_title(
        f"Gradient norm per layer: depth {first.depth}, width {first.widths[1]}, "
        f"{norms[0].init}, {first.loss}"
    )
    axes.grid(True, which="major", alpha=0.3)
    axes.legend(title="activation")
    return _png(figure)


def plot_trajectories(trajectories: Trajectories) -> bytes:
    """Left: L(θ_k) per step k for each engine. Right: each reference engine's parameter
    distance from the core per step, log-y, with the tolerance as a horizontal line."""
    figure = _figure(WIDE)
    loss_axes, distance_axes = figure.subplots(1, 2)
    steps = np.arange(trajectories.steps + 1)
    for engine, losses in trajectories.losses.items():
        loss_axes.plot(steps, losses, label=engine, **ENGINE_STYLES.get(engine, {}))
    loss_axes.set_xlabel("step k")
    loss_axes.set_ylabel(r"loss $L(\theta_k)$")
    loss_axes.set_title(f"Gradient descent, lr = {trajectories.lr:g}")
    loss_axes.grid(True, alpha=0.3)
    loss_axes.legend()

    if not trajectories.distances:
        _empty(distance_axes, "\n".join(trajectories.notes) or "no reference engine")
    else:
        distance_axes.set_yscale("log")
        for engine, distance in trajectories.distances.items():
            distance_axes.plot(
                steps, _positive(distance), label=engine, **ENGINE_STYLES.get(engine, {})
            )
        tolerance = trajectories.tolerance
        distance_axes.axhline(
            tolerance, color="C3", linestyle="--", label=f"tolerance {tolerance:.0e}"
        )
        limits = _log_limits(np.array([tolerance]), *trajectories.distances.values())
        if limits is not None:
            distance_axes.set_ylim(*limits)
        distance_axes.set_xlabel("step k")
        distance_axes.set_ylabel(
            r"$\max|\theta_{engine} - \theta_{core}|\ /\ \|\theta_{core}\|_\infty$"
        )
        distance_axes.set_title(
            f"Distance from the core ({trajectories.steps_within()} steps within)"
        )
        distance_axes.grid(True, which="major", alpha=0.3)
        distance_axes.legend()
    figure.suptitle(str(trajectories.spec), fontsize="small")
    return _png(figure)


def plot_error_bars(bars: ErrorBars) -> bytes:
    """Per row, horizontal bars of |a − b| (red where the Record failed) and of what was
    allowed, on a log x axis, with the finite-difference error bar as a marker. Zero values
    draw no bar; non-finite ones run to the right edge and are marked "inf"."""
    rows = len(bars)
    figure = _figure((SIZE[0] + 2.0, 1.6 + 0.55 * max(rows, 1)))
    axes = figure.add_subplot()
    if rows == 0:
        _empty(axes, "no records")
        return _png(figure)
    limits = _log_limits(bars.abs_err, bars.allowed, bars.error_bar) or (1e-17, 1.0)
    left, right = limits
    y = np.arange(rows)

    def widths(values: np.ndarray) -> np.ndarray:
        clipped = np.where(np.isfinite(values), values, right)
        return np.where(clipped > left, clipped - left, 0.0)

    colours = ["C3" if failed else "C0" for failed in bars.failed]
    axes.set_xscale("log")
    axes.barh(
        y - 0.2,
        widths(bars.abs_err),
        height=0.38,
        left=left,
        color=colours,
        label="|a − b| (red: failed)",
    )
    axes.barh(y + 0.2, widths(bars.allowed), height=0.38, left=left, color="0.7", label="allowed")
    shown = _positive(bars.error_bar)
    if np.isfinite(shown).any():
        axes.plot(
            shown,
            y - 0.2,
            linestyle="none",
            marker="|",
            markersize=14,
            color="k",
            label="error bar",
        )
    for row in np.flatnonzero(~np.isfinite(bars.abs_err)):
        axes.text(right, row - 0.2, "inf ", ha="right", va="center", color="w")
    axes.set_xlim(left, right)
    axes.set_yticks(y, bars.labels)
    axes.invert_yaxis()
    axes.set_xlabel("absolute value at the worst entry")
    axes.set_title("Worst entry per tensor: error against tolerance")
    axes.grid(True, axis="x", which="major", alpha=0.3)
    axes.legend(loc="lower right", fontsize="small")
    return _png(figure)


TRAJECTORY_STEPS = 50
_FIXED = NetworkSpec((4, 8, 3), hidden="tanh", loss="mse")
_FIXED_BATCH = 6


def report_images(sweep: SweepResult) -> tuple[Image, ...]:
    """The report's pictures, or none when matplotlib is not installed."""
    if not plots_available():
        return ()
    seed = sweep.config.seed
    base = fixed_case(_FIXED, seed, batch=_FIXED_BATCH)
    failing = [
        r for cell in sweep.cells if cell.counterexample for r in cell.counterexample.failures
    ]
    return (
        *(_step_size_image(base.with_dtype(dtype)) for dtype in ("float64", "float32")),
        _layer_norms_image(seed),
        *((_error_bars_image(failing),) if failing else ()),
        _trajectories_image(base),
    )


def _step_size_image(case: Case) -> Image:
    curve = step_size_curve(case, "W1", (0, 0))
    return Image(
        f"step_size_{case.spec.dtype}.png",
        f"Finite-difference error against step size ({case.spec.dtype})",
        f"Central difference of {curve.label} in {case.spec}: truncation error on the "
        "right, rounding error on the left; the dashed line is the step gradcheck uses.",
        plot_step_curve(curve),
    )


def _layer_norms_image(seed: int) -> Image:
    return Image(
        "layer_norms.png",
        "Gradient norm per layer",
        "‖∂L/∂W⁽ˡ⁾‖ at initialisation in 20-layer networks of width 32: sigmoid gradients "
        "vanish towards the input; tanh and ReLU keep their scale.",
        plot_layer_norms(layer_gradient_norms(seed=seed)),
    )


def _error_bars_image(failing: list[Record]) -> Image:
    return Image(
        "error_bars.png",
        "Failing checks: error against what was allowed",
        "Per failing tensor of the counterexamples: |a − b| at the worst entry, the "
        "finite-difference error bar and the allowed difference.",
        plot_error_bars(error_bars(failing)),
    )


def _trajectories_image(base: Case) -> Image:
    trajectories = training_trajectories(
        base.spec, base.params, base.X, base.y, steps=TRAJECTORY_STEPS
    )
    within = ", ".join(
        f"{engine} {trajectories.steps_within(engine=engine)}/{TRAJECTORY_STEPS}"
        for engine in trajectories.engines
        if engine != "core"
    )
    return Image(
        "trajectories.png",
        "Training trajectories",
        f"{TRAJECTORY_STEPS} steps of gradient descent from the same start in each engine; "
        f"steps within tolerance of the core: {within or 'no reference engine installed'}.",
        plot_trajectories(trajectories),
    )
