"""The core under a complex step: Im F(x + ih)/h against the analytic derivative.

Every activation and loss must continue analytically to complex arguments (branches chosen
by the real part, no abs/max/clip on complex values), so that the complex-step derivative of
f, of L(ŷ) and of the network's L(θ) equals f′, ∂L/∂ŷ and ∇L·v to rounding. Parametrised
over the registries, so a new entry is tested as soon as it is registered.

The real part of a complex evaluation matches the real evaluation to a few ulps, not bit for
bit: NumPy's complex exp, log and tanh are separate implementations from its real ones.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck.errors import DomainError, NonFiniteError
from gradcheck.nn.activations import ACTIVATIONS, get_activation
from gradcheck.nn.losses import LOSSES, TargetKind, get_loss
from gradcheck.nn.network import complex_loss_value, complex_losses, loss_and_grads
from gradcheck.nn.spec import NetworkSpec

ACTIVATION_NAMES = [*sorted(ACTIVATIONS), "leaky_relu(slope=0.2)", "elu(alpha=0.5)"]
LOSS_NAMES = [*sorted(LOSSES), "huber(delta=0.5)"]
STEP = 1e-20
KINK_MARGIN = 1e-3
B, K = 4, 3
# Im f(z + ih)/h has no cancellation, so it meets f′ to rounding; Re f(z + ih) is f(z) to a
# few ulps (the complex ufuncs round differently).
DERIVATIVE_TOL = {"rtol": 1e-12, "atol": 1e-14}
REAL_PART_TOL = {"rtol": 1e-15, "atol": 1e-15}


def _step_sizes(x: np.ndarray) -> np.ndarray:
    """h = 1e-20·max(1, |x|) per entry."""
    return STEP * np.maximum(1.0, np.abs(x))


def _targets(kind: TargetKind, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Targets from a loss's declared domain, for outputs of ``shape`` (B, K)."""
    if kind == "labels":
        return rng.integers(0, shape[1], size=shape[0])
    if kind == "probability":
        return rng.uniform(0.0, 1.0, size=shape)
    return rng.normal(size=shape)


# (1) activations ---------------------------------------------------------------------------


def _grid_away_from_kinks(name: str) -> np.ndarray:
    """200 points in [−8, 8], minus those within KINK_MARGIN of a kink or of 0 (where the
    piecewise formulas switch)."""
    z = np.linspace(-8.0, 8.0, 200)
    for point in {*get_activation(name).kinks, 0.0}:
        z = z[np.abs(z - point) > KINK_MARGIN]
    return z


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_activation_complex_step_matches_derivative(name: str) -> None:
    act = get_activation(name)
    z = _grid_away_from_kinks(name)
    h = _step_sizes(z)
    a = act.f(z)
    stepped = act.f(z + 1j * h)
    assert stepped.dtype == np.complex128, f"{name}: f dropped the imaginary part"
    np.testing.assert_allclose(stepped.imag / h, act.df(z, a), **DERIVATIVE_TOL, err_msg=name)
    np.testing.assert_allclose(stepped.real, a, **REAL_PART_TOL, err_msg=name)


# (4) the real path keeps its dtype ---------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_activation_keeps_dtype(name: str, dtype: str) -> None:
    z = np.linspace(-3.0, 3.0, 13).astype(dtype).reshape(13, 1)
    a = get_activation(name).f(z)
    assert a.dtype == dtype, f"{name}: f returned {a.dtype} for {dtype} input"
    assert a.shape == z.shape


# (2) losses --------------------------------------------------------------------------------


def _loss_cases() -> list[object]:
    """Every loss with targets of its kind; labels also as soft rows (a Dirichlet draw)."""
    cases = []
    for name in LOSS_NAMES:
        cases.append(pytest.param(name, False, id=name))
        if get_loss(name).target == "labels":
            cases.append(pytest.param(name, True, id=f"{name}-soft"))
    return cases


