"""The network checks' mutant references name what they compute: no "every layer" mutant
where the hidden and output activations differ (it applied the hidden activation's mistake
to the sigmoid output), a missing σ′ at the output says which delta the student then has,
and under cross-entropy the quadratic cost's delta (AL − Y)·σ′(z) is a mutant of its own.
Also ``import_line``, which each reproduction's first import comes from."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck.case import Case
from gradcheck.nn.spec import NetworkSpec
from gradcheck.student.labels import Label
from gradcheck.student.networks import CourseraCheck, NielsenCheck, import_line


def _case(spec: NetworkSpec, seed: int = 3, batch: int = 4) -> Case:
    rng = np.random.default_rng(seed)
    params = {n: rng.uniform(-1, 1, s) for n, s in spec.param_shapes().items()}
    X = rng.uniform(-2, 2, (batch, spec.widths[0]))
    y = rng.uniform(0, 1, (batch, spec.widths[-1]))
    return Case(spec, params, X, y)


COURSERA = NetworkSpec((2, 3, 1), hidden="relu", output="sigmoid", loss="bce", reduction="mean")


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def test_no_every_layer_mutant_across_different_activations() -> None:
    mistakes = [m.mistake for m in CourseraCheck().mutants(_case(COURSERA))]
    assert mistakes and not [m for m in mistakes if m.endswith(", in every layer")]
    assert any(m.endswith(", in every hidden layer") for m in mistakes)


def test_the_quadratic_cost_delta_under_cross_entropy_is_a_mutant() -> None:
    spec = NetworkSpec((2, 1), output="sigmoid", loss="bce", reduction="mean")
    case = _case(spec)
    (quadratic,) = [m for m in CourseraCheck().mutants(case) if "quadratic" in m.mistake]
    assert quadratic.label == Label.WRONG_ACTIVATION_DERIVATIVE
    a = _sigmoid(case.X @ case.params["W1"].T + case.params["b1"])
    dz = (a - case.y) * a * (1 - a) / case.X.shape[0]  # (B, 1)
    np.testing.assert_allclose(quadratic.tensors["db1"], dz.sum(axis=0)[:, None], rtol=1e-12)
    np.testing.assert_allclose(quadratic.tensors["dW1"], dz.T @ case.X, rtol=1e-12)


def test_a_missing_sigma_prime_at_the_output_names_the_delta_it_leaves() -> None:
    bce = [m.mistake for m in CourseraCheck().mutants(_case(COURSERA))]
    left_out = "sigmoid′ left out, in the output layer (dZ = dAL, ∂L/∂AL not multiplied by σ′(z))"
    assert left_out in bce
    quadratic = NetworkSpec((2, 2), hidden="sigmoid", output="sigmoid", loss="mse")
    mse = [m.mistake for m in NielsenCheck().mutants(_case(quadratic, batch=1))]
    assert any("the cross-entropy cost's delta" in m for m in mse)
    assert not any("quadratic cost's output delta" in m for m in mse)


@pytest.mark.parametrize(
    ("source", "line"),
    [
        ("bob.py", "from bob import f, g"),
        ("/some/where/hw_3.py", "from hw_3 import f, g"),
        ("project", "from project import f, g"),
        ("hw.ipynb", "# run after the cells of hw.ipynb, which define f, g"),
    ],
)
def test_import_line(source: str, line: str) -> None:
    assert import_line(source, ["f", "g"]) == line


def test_a_snippet_imports_from_the_source_given() -> None:
    snippet = CourseraCheck().snippet(_case(COURSERA), source="bob.py")
    assert "\nfrom bob import L_model_forward, L_model_backward\n" in snippet
    assert "submission" not in snippet
