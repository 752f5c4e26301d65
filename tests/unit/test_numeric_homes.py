"""One home for each numerical concept: the black-box oracle's Richardson step is
``finite_differences.richardson``, the complex step is ``steps.COMPLEX_STEP``, the relative
error is ``compare.relative_error``, and so on. Each test pins the behaviour through the
shared definition, so a second copy that drifts from it fails here."""

from __future__ import annotations

import ast
import sys
import types
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest

from gradcheck import strategies
from gradcheck.baseline.cases import fixed_case
from gradcheck.case import NORMAL_DRAWS, UNIFORM_DRAWS, Case, draw_case
from gradcheck.compare import Verdict, compare_tensor, relative_error
from gradcheck.engines import ReferenceEngine, get_engine
from gradcheck.nn.init import init_params
from gradcheck.nn.spec import DTYPES, NetworkSpec
from gradcheck.numeric import directional, probes, steps
from gradcheck.numeric.core_complex_step import core_complex_step
from gradcheck.numeric.directional import CentralOracle, ComplexStepOracle
from gradcheck.numeric.evaluator import Evaluator
from gradcheck.numeric.finite_differences import extrapolate, richardson
from gradcheck.runs import figures
from gradcheck.runs.matrix import (
    MatrixCell,
    MatrixConfig,
    MatrixResult,
    Setting,
    _engine,
    draw_cases,
    relative_errors,
)

Array = np.ndarray
PACKAGE = Path(steps.__file__).resolve().parents[1]


def _move(params: Mapping[str, Array], v: Mapping[str, Array], t: float) -> dict[str, Array]:
    return {name: params[name] + t * v[name] for name in params}


# Richardson ---------------------------------------------------------------------------------
def _peaked(params: Mapping[str, Array]) -> float:
    """5 − Σθ² + a cubic term: at θ = 0, |L| is largest at θ itself."""
    w = params["w"]
    return float(5.0 - np.sum(w**2) + 0.3 * np.sum(w**3))


def _refined(theta: Array, v: Array) -> tuple[CentralOracle, Array, directional.Directional]:
    """A refined central estimate along v at θ (no measured noise), and its four samples."""
    params, direction = {"w": theta}, {"w": v}
    oracle = CentralOracle(Evaluator(_peaked), params, _peaked(params), noise=0.0)
    refined = oracle.refine(oracle.derivative(direction), direction)
    t = oracle.step
    samples = np.array([_peaked(_move(params, direction, m * t)) for m in (1, -1, 2, -2)])
    return oracle, samples, refined


def test_the_oracles_refined_estimate_and_error_bar_are_richardson_of_its_samples() -> None:
    theta, v = np.array([0.1, -0.2, 0.05]), np.array([1.0, -1.0, 1.0])
    oracle, samples, refined = _refined(theta, v)
    t = oracle.step
    estimate, bar = richardson(
        samples,
        np.array([t, -t, 2 * t, -2 * t]),
        noise=0.0,
        eps=steps.machine_eps("float64"),
        base=oracle.loss,
    )
    assert refined.refined and refined.evaluations == 4
    assert refined.estimate == estimate and refined.samples_estimate != estimate
    assert refined.error_bar == bar
    u1 = (_move({"w": theta}, {"w": v}, t)["w"] - _move({"w": theta}, {"w": v}, -t)["w"]) / (2 * t)
    u2 = _move({"w": theta}, {"w": v}, 2 * t)["w"] - _move({"w": theta}, {"w": v}, -2 * t)["w"]
    np.testing.assert_array_equal(refined.direction["w"], extrapolate(u1, u2 / (4 * t)))


def test_the_oracles_error_bar_counts_the_rounding_of_the_unperturbed_loss() -> None:
    """At θ = 0, L(θ) = 5 is the largest loss of the five, so σ = ε·5 only if L(θ) counts."""
    oracle, samples, refined = _refined(np.zeros(3), np.array([1.0, -1.0, 1.0]))
    t = oracle.step
    assert np.max(np.abs(samples)) < abs(oracle.loss) == 5.0
    d1 = (samples[0] - samples[1]) / (2 * t)
    sigma = steps.machine_eps("float64") * 5.0
    assert refined.error_bar == abs(refined.estimate - d1) + 3 * sigma / t


def test_richardson_cancels_the_h_squared_term() -> None:
    """For L = θ³ at θ = 1, D(h) = 3 + h² and D(2h) = 3 + 4h², so R = 3 exactly."""
    h = 0.25  # a power of two: every sample below is exact
    theta = 1.0
    losses = np.array([(theta + m * h) ** 3 for m in (1, -1, 2, -2)])
    estimate, bar = richardson(losses, np.array([h, -h, 2 * h, -2 * h]), noise=0.0, eps=0.0)
    assert estimate == 3.0 and bar == h**2  # |R − D(h)| = h², and no rounding with ε = 0