def _loss_batch(name: str, soft: bool, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Predictions well inside the loss's output range, and targets from its domain."""
    loss = get_loss(name)
    lo, hi = loss.output_range
    if np.isfinite(lo) and np.isfinite(hi):
        yhat = rng.uniform(lo + 0.05 * (hi - lo), hi - 0.05 * (hi - lo), size=(B, K))
    else:
        yhat = rng.normal(0.0, 2.0, size=(B, K))
    y = rng.dirichlet(np.ones(K), size=B) if soft else _targets(loss.target, (B, K), rng)
    loss.check_target(y, yhat.shape)
    return yhat, y


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("name", "soft"), _loss_cases())
def test_loss_complex_step_matches_gradient(name: str, soft: bool, seed: int) -> None:
    loss = get_loss(name)
    yhat, y = _loss_batch(name, soft, np.random.default_rng(seed))
    # One stacked call: network s of the stack has its entry s (in C order) stepped by i·h_s.
    h = _step_sizes(yhat)
    stack = yhat + 1j * (np.eye(yhat.size) * h.ravel()).reshape(yhat.size, *yhat.shape)
    stepped = loss.value(stack, y)
    assert stepped.shape == (yhat.size,)
    np.testing.assert_allclose(
        (stepped.imag / h.ravel()).reshape(yhat.shape),
        loss.grad(yhat, y),
        **DERIVATIVE_TOL,
        err_msg=name,
    )
    np.testing.assert_allclose(stepped.real, loss.value(yhat, y), **REAL_PART_TOL, err_msg=name)


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_check_prediction_reads_the_real_part(name: str) -> None:
    loss = get_loss(name)
    yhat, _ = _loss_batch(name, False, np.random.default_rng(0))
    loss.check_prediction(yhat + 1j * STEP)
    hi = loss.output_range[1]
    if np.isfinite(hi):
        yhat[1, 2] = hi + 0.5
        with pytest.raises(DomainError, match=rf"ŷ\[1, 2\] = {hi + 0.5}"):
            loss.check_prediction(yhat + 1j * STEP)


# (3) networks ------------------------------------------------------------------------------

SPECS = {
    "sigmoid-mse": NetworkSpec((3, 4, 2), hidden="sigmoid", loss="mse"),
    "tanh-softmax_ce-mean": NetworkSpec(
        (3, 5, 4, 3), hidden="tanh", loss="softmax_ce", reduction="mean"
    ),
    "relu-bce": NetworkSpec((4, 6, 5, 2), hidden="relu", loss="bce"),
    "elu-huber": NetworkSpec((3, 5, 4, 2), hidden="elu", loss="huber(delta=0.5)"),
    "gelu-bce_logits": NetworkSpec((3, 4, 4, 2), hidden="gelu", loss="bce_logits"),
    "silu-softmax_ce-residual": NetworkSpec(
        (3, 4, 4, 4, 3), hidden="silu", loss="softmax_ce", residual=(2, 3)
    ),
    "softplus-leaky_relu-mse-residual": NetworkSpec(
        (2, 4, 4, 4), hidden="softplus", output="leaky_relu(slope=0.2)", residual=(2, 3)
    ),
}


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("key", sorted(SPECS))
def test_network_complex_step_matches_directional_derivative(key: str, seed: int) -> None:
    spec = SPECS[key]
    rng = np.random.default_rng(seed)
    params = {name: 0.8 * rng.normal(size=shape) for name, shape in spec.param_shapes().items()}
    X = rng.normal(size=(5, spec.widths[0]))
    y = _targets(spec.loss_fn.target, (5, spec.widths[-1]), rng)
    loss, grads = loss_and_grads(spec, params, X, y)
    # θ_i + i·h_i·v_i with h_i = 1e-20·max(1, |θ_i|), so Im L / 1e-20 = Σ_i ∂L/∂θ_i·u_i
    # with u_i = max(1, |θ_i|)·v_i.
    u = {name: rng.normal(size=p.shape) * _step_sizes(p) / STEP for name, p in params.items()}
    stepped = complex_loss_value(
        spec, {name: p + 1j * STEP * u[name] for name, p in params.items()}, X, y
    )
    terms = np.concatenate([(grads[name] * u[name]).ravel() for name in params])
    assert stepped.imag / STEP == pytest.approx(
        terms.sum(), rel=1e-10, abs=1e-13 * np.abs(terms).sum()
    )
    assert stepped.real == pytest.approx(loss, rel=1e-14, abs=1e-15)


def test_complex_losses_shapes_and_reduction() -> None:
    spec = NetworkSpec((2, 3), loss="mse", reduction="mean")
    rng = np.random.default_rng(0)
    yhat, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    stack = yhat + 1j * STEP * rng.normal(size=(5, 4, 3))
    single = complex_losses(spec, yhat + 0j, y)
    stacked = complex_losses(spec, stack, y)
    assert single.shape == () and single.dtype == np.complex128
    assert stacked.shape == (5,) and stacked.dtype == np.complex128
    # "mean" divides by the batch size 4, in both parts.
    expected = 0.5 * np.sum((stack - y) ** 2, axis=(-2, -1)) / 4
    np.testing.assert_allclose(stacked, expected, rtol=1e-15)


def test_complex_losses_raise_on_non_finite_or_out_of_domain_real_part() -> None:
    y = np.zeros((2, 2))
    # Complex arithmetic may overflow to nan where the real one gives inf; either raises.
    with pytest.raises(NonFiniteError, match=r"loss mse is (inf|nan) for network"):
        complex_losses(NetworkSpec((2, 2)), np.array([[1e200, 0], [0, 0]]) + 1j * STEP, y)
    with pytest.raises(DomainError, match="strictly inside"):
        complex_losses(NetworkSpec((2, 2), loss="bce"), np.full((2, 2), 1.0) + 1j * STEP, y + 0.5)
