"""The data behind the pictures (NumPy only): the V curve of the central difference, gradient
norms per layer, the bookkeeping of trajectories and the rows of the error-bar chart."""

from __future__ import annotations

import numpy as np
import pytest

import gradcheck.runs.figures as figures
from gradcheck.case import Case
from gradcheck.compare import Record, compare_tensor
from gradcheck.errors import GradcheckError, ShapeError, UnknownNameError
from gradcheck.nn.init import init_params
from gradcheck.nn.spec import NetworkSpec
from gradcheck.numeric.steps import TOLERANCES, Tolerance
from gradcheck.runs.figures import (
    TRAJECTORY_TOLERANCES,
    Trajectories,
    error_bars,
    layer_gradient_norms,
    step_size_curve,
    training_trajectories,
)
from tests.helpers import modules_imported_by

TIGHT = TOLERANCES[("float64", "analytic")]


def small_case(dtype: str = "float64") -> Case:
    spec = NetworkSpec((3, 5, 2), hidden="tanh", dtype=dtype)
    rng = np.random.default_rng(1)
    X = rng.standard_normal((4, 3)).astype(dtype)
    y = rng.standard_normal((4, 2)).astype(dtype)
    return Case(spec, init_params(spec, rng=1), X, y)


# The V curve -----------------------------------------------------------------------------------
def test_float64_step_curve_bottoms_out_near_gradchecks_step() -> None:
    curve = step_size_curve(small_case(), "W1", (1, 2))
    assert curve.chosen == pytest.approx(np.finfo(np.float64).eps ** (1 / 3))
    assert abs(np.log10(curve.best_step / curve.chosen)) <= 2
    # A correct analytic gradient: the central difference gets within ~1e-10 of it.
    assert curve.errors.min() < 1e-9 * abs(curve.gradient)


def test_step_curve_is_a_v_rounding_on_the_left_truncation_on_the_right() -> None:
    curve = step_size_curve(small_case(), "b1", (0,))
    smallest, largest = curve.steps[0], curve.steps[-1]
    assert (smallest, largest) == (pytest.approx(1e-12), pytest.approx(1e-1))
    floor = curve.errors.min()
    assert curve.errors[0] > 1e3 * floor
    assert curve.errors[-1] > 1e3 * floor
    # Truncation error is c·h² on the right arm: a decade of h is two decades of error.
    right = curve.steps >= 1e-3
    slope = np.polyfit(np.log10(curve.steps[right]), np.log10(curve.errors[right]), 1)[0]
    assert slope == pytest.approx(2.0, abs=0.2)


def test_float32_moves_the_bottom_of_the_v_to_a_larger_step() -> None:
    # (Not W2: with an identity output and mse, L is quadratic in W2, the central difference
    # has no truncation error and the V has no right arm.)
    c64 = step_size_curve(small_case("float64"), "W1", (1, 0))
    c32 = step_size_curve(small_case("float32"), "W1", (1, 0))
    assert c32.dtype == "float32" and c32.chosen == pytest.approx(4.92e-3, rel=1e-2)
    assert c32.best_step > 100 * c64.best_step
    assert abs(np.log10(c32.best_step / c32.chosen)) <= 2
    # Where θ ± h rounds back to θ in float32, D(h) = 0 and the error is the whole |g|.
    assert c32.errors[0] == pytest.approx(abs(c32.gradient))


def test_step_curve_on_a_custom_grid_names_its_entry() -> None:
    steps = [1e-6, 1e-4]
    curve = step_size_curve(small_case(), "W1", (0, 2), steps=steps)
    assert curve.steps.tolist() == steps and curve.errors.shape == (2,)
    assert curve.label == "W1[0,2]" and curve.index == (0, 2)
    assert not curve.errors.flags.writeable


@pytest.mark.parametrize(
    ("tensor", "index", "steps", "error"),
    [
        ("W9", (0, 0), None, UnknownNameError),
        ("W1", (5, 0), None, ShapeError),
        ("W1", (0,), None, ShapeError),
        ("W1", (0, 0), [1e-3, 0.0], GradcheckError),
        ("W1", (0, 0), [], GradcheckError),
    ],
)
def test_step_curve_refuses_bad_entries_and_grids(
    tensor: str, index: tuple[int, ...], steps: list[float] | None, error: type[Exception]
) -> None:
    kwargs = {} if steps is None else {"steps": steps}
    with pytest.raises(error):
        step_size_curve(small_case(), tensor, index, **kwargs)  # type: ignore[arg-type]


# Gradient norms per layer ------------------------------------------------------------------------
def test_sigmoid_gradients_vanish_towards_the_input_and_tanh_ones_do_not() -> None:
    sigmoid, tanh = layer_gradient_norms(("sigmoid", "tanh"), depth=20)
    assert (sigmoid.activation, tanh.activation) == ("sigmoid", "tanh")
    assert sigmoid.norms.shape == (20,) and sigmoid.layers.tolist() == list(range(1, 21))
    assert sigmoid.norms[0] < 1e-6 * sigmoid.norms[-1]
    assert np.all(np.diff(np.log10(sigmoid.norms[:10])) > 0)  # shrinking layer by layer
    assert 0.1 < tanh.norms[0] / tanh.norms[-1] < 10


