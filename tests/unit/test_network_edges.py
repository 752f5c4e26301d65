"""nn/network.py at its edges: a network of one layer, the ``derivative`` hook that the
grader's mutant references use, stacks of perturbed outputs under the mean reduction, and
``forward``'s keyword-only workspace. These close survivors of ``make mutation``."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck.nn.network import backward, forward, stacked_output_losses
from gradcheck.nn.spec import NetworkSpec


def _case(
    spec: NetworkSpec, batch: int = 5
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    params = {n: rng.normal(0, 0.7, s) for n, s in spec.param_shapes().items()}
    X = rng.normal(0, 1, (batch, spec.widths[0]))
    y = rng.normal(0, 1, (batch, spec.widths[-1]))
    return params, X, y


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_a_single_layer_network_has_the_closed_form_gradient(reduction: str) -> None:
    """ŷ = X Wᵀ + b with L = ½ Σ (ŷ − y)² (over B under "mean"): ∂L/∂W = sᵀX and ∂L/∂b = Σ s
    with s = (ŷ − y)·scale. Layer 1 is then the last layer, with nothing upstream of it."""
    spec = NetworkSpec((3, 2), hidden="tanh", output="identity", loss="mse", reduction=reduction)
    params, X, y = _case(spec)
    scale = 1.0 / len(X) if reduction == "mean" else 1.0
    s = (X @ params["W1"].T + params["b1"] - y) * scale
    grads = backward(spec, params, forward(spec, params, X), y)
    np.testing.assert_allclose(grads["W1"], s.T @ X, rtol=1e-13)
    np.testing.assert_allclose(grads["b1"], s.sum(axis=0), rtol=1e-13)


@pytest.mark.parametrize("residual", [(), (2,)])
def test_the_derivative_hook_given_the_true_derivative_changes_nothing(
    residual: tuple[int, ...],
) -> None:
    spec = NetworkSpec((3, 4, 4, 2), hidden="tanh", loss="mse", residual=residual)
    params, X, y = _case(spec)
    cache = forward(spec, params, X)
    plain = backward(spec, params, cache, y)
    hooked = backward(spec, params, cache, y, derivative=lambda _, act, z, f: act.df(z, f))
    for name in spec.param_names:
        np.testing.assert_allclose(hooked[name], plain[name], rtol=1e-14, err_msg=name)


def test_the_derivative_hook_multiplies_the_upstream_gradient() -> None:
    """With f′ replaced by 2·f′ in the last layer only, that layer's ∂L/∂W doubles."""
    spec = NetworkSpec((3, 4, 2), hidden="tanh", output="identity", loss="mse")
    params, X, y = _case(spec)
    cache = forward(spec, params, X)
    plain = backward(spec, params, cache, y)

    def doubled(layer: int, act, z, f):  # type: ignore[no-untyped-def]
        return act.df(z, f) * (2.0 if layer == spec.depth else 1.0)

    hooked = backward(spec, params, cache, y, derivative=doubled)
    np.testing.assert_allclose(hooked["W2"], 2.0 * plain["W2"], rtol=1e-14)
    np.testing.assert_allclose(hooked["W1"], 2.0 * plain["W1"], rtol=1e-14)


def test_a_stack_of_outputs_under_mean_is_divided_by_the_batch_not_the_stack() -> None:
    """ŷ of shape (S, B, K) with S = 7 networks of B = 3 examples: each loss is over B."""
    spec = NetworkSpec((2, 4), hidden="tanh", output="identity", loss="mse", reduction="mean")
    rng = np.random.default_rng(0)
    stack, y = rng.normal(size=(7, 3, 4)), rng.normal(size=(3, 4))
    expected = [0.5 * np.sum((one - y) ** 2) / 3 for one in stack]
    np.testing.assert_allclose(stacked_output_losses(spec, stack, y), expected, rtol=1e-14)


def test_forwards_workspace_is_keyword_only() -> None:
    spec = NetworkSpec((3, 2), hidden="tanh", loss="mse")
    params, X, _ = _case(spec)
    with pytest.raises(TypeError):
        forward(spec, params, X, None)  # type: ignore[misc]
