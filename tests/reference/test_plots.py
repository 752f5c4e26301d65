"""Rendering: each plot is a PNG of the fixed size, the same data gives the same bytes, data
that a log axis cannot show (zeros, NaN, inf, empty) renders without a warning, and a missing
matplotlib is a GradcheckError that says what to install."""

from __future__ import annotations

import base64
import struct
import sys
from collections.abc import Callable

import numpy as np
import pytest

from gradcheck.case import Case
from gradcheck.compare import compare_tensor
from gradcheck.errors import GradcheckError
from gradcheck.nn.init import init_params
from gradcheck.nn.spec import NetworkSpec
from gradcheck.numeric.steps import TOLERANCES
from gradcheck.report import plots
from gradcheck.runs.figures import (
    ErrorBars,
    LayerNorms,
    StepCurve,
    Trajectories,
    error_bars,
    layer_gradient_norms,
    step_size_curve,
)

pytest.importorskip("matplotlib")

PNG = b"\x89PNG\r\n\x1a\n"
SPEC = NetworkSpec((3, 5, 2), hidden="tanh")


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk."""
    assert png.startswith(PNG) and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


def step_curve() -> StepCurve:
    rng = np.random.default_rng(1)
    case = Case(
        SPEC, init_params(SPEC, rng=1), rng.standard_normal((4, 3)), rng.normal(size=(4, 2))
    )
    return step_size_curve(case, "W1", (0, 1), steps=np.logspace(-12, -1, 12))


def layer_norms() -> tuple[LayerNorms, ...]:
    return layer_gradient_norms(("sigmoid", "relu"), depth=5, width=6, batch=3)


def trajectories(distances: dict[str, np.ndarray], notes: tuple[str, ...] = ()) -> Trajectories:
    losses = {"core": np.linspace(2.0, 0.5, 6)}
    losses.update({name: losses["core"] * (1 + 1e-15) for name in distances})
    return Trajectories(SPEC, 0.1, 5, losses, distances, 1e-10, notes)


def bars() -> ErrorBars:
    tight = TOLERANCES[("float64", "analytic")]
    a = np.array([1.0, 2.0])
    return error_bars(
        [
            compare_tensor(
                "W1", a, a + np.array([0, 1e-6]), tolerance=tight, engines=("core", "torch")
            ),
            compare_tensor("b1", a, a.copy(), tolerance=tight, engines=("core", "jax")),  # 0 error
            compare_tensor(
                "W2", a, a + np.array([np.inf, 0]), tolerance=tight, engines=("core", "fd")
            ),
        ]
    )


CASES: dict[str, tuple[Callable[[], bytes], tuple[int, int]]] = {
    "step_curve": (lambda: plots.plot_step_curve(step_curve()), (640, 420)),
    "layer_norms": (lambda: plots.plot_layer_norms(layer_norms()), (640, 420)),
    "trajectories": (
        lambda: plots.plot_trajectories(
            trajectories({"torch": np.array([0, 1e-16, 2e-16, 0, 1e-9, 1e-9]), "jax": np.zeros(6)})
        ),
        (1100, 420),
    ),
    "trajectories_core_only": (
        lambda: plots.plot_trajectories(trajectories({}, ("torch skipped", "jax skipped"))),
        (1100, 420),
    ),
    "error_bars": (lambda: plots.plot_error_bars(bars()), (840, 325)),
    "error_bars_empty": (lambda: plots.plot_error_bars(error_bars([])), (840, 215)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_plot_is_a_png_of_fixed_size(name: str) -> None:
    render, size = CASES[name]
    png = render()
    assert isinstance(png, bytes) and png.startswith(PNG)
    assert png_size(png) == size


def test_the_same_data_gives_the_same_bytes() -> None:
    curve = step_curve()
    assert plots.plot_step_curve(curve) == plots.plot_step_curve(curve)


def test_png_data_uri_round_trips_through_base64() -> None:
    png = plots.plot_layer_norms(layer_norms())
    uri = plots.png_data_uri(png)
    prefix, _, payload = uri.partition(",")
    assert prefix == "data:image/png;base64"
    assert base64.b64decode(payload, validate=True) == png


def test_png_data_uri_refuses_bytes_that_are_not_a_png() -> None:
    with pytest.raises(GradcheckError, match="PNG"):
        plots.png_data_uri(b"GIF89a")


def test_layer_norms_need_something_to_plot() -> None:
    with pytest.raises(GradcheckError, match="plot_layer_norms needs at least one LayerNorms"):
        plots.plot_layer_norms(())


def test_without_matplotlib_plots_say_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, module, None)  # makes the import raise ImportError
    assert plots.plots_available() is False
    with pytest.raises(GradcheckError, match=r"pip install 'gradcheck\[plots\]'"):
        plots.plot_layer_norms(layer_norms())