def test_layer_norms_are_reproducible_per_seed() -> None:
    first = layer_gradient_norms(("relu",), depth=4, width=6, batch=3, seed=5)[0]
    again = layer_gradient_norms(("relu",), depth=4, width=6, batch=3, seed=5)[0]
    other = layer_gradient_norms(("relu",), depth=4, width=6, batch=3, seed=6)[0]
    assert np.array_equal(first.norms, again.norms)
    assert not np.array_equal(first.norms, other.norms)
    assert first.spec.widths == (6,) * 5 and first.init == "xavier_uniform"


@pytest.mark.parametrize("bad", [{"depth": 0}, {"width": -1}, {"batch": 2.5}])
def test_layer_norms_refuse_bad_sizes(bad: dict[str, object]) -> None:
    with pytest.raises(GradcheckError):
        layer_gradient_norms(**bad)  # type: ignore[arg-type]


# Trajectories: bookkeeping ------------------------------------------------------------------------
def trajectories(distances: dict[str, list[float]], steps: int = 3) -> Trajectories:
    return Trajectories(
        spec=small_case().spec,
        lr=0.1,
        steps=steps,
        losses={"core": np.linspace(1, 0.5, steps + 1)},
        distances={k: np.array(v) for k, v in distances.items()},
        tolerance=1e-10,
    )


def test_steps_within_counts_the_leading_updates_inside_the_tolerance() -> None:
    t = trajectories({"torch": [0, 1e-12, 1e-9, 1e-12], "jax": [0, 1e-16, 1e-16, 1e-16]})
    assert t.steps_within(engine="torch") == 1
    assert t.steps_within(engine="jax") == 3
    assert t.steps_within() == 1  # every reference engine
    assert t.steps_within(tolerance=1e-8) == 3
    assert trajectories({"jax": [1e-3, 0, 0, 0]}).steps_within() == 0  # a different start
    assert trajectories({"jax": [0, 0, float("nan"), 0]}).steps_within() == 1
    assert trajectories({}).steps_within() == 3
    with pytest.raises(UnknownNameError):
        t.steps_within(engine="mine")


def test_core_only_trajectory_when_no_reference_is_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Missing:
        def unavailable_reason(self) -> str:
            return "not installed here"

    monkeypatch.setattr(figures, "get_engine", lambda name: Missing())
    case = small_case()
    t = training_trajectories(case.spec, case.params, case.X, case.y, steps=5, lr=0.1)
    assert t.engines == ("core",) and not t.distances
    assert t.notes == ("torch skipped: not installed here", "jax skipped: not installed here")
    assert t.losses["core"].shape == (6,) and t.losses["core"][-1] < t.losses["core"][0]
    assert t.tolerance == TRAJECTORY_TOLERANCES["float64"] and t.steps_within() == 5


@pytest.mark.parametrize(
    "kwargs",
    [{"steps": 0}, {"lr": -0.1}, {"lr": float("nan")}, {"engine_lr": {"mine": 0.1}}],
)
def test_trajectories_refuse_bad_settings_before_running(kwargs: dict[str, object]) -> None:
    case = small_case()
    with pytest.raises(GradcheckError):
        training_trajectories(case.spec, case.params, case.X, case.y, **kwargs)  # type: ignore[arg-type]


# Error bars --------------------------------------------------------------------------------------
def test_error_bars_hold_the_worst_entry_of_each_record() -> None:
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    b = a.copy()
    b[1, 0] += 1e-6
    failing = compare_tensor("W2", a, b, tolerance=TIGHT, engines=("core", "torch"))
    passing = compare_tensor(
        "b1",
        np.array([0.5]),
        np.array([0.5 + 1e-9]),
        tolerance=TIGHT,
        engines=("core", "fd"),
        error_bar=np.array([2e-9]),
    )
    hand = Record(
        engine_a="fd",
        engine_b="jax",
        tensor="W1",
        shape=(1,),
        index=(0,),
        value_a=1.0,
        value_b=1.5,
        abs_err=0.5,
        rel_err=1 / 3,
        error_bar=1e-7,
        allowed=0.1,
        ratio=5.0,
        checked=1,
        kink_entries=0,
        tolerance=Tolerance(rtol=0.1, atol=0.0),
        verdict="fail",
    )
    bars = error_bars([failing, passing, hand])
    assert bars.labels == ("W2 (core vs torch)", "b1 (core vs fd)", "W1 (fd vs jax)")
    assert len(bars) == 3
    assert bars.abs_err == pytest.approx([1e-6, 1e-9, 0.5], rel=1e-6)
    assert bars.error_bar.tolist() == [0.0, 2e-9, 1e-7]
    assert bars.allowed.tolist() == [failing.allowed, passing.allowed, 0.1]
    assert bars.failed.tolist() == [True, False, True]
    assert np.all(bars.abs_err[bars.failed] > bars.allowed[bars.failed])


def test_error_bars_of_no_records_are_empty() -> None:
    bars = error_bars([])
    assert len(bars) == 0 and bars.abs_err.shape == (0,) and bars.failed.dtype == np.bool_


def test_importing_the_figure_modules_imports_no_optional_library() -> None:
    loaded = modules_imported_by(
        "import gradcheck.runs.figures, gradcheck.report.plots", ["torch", "jax", "matplotlib"]
    )
    assert loaded == []
