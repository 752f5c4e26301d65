"""Losses: ∂L/∂ŷ against finite differences, dtype, target/prediction domains, known values.

Parametrised over the registry; each loss's targets are drawn from the domain its entry
declares (``target``: real, probability or labels; ``output_range`` for the predictions).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradcheck.errors import DomainError, ShapeError
from gradcheck.nn.losses import LOSSES, Loss, get_loss

NAMES = [*sorted(LOSSES), "huber(delta=0.5)"]
DTYPES = [np.float64, np.float32]
B, K = 5, 3
FD_STEP = 1e-6


def _batch(
    loss: Loss, rng: np.random.Generator, dtype: type[np.floating] = np.float64
) -> tuple[np.ndarray, np.ndarray]:
    """Predictions strictly inside the loss's output range and targets from its target kind."""
    lo, hi = loss.output_range
    if math.isfinite(lo) and math.isfinite(hi):
        margin = 0.05 * (hi - lo)
        yhat = rng.uniform(lo + margin, hi - margin, size=(B, K))
    else:
        yhat = rng.normal(0.0, 2.0, size=(B, K))
    if loss.target == "labels":
        y = rng.integers(0, K, size=B)
        return yhat.astype(dtype), y
    y = rng.uniform(0.0, 1.0, (B, K)) if loss.target == "probability" else rng.normal(size=(B, K))
    return yhat.astype(dtype), y.astype(dtype)


def _central_difference_grad(loss: Loss, yhat: np.ndarray, y: np.ndarray) -> np.ndarray:
    """∂L/∂ŷ entry by entry, (L(ŷ + h·e_i) − L(ŷ − h·e_i)) / 2h, in float64."""
    yhat = yhat.astype(np.float64)
    grad = np.zeros_like(yhat)
    for index in np.ndindex(yhat.shape):
        up, down = yhat.copy(), yhat.copy()
        up[index] += FD_STEP
        down[index] -= FD_STEP
        grad[index] = (loss.value(up, y) - loss.value(down, y)) / (2 * FD_STEP)
    return grad


def _one_hot(labels: np.ndarray, classes: int) -> np.ndarray:
    return np.eye(classes)[labels]


# gradient ----------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_central_difference(name: str, seed: int) -> None:
    loss = get_loss(name)
    yhat, y = _batch(loss, np.random.default_rng(seed))
    np.testing.assert_allclose(
        loss.grad(yhat, y),
        _central_difference_grad(loss, yhat, y),
        rtol=1e-6,
        atol=1e-7,
        err_msg=name,
    )


def test_softmax_ce_gradient_matches_central_difference_for_soft_targets() -> None:
    loss = get_loss("softmax_ce")
    rng = np.random.default_rng(3)
    yhat = rng.normal(size=(B, K))
    y = rng.dirichlet(np.ones(K), size=B)
    loss.check_target(y, yhat.shape)
    np.testing.assert_allclose(
        loss.grad(yhat, y), _central_difference_grad(loss, yhat, y), rtol=1e-6, atol=1e-7
    )


# dtype -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_float32_in_float32_out(name: str) -> None:
    loss = get_loss(name)
    yhat, y = _batch(loss, np.random.default_rng(0), np.float32)
    value = loss.value(yhat, y)
    grad = loss.grad(yhat, y)
    assert np.asarray(value).dtype == np.float32, f"{name}: value is {np.asarray(value).dtype}"
    assert grad.dtype == np.float32, f"{name}: grad is {grad.dtype}"
    assert grad.shape == yhat.shape
    reference = loss.value(yhat.astype(np.float64), y if y.dtype.kind == "i" else y.astype(float))
    assert float(value) == pytest.approx(float(reference), rel=1e-5)


# domains -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_targets_from_the_declared_domain_are_accepted(name: str) -> None:
    loss = get_loss(name)
    yhat, y = _batch(loss, np.random.default_rng(0))
    loss.check_target(y, yhat.shape)
    loss.check_prediction(yhat)


@pytest.mark.parametrize("name", [n for n in NAMES if get_loss(n).target != "labels"])
def test_target_of_the_wrong_shape_is_a_shape_error(name: str) -> None:
    with pytest.raises(ShapeError) as info:
        get_loss(name).check_target(np.zeros((B, K + 1)), (B, K))
    assert str(info.value) == (
        f"{get_loss(name).name}: targets y have shape {(B, K + 1)}, expected {(B, K)}"
    )


