"""Gradient descent in the core, torch (torch.optim.SGD) and JAX from one start: correct
engines stay together to rounding for every step, and a planted difference is caught."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck.nn.init import init_params
from gradcheck.nn.spec import NetworkSpec
from gradcheck.runs.figures import TRAJECTORY_TOLERANCES, Trajectories, training_trajectories

pytest.importorskip("torch")
pytest.importorskip("jax")

pytestmark = pytest.mark.reference

STEPS, LR = 30, 0.1


def run(dtype: str = "float64", **kwargs: object) -> Trajectories:
    spec = NetworkSpec((3, 5, 2), hidden="tanh", loss="mse", dtype=dtype)
    rng = np.random.default_rng(1)
    X = rng.standard_normal((4, 3)).astype(dtype)
    y = rng.standard_normal((4, 2)).astype(dtype)
    params = init_params(spec, rng=1)
    return training_trajectories(spec, params, X, y, steps=STEPS, lr=LR, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_correct_engines_agree_for_every_step(dtype: str) -> None:
    t = run(dtype)
    assert t.engines == ("core", "torch", "jax") and t.notes == ()
    assert t.tolerance == TRAJECTORY_TOLERANCES[dtype]
    assert t.steps_within() == STEPS
    for engine in ("torch", "jax"):
        assert t.distances[engine].shape == (STEPS + 1,) and t.distances[engine][0] == 0
        assert t.distances[engine].max() <= t.tolerance
        np.testing.assert_allclose(t.losses[engine], t.losses["core"], rtol=10 * t.tolerance)
    losses = t.losses["core"]
    assert losses.shape == (STEPS + 1,) and losses[-1] < 0.2 * losses[0]  # it does descend


def test_a_planted_learning_rate_in_torch_is_caught_at_the_first_step() -> None:
    t = run(engine_lr={"torch": LR * (1 + 1e-6)})
    assert t.steps_within(engine="torch") == 0
    assert t.steps_within(engine="jax") == STEPS
    assert t.steps_within() == 0
    # The first update moves torch by lr·1e-6·|g|, far beyond float64 rounding.
    assert t.distances["torch"][1] > 1e3 * t.tolerance


def test_a_tiny_planted_difference_is_caught_only_by_a_tight_tolerance() -> None:
    t = run(engine_lr={"jax": LR * (1 + 1e-11)})
    assert t.steps_within(engine="jax") == STEPS  # within 1e-10: the default tolerance
    assert t.steps_within(tolerance=1e-14, engine="jax") < STEPS
