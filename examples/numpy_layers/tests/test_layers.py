"""Tests of tinylayers: gradients through gradcheck's pytest fixture, plus forward values.

Each gradient test checks one layer, so a bug in a backward pass fails the test named after
that layer (and, for affine, relu and softmax, also the composed two-layer network).
Run with ``pytest --gradcheck-report reports`` to get a report of every check.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from gradcheck import GradcheckFixture

from tinylayers import (
    affine_backward,
    affine_forward,
    batchnorm_backward,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
    leaky_relu_backward,
    leaky_relu_forward,
    mse_loss,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    softmax_cross_entropy,
    tanh_backward,
    tanh_forward,
)

Array = npt.NDArray[np.float64]
Params = dict[str, Array]

N, D, M, C, H = 4, 5, 3, 6, 7


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240611)


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...], margin: float = 0.1) -> Array:
    """Standard normal values, with those in (−margin, margin) pushed out by margin.

    Keeps ReLU-style kinks far from every entry, so finite differences never straddle one.
    """
    x = rng.standard_normal(shape)
    return np.where(x < 0, x - margin, x + margin)


# --------------------------------------------------------------------------------------------
# Gradients, one test per layer
# --------------------------------------------------------------------------------------------


def test_affine(gradcheck: GradcheckFixture, rng: np.random.Generator) -> None:
    inputs = {
        "x": rng.standard_normal((N, D)),
        "w": rng.standard_normal((D, M)),
        "b": rng.standard_normal(M),
    }
    gradcheck.assert_layer(affine_forward, affine_backward, inputs)


def test_relu(gradcheck: GradcheckFixture, rng: np.random.Generator) -> None:
    gradcheck.assert_layer(relu_forward, relu_backward, {"x": away_from_zero(rng, (N, D))})


def test_leaky_relu(gradcheck: GradcheckFixture, rng: np.random.Generator) -> None:
    inputs = {"x": away_from_zero(rng, (N, D)), "slope": 0.1}
    gradcheck.assert_layer(leaky_relu_forward, leaky_relu_backward, inputs)


def test_sigmoid(gradcheck: GradcheckFixture, rng: np.random.Generator) -> None:
    x = 3 * rng.standard_normal((N, D))  # both tails of the stable formula
    gradcheck.assert_layer(sigmoid_forward, sigmoid_backward, {"x": x})


def test_tanh(gradcheck: GradcheckFixture, rng: np.random.Generator) -> None:
    gradcheck.assert_layer(tanh_forward, tanh_backward, {"x": rng.standard_normal((N, D))})


@pytest.mark.gradcheck(mode="full")
def test_batchnorm(gradcheck: GradcheckFixture, rng: np.random.Generator) -> None:
    inputs = {
        "x": 2 * rng.standard_normal((N, D)) + 1,
        "gamma": rng.standard_normal(D),
        "beta": rng.standard_normal(D),
    }
    gradcheck.assert_layer(batchnorm_forward, batchnorm_backward, inputs)


def test_layernorm(gradcheck: GradcheckFixture, rng: np.random.Generator) -> None:
    inputs = {
        "x": 2 * rng.standard_normal((N, D)) + 1,
        "gamma": rng.standard_normal(D),
        "beta": rng.standard_normal(D),
    }
    gradcheck.assert_layer(layernorm_forward, layernorm_backward, inputs)


def test_softmax_cross_entropy(gradcheck: GradcheckFixture, rng: np.random.Generator) -> None:
    labels = rng.integers(0, C, size=N)
    gradcheck.assert_gradients(
        lambda p: softmax_cross_entropy(p["logits"], labels)[0],
        lambda p: {"logits": softmax_cross_entropy(p["logits"], labels)[1]},
        {"logits": rng.standard_normal((N, C))},
    )


def test_mse_loss(gradcheck: GradcheckFixture, rng: np.random.Generator) -> None:
    target = rng.standard_normal((N, M))
    gradcheck.assert_gradients(
        lambda p: mse_loss(p["pred"], target)[0],
        lambda p: {"pred": mse_loss(p["pred"], target)[1]},
        {"pred": rng.standard_normal((N, M))},
    )


def test_two_layer_network(gradcheck: GradcheckFixture) -> None:
    """affine → relu → affine → softmax cross-entropy, composed and backpropagated by hand."""
    rng = np.random.default_rng(13)  # a seed whose hidden pre-activations avoid ReLU's kink
    x = rng.standard_normal((N, D))
    labels = rng.integers(0, C, size=N)
    params = {
        "w1": rng.standard_normal((D, H)),
        "b1": rng.standard_normal(H),
        "w2": rng.standard_normal((H, C)),
        "b2": rng.standard_normal(C),
    }
    hidden = x @ params["w1"] + params["b1"]
    assert np.min(np.abs(hidden)) > 0.1, "a ReLU input sits near its kink; pick another seed"

    def forward(p: Params) -> tuple[Any, tuple[Any, ...]]:
        h, affine1 = affine_forward(x, p["w1"], p["b1"])
        a, relu = relu_forward(h)
        scores, affine2 = affine_forward(a, p["w2"], p["b2"])
        loss, dscores = softmax_cross_entropy(scores, labels)
        return loss, (dscores, affine1, relu, affine2)

    def loss_fn(p: Params) -> Any:
        return forward(p)[0]

    def grad_fn(p: Params) -> Params:
        dscores, affine1, relu, affine2 = forward(p)[1]
        da, dw2, db2 = affine_backward(dscores, affine2)
        _, dw1, db1 = affine_backward(relu_backward(da, relu), affine1)
        return {"w1": dw1, "b1": db1, "w2": dw2, "b2": db2}

    gradcheck.assert_gradients(loss_fn, grad_fn, params)


# --------------------------------------------------------------------------------------------
# Forward values
# --------------------------------------------------------------------------------------------


def test_affine_output_is_x_w_plus_b(rng: np.random.Generator) -> None:
    x, w, b = rng.standard_normal((N, D)), rng.standard_normal((D, M)), rng.standard_normal(M)
    out, _ = affine_forward(x, w, b)
    np.testing.assert_allclose(out, x @ w + b)


def test_relu_and_leaky_relu_values() -> None:
    x = np.array([[-2.0, 0.0, 3.0]])
    np.testing.assert_array_equal(relu_forward(x)[0], [[0.0, 0.0, 3.0]])
    np.testing.assert_allclose(leaky_relu_forward(x, slope=0.1)[0], [[-0.2, 0.0, 3.0]])


def test_sigmoid_is_stable_at_extremes() -> None:
    out, _ = sigmoid_forward(np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0]))
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out[1:4], [np.exp(-40.0) / (1 + np.exp(-40.0)), 0.5, 1.0])
    assert out[0] == 0.0
    assert out[4] == 1.0


def test_softmax_loss_of_uniform_logits_is_log_classes() -> None:
    loss, dlogits = softmax_cross_entropy(np.zeros((N, C)), np.arange(N) % C)
    assert loss == pytest.approx(np.log(C))
    np.testing.assert_allclose(dlogits.sum(axis=1), 0.0, atol=1e-15)


def test_softmax_loss_does_not_overflow() -> None:
    loss, _ = softmax_cross_entropy(np.array([[1000.0, 0.0], [-1000.0, 0.0]]), np.array([0, 0]))
    assert loss == pytest.approx(500.0)


def test_mse_loss_value() -> None:
    pred = np.array([[1.0, 2.0], [3.0, 4.0]])
    loss, dpred = mse_loss(pred, np.zeros_like(pred))
    assert loss == pytest.approx((1 + 4 + 9 + 16) / 4)
    np.testing.assert_allclose(dpred, pred / 2)


def test_batchnorm_normalises_each_feature(rng: np.random.Generator) -> None:
    x = 5 * rng.standard_normal((64, D)) + 3
    out, _ = batchnorm_forward(x, np.ones(D), np.zeros(D))
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=0), 1.0, rtol=1e-5)


def test_layernorm_normalises_each_sample(rng: np.random.Generator) -> None:
    x = 5 * rng.standard_normal((N, 64)) + 3
    out, _ = layernorm_forward(x, np.ones(64), np.zeros(64))
    np.testing.assert_allclose(out.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize(
    ("forward", "backward", "extra"),
    [
        pytest.param(relu_forward, relu_backward, (), id="relu"),
        pytest.param(leaky_relu_forward, leaky_relu_backward, (0.2,), id="leaky_relu"),
        pytest.param(sigmoid_forward, sigmoid_backward, (), id="sigmoid"),
        pytest.param(tanh_forward, tanh_backward, (), id="tanh"),
        pytest.param(batchnorm_forward, batchnorm_backward, "norm", id="batchnorm"),
        pytest.param(layernorm_forward, layernorm_backward, "norm", id="layernorm"),
    ],
)
def test_float32_stays_float32(
    forward: Any, backward: Any, extra: Any, rng: np.random.Generator
) -> None:
    x = rng.standard_normal((N, D)).astype(np.float32)
    args = (np.ones(D, np.float32), np.zeros(D, np.float32)) if extra == "norm" else extra
    out, cache = forward(x, *args)
    grads = backward(np.ones_like(out), cache)
    grads = grads if isinstance(grads, tuple) else (grads,)
    assert {out.dtype, *(g.dtype for g in grads)} == {np.dtype(np.float32)}


# --------------------------------------------------------------------------------------------
# Shape errors
# --------------------------------------------------------------------------------------------


def test_affine_rejects_mismatched_weights() -> None:
    message = r"affine_forward: w has shape \(3, 4\), expected \(5, M\) to match x \(2, 5\)"
    with pytest.raises(ValueError, match=message):
        affine_forward(np.zeros((2, 5)), np.zeros((3, 4)), np.zeros(4))


def test_affine_rejects_mismatched_bias() -> None:
    with pytest.raises(ValueError, match=r"affine_forward: b has shape \(4,\), expected \(3,\)"):
        affine_forward(np.zeros((2, 5)), np.zeros((5, 3)), np.zeros(4))


def test_batchnorm_rejects_mismatched_gamma() -> None:
    with pytest.raises(ValueError, match=r"batchnorm_forward: gamma has shape \(4,\)"):
        batchnorm_forward(np.zeros((2, 5)), np.zeros(4), np.zeros(5))


def test_softmax_rejects_bad_labels() -> None:
    with pytest.raises(ValueError, match=r"softmax_cross_entropy: labels has shape \(3,\)"):
        softmax_cross_entropy(np.zeros((2, 4)), np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match=r"softmax_cross_entropy: labels must lie in \[0, 4\)"):
        softmax_cross_entropy(np.zeros((2, 4)), np.array([0, 4]))


def test_mse_rejects_mismatched_target() -> None:
    with pytest.raises(ValueError, match=r"mse_loss: target has shape \(2, 3\), expected \(2, 4\)"):
        mse_loss(np.zeros((2, 4)), np.zeros((2, 3)))


def test_backward_rejects_wrong_dout() -> None:
    _, cache = tanh_forward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"tanh_backward: dout has shape \(3, 2\)"):
        tanh_backward(np.zeros((3, 2)), cache)
