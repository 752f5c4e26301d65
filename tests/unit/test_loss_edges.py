"""nn/losses.py at its edges: a stack of perturbed networks' outputs (S, B, K) gives each
network's own loss, huber's pieces and its refusals, the targets' and labels' accepted
boundaries and the index a refusal names, a one-entry prediction outside the loss's domain,
and Loss is frozen. These close survivors of ``make mutation``."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from gradcheck.errors import DomainError, ShapeError
from gradcheck.nn.losses import LOSSES

S, B, K = 2, 3, 4


def _stack(name: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    loss = LOSSES.get(name)
    if loss.target == "labels":
        return rng.normal(size=(S, B, K)), np.array([2, 0, 3])
    if loss.output_range != (-np.inf, np.inf):
        return rng.uniform(0.1, 0.9, (S, B, K)), rng.uniform(0, 1, (B, K))
    y = rng.uniform(0, 1, (B, K)) if loss.target == "probability" else rng.normal(size=(B, K))
    return 3 * rng.normal(size=(S, B, K)), y


@pytest.mark.parametrize("name", [*sorted(LOSSES), "huber(delta=0.5)"])
def test_a_stack_of_outputs_gives_each_networks_own_loss_and_gradient(name: str) -> None:
    loss = LOSSES.get(name)
    stack, y = _stack(name)
    values = loss.value(stack, y)
    assert values.shape == (S,)
    np.testing.assert_allclose(values, [loss.value(one, y) for one in stack], rtol=1e-14)
    grads = loss.grad(stack, y)
    np.testing.assert_allclose(grads, [loss.grad(one, y) for one in stack], rtol=1e-14)


def test_hubers_pieces_are_the_entries_beyond_delta() -> None:
    huber = LOSSES.get("huber")
    yhat = np.array([[0.25, 3.0, 2.0, -3.0]])
    y = np.array([[0.5, 0.5, 1.0, -1.0]])  # r = -0.25, 2.5, 1 (exactly δ), -2
    assert huber.pieces is not None
    assert huber.pieces(yhat, y).tolist() == [[False, True, False, True]]


@pytest.mark.parametrize("text", ["huber(delta=0)", "huber(delta=-1)"])
def test_a_non_positive_huber_delta_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="delta must be positive"):
        LOSSES.get(text)


def test_hubers_default_delta_is_one() -> None:
    assert LOSSES.defaults("huber") == {"delta": 1.0}


def test_probability_targets_of_exactly_zero_and_one_are_accepted() -> None:
    LOSSES.get("bce").check_target(np.array([[0.0, 1.0, 0.5]]), (1, 3))


def test_a_refused_probability_target_is_named_by_its_own_index() -> None:
    y = np.array([[0.0, 1.0, 1.5]])
    with pytest.raises(DomainError, match=r"y\[0, 2\] = 1\.5"):
        LOSSES.get("bce").check_target(y, (1, 3))


def test_targets_smaller_than_the_outputs_are_a_shape_error() -> None:
    with pytest.raises(ShapeError, match=r"expected \(3, 3\)"):
        LOSSES.get("mse").check_target(np.zeros((2, 3)), (3, 3))
    ce = LOSSES.get("softmax_ce")
    with pytest.raises(ShapeError, match=r"labels y have shape \(2,\), expected \(3,\)"):
        ce.check_target(np.array([0, 1]), (3, 4))
    with pytest.raises(ShapeError, match="or one-hot rows"):
        ce.check_target(np.eye(4)[:2], (3, 4))
    with pytest.raises(ShapeError, match="or one-hot rows"):
        ce.check_target(np.array(1), (3, 4))


def test_labels_without_class_zero_are_accepted_and_beyond_the_last_refused() -> None:
    ce = LOSSES.get("softmax_ce")
    ce.check_target(np.array([1, 2, 3]), (3, 4))
    with pytest.raises(DomainError, match=r"labels must lie in \[0, 4\), got 1\.\.5"):
        ce.check_target(np.array([1, 2, 5]), (3, 4))


def test_a_single_saturated_prediction_is_a_domain_error() -> None:
    with pytest.raises(DomainError, match="is not strictly inside"):
        LOSSES.get("bce").check_prediction(np.array([[1.0]]))


@pytest.mark.parametrize("bad", [-0.5, 0.0, 1.0, 1.5])
def test_a_prediction_on_or_beyond_either_end_of_the_domain_is_named(bad: float) -> None:
    with pytest.raises(DomainError, match=rf"ŷ\[0, 1\] = {bad} is not strictly inside"):
        LOSSES.get("bce").check_prediction(np.array([[0.5, bad]]))


def test_a_loss_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        LOSSES.get("mse").name = "other"  # type: ignore[misc]