@pytest.mark.parametrize("name", [n for n in NAMES if get_loss(n).target == "probability"])
@pytest.mark.parametrize("bad", [1.5, -0.25])
def test_probability_target_outside_unit_interval_is_a_domain_error(name: str, bad: float) -> None:
    y = np.full((2, 2), 0.5)
    y[1, 0] = bad
    with pytest.raises(DomainError) as info:
        get_loss(name).check_target(y, (2, 2))
    message = str(info.value)
    assert message.startswith(f"{name}: targets must lie in [0, 1]")
    assert repr(bad) in message


@pytest.mark.parametrize(
    ("labels", "fragment"),
    [
        (np.array([0, 3]), "labels must lie in [0, 3), got 0..3"),
        (np.array([-1, 2]), "labels must lie in [0, 3), got -1..2"),
        (np.array([0.0, 1.0]), "1-d targets must be integer class labels, got float64"),
        (np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 0.0]]), "sum to 1 (one-hot)"),
        (np.array([[1.5, -0.5, 0.0], [0.0, 1.0, 0.0]]), "must be non-negative"),
    ],
    ids=["label-too-large", "label-negative", "float-1d", "row-sum-2", "negative-entry"],
)
def test_bad_labels_are_domain_errors(labels: np.ndarray, fragment: str) -> None:
    with pytest.raises(DomainError) as info:
        get_loss("softmax_ce").check_target(labels, (2, 3))
    assert fragment in str(info.value)
    assert str(info.value).startswith("softmax_ce: ")


@pytest.mark.parametrize(
    ("labels", "fragment"),
    [
        (np.array([0, 1, 2]), "labels y have shape (3,), expected (2,)"),
        (
            np.zeros((2, 4)),
            "targets y have shape (2, 4), expected labels (2,) or one-hot rows (2, 3)",
        ),
        (np.zeros((2, 3, 1)), "targets y have shape (2, 3, 1)"),
    ],
    ids=["labels-too-many", "one-hot-too-wide", "three-d"],
)
def test_labels_of_the_wrong_shape_are_shape_errors(labels: np.ndarray, fragment: str) -> None:
    with pytest.raises(ShapeError) as info:
        get_loss("softmax_ce").check_target(labels, (2, 3))
    assert fragment in str(info.value)


@pytest.mark.parametrize("bad", [1.0, 0.0, 1.5])
def test_bce_rejects_predictions_outside_the_open_unit_interval(bad: float) -> None:
    yhat = np.array([[0.5, bad]])
    with pytest.raises(DomainError) as info:
        get_loss("bce").check_prediction(yhat)
    message = str(info.value)
    assert message.startswith("bce: prediction ŷ")
    assert repr(bad) in message
    assert "bce_logits" in message


@pytest.mark.parametrize("name", [n for n in NAMES if n != "bce"])
def test_losses_on_logits_accept_any_finite_prediction(name: str) -> None:
    get_loss(name).check_prediction(np.array([[1.0, 0.0], [-50.0, 50.0]]))


@pytest.mark.parametrize(
    ("check", "fragment"),
    [("check_target", "y[1, 0] = 1.5"), ("check_prediction", "ŷ[1, 0] = 1.5")],
    ids=["target", "prediction"],
)
def test_domain_error_messages_print_plain_indices(check: str, fragment: str) -> None:
    bce = get_loss("bce")
    y = np.array([[0.5, 0.5], [1.5, 0.5]])
    with pytest.raises(DomainError) as info:
        bce.check_target(y, (2, 2)) if check == "check_target" else bce.check_prediction(y)
    assert fragment in str(info.value)


# known values ------------------------------------------------------------------------------


def test_mse_has_the_half_factor() -> None:
    mse = get_loss("mse")
    yhat, y = np.array([[3.0]]), np.array([[1.0]])
    assert mse.value(yhat, y) == 2.0
    np.testing.assert_array_equal(mse.grad(yhat, y), [[2.0]])