# The complex step ---------------------------------------------------------------------------
def test_the_complex_step_oracle_steps_by_steps_complex_step() -> None:
    """Im (i·t)³ / t = −t²: the probe reveals the step it took."""
    evaluator = Evaluator(lambda p: np.sum(p["w"] ** 3))
    zero = {"w": np.zeros(1)}
    probe = ComplexStepOracle(evaluator, zero, 0.0).derivative({"w": np.ones(1)})
    assert probe.estimate / -(steps.COMPLEX_STEP**2) == pytest.approx(1.0, rel=1e-12)


def test_the_core_complex_step_and_its_engine_use_the_same_step() -> None:
    case = fixed_case(NetworkSpec.parse("2-3-2 hidden=tanh loss=mse"), 0, 4)
    loss, _, bars = core_complex_step(case.spec, case.params, case.X, case.y)
    theta = np.asarray(case.params["W1"], np.float64)
    t = steps.COMPLEX_STEP * np.maximum(1.0, np.abs(theta))
    np.testing.assert_array_equal(bars["W1"], steps.COMPLEX_STEP_BAR * max(1.0, abs(loss)) * t**2)
    meta = get_engine("cs").run(case).meta
    assert meta["step"] == "1e-20·max(1,|θ|)"
    assert float(str(meta["step"]).split("·")[0]) == steps.COMPLEX_STEP


# Relative error -----------------------------------------------------------------------------
def test_relative_error_on_a_hand_case() -> None:
    a = np.array([0.0, 1.0, -2.0, 0.0, 3.0])
    b = np.array([0.0, 3.0, 2.0, 0.0, 3.0])
    rel = relative_error(np.abs(a - b), a, b)
    np.testing.assert_array_equal(rel, [0.0, 2 / 3, 2.0, 0.0, 0.0])  # 0/0 is 0
    assert relative_error(1.0, 0.0, 0.0) == np.inf
    assert np.isnan(relative_error(1.0, np.nan, 1.0))
    record = compare_tensor("t", a, b, tolerance=steps.TOLERANCES[("float64", "analytic")])
    assert record.rel_err == 2.0


def test_the_matrix_divides_by_the_reference_floored_at_a_share_of_its_largest_entry() -> None:
    ref = {"W1": np.array([1000.0, 0.5, 0.0]), "b1": np.zeros(2)}
    grads = {"W1": ref["W1"] + [1.0, 1.0, 2.0], "b1": np.array([0.0, 3.0])}
    errors = relative_errors(grads, ref)
    s = steps.MATRIX_SCALE_FRACTION * 1000.0  # = 1
    np.testing.assert_array_equal(errors["W1"], [1.0 / 1000.0, 1.0 / s, 2.0 / s])
    np.testing.assert_array_equal(errors["b1"], [0.0, 3.0])  # an all-zero reference: absolute


