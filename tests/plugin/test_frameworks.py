"""``gradcheck.assert_torch`` and ``gradcheck.assert_jax`` in a pytest session: the verdict
fails the test naming the Jacobian entry, the settings come from keywords, the marker and
the command line, the checks reach the session report and the terminal summary, and golden
baselines record and catch them like any other check."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")

TORCH_SUITE = """
import pytest
import torch

torch.manual_seed(0)
X = torch.randn(3, 4, dtype=torch.float32, requires_grad=True)
W = torch.randn(4, 2, dtype=torch.float32, requires_grad=True)
SCALE = SCALE_VALUE

class Scaled(torch.autograd.Function):
    @staticmethod
    def forward(x, w):
        return SCALE * torch.tanh(x @ w)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(*inputs, output)

    @staticmethod
    def backward(ctx, g):
        x, w, y = ctx.saved_tensors
        d = g * (SCALE - y * y / SCALE)
        dw = x.T @ d
        dw[BAD_ROW, 1] *= 1 + BAD
        return d @ w.T, dw

def test_custom_function(gradcheck):
    gradcheck.assert_torch(Scaled.apply, (X, W))

@pytest.mark.gradcheck(mode="probe")
def test_marked(gradcheck):
    # Probe mode is for large inputs; in float64 its detection floor is far below 1e-4.
    result = gradcheck.assert_torch(Scaled.apply, (X.double(), W.double()))
    assert result.mode == "probe"
"""


def _suite(scale: float = 1.0, bad: float = 0.0, row: int = 2) -> str:
    return (
        TORCH_SUITE.replace("SCALE_VALUE", repr(scale))
        .replace("BAD_ROW", str(row))
        .replace("BAD", repr(bad))
    )


def test_a_correct_float32_function_passes_and_is_reported(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_torch=_suite())
    result = pytester.runpytest("--gradcheck-report", "out")
    result.assert_outcomes(passed=2)
    data = json.loads((pytester.path / "out" / "report.json").read_text())
    assert [t["kinds"] for t in data["tests"]] == [{"torch": 1}, {"torch": 1}]
    assert data["totals"]["checks"] == 2 and data["totals"]["failed"] == 0


def test_a_wrong_entry_fails_naming_the_jacobian_entry(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_torch=_suite(bad=1e-2, row=3))
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(failed=2)
    # dW[3, 1] is wrong: the record names output entry [i, 1] and input entry [3, 1].
    result.stdout.fnmatch_lines(
        [
            "*wrong gradient for ∂output/∂inputs[[]1[]]*",
            "*∂output[[]*, 1[]]/∂inputs[[]1[]][[]3, 1[]]:*",
        ]
    )
    result.stdout.fnmatch_lines(["*2 gradient checks in 2 tests: 0 passed, 2 failed*"])


def test_settings_from_the_command_line_and_keywords(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_torch=_suite()
        + """
def test_keyword(gradcheck):
    assert gradcheck.assert_torch(Scaled.apply, (X, W), mode="full").mode == "full"

def test_seed(gradcheck):
    assert gradcheck.assert_torch(Scaled.apply, (X, W)).seed == 5
"""
    )
    pytester.runpytest("--gradcheck-mode", "probe", "--gradcheck-seed", "5").assert_outcomes(
        passed=4
    )


def test_an_unknown_setting_names_itself(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_torch=_suite()
        + """
def test_typo(gradcheck):
    gradcheck.assert_torch(Scaled.apply, (X, W), modee="full")
"""
    )
    result = pytester.runpytest("-k", "typo")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*unknown gradcheck setting 'modee'*"])


def test_a_baseline_catches_a_consistent_change(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_torch=_suite(scale=1.0))
    recorded = pytester.runpytest("--gradcheck-baseline", "golden", "--gradcheck-baseline-update")
    recorded.assert_outcomes(passed=2)
    index = json.loads((pytester.path / "golden.json").read_text())
    assert len(index["entries"]) == 2
    pytester.runpytest("--gradcheck-baseline", "golden").assert_outcomes(passed=2)
    # Forward and backward both scaled by 2: they still agree, only the baseline sees it.
    pytester.makepyfile(test_torch=_suite(scale=2.0))
    pytester.runpytest().assert_outcomes(passed=2)
    drifted = pytester.runpytest("--gradcheck-baseline", "golden")
    drifted.assert_outcomes(failed=2)
    drifted.stdout.fnmatch_lines(["*gradients drifted from the baseline*"])


JAX_SUITE = """
import jax
import jax.numpy as jnp
import numpy as np

X = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)

@jax.custom_vjp
def swish(x):
    return x * jax.nn.sigmoid(x)

def swish_fwd(x):
    return swish(x), x

def swish_bwd(x, g):
    s = jax.nn.sigmoid(x)
    d = s * (1 + x * (1 - s))
    return (g * d.at[1, 2].multiply(1 + BAD),)

swish.defvjp(swish_fwd, swish_bwd)

def test_swish(gradcheck):
    result = gradcheck.assert_jax(swish, (X,))
    assert any("forward mode not checked" in n for n in result.notes)
"""


def test_assert_jax_checks_a_custom_vjp_rule(pytester: pytest.Pytester) -> None:
    pytest.importorskip("jax")
    pytester.makepyfile(test_jax=JAX_SUITE.replace("BAD", "0.0"))
    result = pytester.runpytest("--gradcheck-report", "out")
    result.assert_outcomes(passed=1)
    data = json.loads((pytester.path / "out" / "report.json").read_text())
    assert [t["kinds"] for t in data["tests"]] == [{"jax": 1}]

    pytester.makepyfile(test_jax=JAX_SUITE.replace("BAD", "1e-2"))
    failed = pytester.runpytest()
    failed.assert_outcomes(failed=1)
    failed.stdout.fnmatch_lines(
        ["*wrong gradient for ∂out/∂args[[]0[]]*", "*∂out[[]1, 2[]]/∂args[[]0[]][[]1, 2[]]:*"]
    )