def test_bce_gradient_is_the_textbook_formula() -> None:
    bce = get_loss("bce")
    rng = np.random.default_rng(0)
    yhat = rng.uniform(0.01, 0.99, size=(4, 3))
    y = rng.uniform(0.0, 1.0, size=(4, 3))
    np.testing.assert_allclose(bce.grad(yhat, y), (yhat - y) / (yhat * (1 - yhat)), rtol=1e-14)
    expected = -sum(
        t * math.log(p) + (1 - t) * math.log(1 - p)
        for p, t in zip(yhat.ravel(), y.ravel(), strict=True)
    )
    assert bce.value(yhat, y) == pytest.approx(expected, rel=1e-12)


def test_huber_values_on_both_branches() -> None:
    huber = get_loss("huber(delta=0.5)")
    yhat, y = np.array([[2.0, 0.3, -1.0]]), np.zeros((1, 3))
    # |r| = 2 > δ: δ(|r| − δ/2) = 0.875; |r| = 0.3 ≤ δ: r²/2 = 0.045; |r| = 1: 0.375.
    assert huber.value(yhat, y) == pytest.approx(0.875 + 0.045 + 0.375, rel=1e-15)
    np.testing.assert_allclose(huber.grad(yhat, y), [[0.5, 0.3, -0.5]], rtol=1e-15)
    with pytest.raises(ValueError, match="delta must be positive"):
        get_loss("huber(delta=0)")


def test_softmax_ce_integer_labels_equal_one_hot_rows() -> None:
    loss = get_loss("softmax_ce")
    rng = np.random.default_rng(0)
    s = rng.normal(size=(B, K))
    labels = rng.integers(0, K, size=B)
    one_hot = _one_hot(labels, K)
    loss.check_target(one_hot, s.shape)
    assert loss.value(s, labels) == pytest.approx(loss.value(s, one_hot), rel=1e-15)
    np.testing.assert_allclose(loss.grad(s, labels), loss.grad(s, one_hot), rtol=1e-15)
    # And both equal logsumexp(s) − s[label], written out.
    expected = sum(
        math.log(sum(math.exp(v) for v in row)) - row[t] for row, t in zip(s, labels, strict=True)
    )
    assert loss.value(s, labels) == pytest.approx(expected, rel=1e-12)


def test_softmax_ce_is_stable_for_huge_logits() -> None:
    loss = get_loss("softmax_ce")
    s = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, 1e4]])
    labels = np.array([1, 2])
    # Row 0: logsumexp = 1e4 (the other terms underflow), minus s[1] = 0 → 1e4. Row 1: 0.
    assert loss.value(s, labels) == pytest.approx(1e4, rel=1e-15)
    np.testing.assert_allclose(
        loss.grad(s, labels), [[1.0, -1.0, 0.0], [0.0, 0.0, 0.0]], atol=1e-15
    )
    # Shifting every logit of a row by a constant does not change the loss.
    rng = np.random.default_rng(0)
    small = rng.normal(size=(B, K))
    labels = rng.integers(0, K, size=B)
    assert loss.value(small + 1e4, labels) == pytest.approx(loss.value(small, labels), rel=1e-9)


def test_bce_logits_is_stable_for_huge_logits() -> None:
    loss = get_loss("bce_logits")
    s = np.array([[1e4, -1e4]])
    # ℓ(s, y) = max(s, 0) − s·y + log(1 + e^−|s|): the wrong side costs |s|, the right side 0.
    assert loss.value(s, np.array([[0.0, 1.0]])) == 2e4
    assert loss.value(s, np.array([[1.0, 0.0]])) == 0.0
    np.testing.assert_array_equal(loss.grad(s, np.array([[0.0, 1.0]])), [[1.0, -1.0]])
    np.testing.assert_array_equal(loss.grad(s, np.array([[1.0, 0.0]])), [[0.0, 0.0]])


def test_bce_logits_equals_bce_on_sigmoid_of_the_logits() -> None:
    rng = np.random.default_rng(0)
    s = rng.normal(0.0, 2.0, size=(B, K))
    y = rng.uniform(0.0, 1.0, size=(B, K))
    p = 1 / (1 + np.exp(-s))
    assert get_loss("bce_logits").value(s, y) == pytest.approx(
        get_loss("bce").value(p, y), rel=1e-12
    )
    np.testing.assert_allclose(get_loss("bce_logits").grad(s, y), p - y, rtol=1e-12, atol=1e-15)