# Verdict, constants -------------------------------------------------------------------------
def _module_level_definitions(name: str) -> list[str]:
    """The modules of gradcheck that assign ``name`` at module level."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.parse(path.read_text()).body:
            targets = (
                node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            )
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                found.append(path.relative_to(PACKAGE).as_posix())
    return found


@pytest.mark.parametrize(
    ("name", "home"),
    [
        ("Verdict", "compare.py"),
        *(
            (name, "numeric/steps.py")
            for name in (
                "COMPLEX_STEP",
                "KINK_RATIO",
                "KINK_MARGIN",
                "TRAJECTORY_TOLERANCES",
                "PROBABILITY_MARGIN",
                "MATRIX_SCALE_FRACTION",
                "MEASURABLE_FACTOR",
            )
        ),
    ],
)
def test_each_concept_is_defined_in_one_module(name: str, home: str) -> None:
    assert _module_level_definitions(name) == [home]


def test_the_complex_step_is_written_as_a_number_only_in_steps() -> None:
    written = [
        path.relative_to(PACKAGE).as_posix()
        for path in sorted(PACKAGE.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and node.value == steps.COMPLEX_STEP
    ]
    assert written == ["numeric/steps.py"]


def test_probes_and_comparisons_share_one_verdict_type() -> None:
    assert probes.Verdict == Verdict


def test_dtype_keyed_constants_cover_every_dtype_and_live_in_steps() -> None:
    for table in (
        steps.TRAJECTORY_TOLERANCES,
        steps.PROBABILITY_MARGIN,
        steps.BLACK_BOX_ROUNDING_ULPS,
    ):
        assert set(table) == set(DTYPES)
    assert figures.TRAJECTORY_TOLERANCES is steps.TRAJECTORY_TOLERANCES
    assert strategies.KINK_MARGIN is steps.KINK_MARGIN
    tolerance = steps.black_box_tolerance("float32")
    assert tolerance.rtol == steps.BLACK_BOX_ROUNDING_ULPS["float32"] * steps.machine_eps("float32")
    assert tolerance.floor == steps.SUBNORMAL_FLOOR * float(np.finfo(np.float32).tiny)


# Reference engines take their settings ------------------------------------------------------
def test_a_reference_engine_passes_its_settings_to_loss_and_grads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[dict[str, object]] = []

    def loss_and_grads(
        spec: NetworkSpec, params: Mapping[str, Array], X: Array, y: Array, **settings: object
    ) -> tuple[float, dict[str, Array], dict[str, object]]:
        seen.append(settings)
        return 0.0, {name: np.array(value) for name, value in params.items()}, {}

    module = types.ModuleType("fake_reference")
    module.loss_and_grads = loss_and_grads  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_reference", module)
    case = fixed_case(NetworkSpec.parse("2-2 loss=mse"), 0, 2)
    plain = ReferenceEngine("fake", "fake_reference", "numpy", "a fake")
    plain.run(case)
    plain.configured({"tf32": True}).configured({"device": "cpu"}).run(case)
    assert seen == [{}, {"tf32": True, "device": "cpu"}]


def test_the_matrix_configures_references_with_setting_and_device() -> None:
    engine = _engine(
        Setting("jax", "precision", "default", (("matmul_precision", "default"),)), "cuda"
    )
    assert isinstance(engine, ReferenceEngine) and type(engine) is ReferenceEngine
    assert dict(engine.settings) == {"matmul_precision": "default", "device": "gpu"}


# The matrix summary is computed in runs.matrix ----------------------------------------------
def _cell(setting: str, worst: float, median: float, over_bar: float | None = None) -> MatrixCell:
    return MatrixCell("torch", "float32", setting, "cpu", 5, median, worst, 0.0, None, over_bar)


@pytest.mark.parametrize(
    ("on", "change"),
    [
        (_cell("tf32=on", 1e-4, 1e-6), "none"),
        (_cell("tf32=on", 2e-4, 1e-6), "unmeasurable"),
        (_cell("tf32=on", 2.01e-4, 1e-6), "moves"),
        (_cell("tf32=on", 1e-4, 2e-6), "unmeasurable"),
    ],
)
def test_summary_says_how_a_setting_changes_the_worst_error(on: MatrixCell, change: str) -> None:
    off = _cell("tf32=off", 1e-4, 1e-6, over_bar=0.5)
    summary = MatrixResult(MatrixConfig(engines=("core", "torch")), (off, on)).summary
    assert [(e.cell, e.base, e.change) for e in summary.effects] == [(on, off, change)]
    (span,) = summary.ranges
    assert span.cells == 2 and span.worst_over_bar == 0.5 and span.within_reference


# Seeded cases: one drawing function ---------------------------------------------------------
def _arrays(case: Case) -> list[Array]:
    return [*case.params.values(), case.X, case.y]


def _same(a: Case, b: Case) -> bool:
    pairs = zip(_arrays(a), _arrays(b), strict=True)
    return a.seed == b.seed and all(x.dtype == y.dtype and np.array_equal(x, y) for x, y in pairs)


@pytest.mark.parametrize(
    "text", ["3-4-2 loss=mse", "3-4-3 loss=softmax_ce", "3-2 output=sigmoid loss=bce"]
)
def test_fixed_cases_and_matrix_cases_draw_through_draw_case(text: str) -> None:
    spec = NetworkSpec.parse(text)
    assert _same(
        fixed_case(spec, 7, 5), draw_case(spec, np.random.default_rng(7), 5, UNIFORM_DRAWS, 7)
    )
    config = MatrixConfig(
        engines=("core",), examples=3, widths=spec.widths, loss=spec.loss, batch=4, seed=2
    )
    rng = np.random.default_rng(2)
    expected = [draw_case(config.spec("float64"), rng, 4, NORMAL_DRAWS, 2) for _ in range(3)]
    assert all(_same(a, b) for a, b in zip(draw_cases(config), expected, strict=True))


def test_matrix_cases_keep_their_draws() -> None:
    """Xavier-uniform weights, U(−0.5, 0.5) biases, then X and values ~ N(0, 1), in this
    order from one generator, case after case (as before the draws were shared)."""
    config = MatrixConfig(engines=("core",), examples=2, widths=(3, 4, 2), batch=5, seed=4)
    spec, rng = config.spec("float64"), np.random.default_rng(4)
    for case in draw_cases(config):
        params = init_params(spec, rng, "xavier_uniform")
        for name in ("b1", "b2"):
            params[name] = rng.uniform(-0.5, 0.5, size=params[name].shape)
        X, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
        assert _same(case, Case(spec, params, X, y, 4))
