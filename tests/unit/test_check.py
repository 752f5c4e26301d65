"""check_case: every pair compared, verdicts, engine errors, and that mistakes are caught."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck.case import Case
from gradcheck.check import check_case, describe_failures, engine_pairs
from gradcheck.engines import FunctionEngine
from gradcheck.nn.init import init_params
from gradcheck.nn.network import forward, loss_and_grads
from gradcheck.nn.spec import NetworkSpec
from tests.mutants import MUTANTS, backprop_with, mutant


def make_case(hidden: str = "tanh", dtype: str = "float64", batch: int = 4) -> Case:
    spec = NetworkSpec((3, 5, 5, 2), hidden=hidden, residual=(2,), dtype=dtype)
    rng = np.random.default_rng(3)
    params = init_params(spec, rng)
    params = {k: (v + 0.1 * rng.normal(size=v.shape)).astype(dtype) for k, v in params.items()}
    X = rng.normal(size=(batch, 3)).astype(dtype)
    y = rng.normal(size=(batch, 2)).astype(dtype)
    return Case(spec, params, X, y)


def test_engine_pairs_are_every_unordered_pair_in_order() -> None:
    assert engine_pairs(["core", "fd", "torch"]) == [
        ("core", "fd"),
        ("core", "torch"),
        ("fd", "torch"),
    ]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_core_and_finite_differences_agree(dtype: str) -> None:
    result = check_case(make_case(dtype=dtype), ["core", "fd"])
    assert result.verdict == "pass", describe_failures(result)
    assert [r.tensor for r in result.records] == ["loss", "W1", "b1", "W2", "b2", "W3", "b3"]
    assert result.evaluations > 1 + 4 * make_case().spec.n_params


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_every_mutant_fails_against_finite_differences(name: str) -> None:
    result = check_case(make_case(), [mutant(name), "fd"])
    assert result.verdict == "fail"
    message = describe_failures(result)
    assert f"mutant:{name} vs fd" in message and "× the tolerance" in message


def test_an_engine_with_a_wrong_shape_is_a_failure_with_its_message() -> None:
    def wrong(spec, params, X, y):  # type: ignore[no-untyped-def]
        loss, grads = loss_and_grads(spec, params, X, y)
        return loss, {**grads, "W1": grads["W1"].T.copy()}

    result = check_case(make_case(), ["core", FunctionEngine("wrong", wrong, "")])
    assert result.verdict == "fail"
    assert result.errors[0].engine == "wrong"
    assert "W1" in str(result.errors[0].error) and "(5, 3)" in str(result.errors[0].error)


def test_an_engine_that_writes_into_its_inputs_is_stopped() -> None:
    def mutating(spec, params, X, y):  # type: ignore[no-untyped-def]
        params["W1"][0, 0] = 0.0
        return loss_and_grads(spec, params, X, y)

    with pytest.raises(ValueError, match=r"^assignment destination is read-only$"):
        check_case(make_case(), [FunctionEngine("mutating", mutating, "")])


def test_an_engine_that_replaces_an_input_tensor_is_stopped() -> None:
    def replacing(spec, params, X, y):  # type: ignore[no-untyped-def]
        params["W1"] = np.zeros_like(params["W1"])
        return loss_and_grads(spec, params, X, y)

    with pytest.raises(TypeError, match="'mappingproxy' object does not support item assignment"):
        check_case(make_case(), [FunctionEngine("replacing", replacing, "")])


def test_a_pre_activation_exactly_on_a_kink_is_not_a_failure() -> None:
    case = make_case(hidden="relu")
    params = dict(case.params)
    params["b1"] = np.zeros(5)
    X = np.array(case.X)
    X[0] = 0.0  # row 0 of Z¹ is exactly 0: relu′ there may be 0 or 1
    case = Case(case.spec, params, X, case.y)

    def relu_prime_zero_is_one(spec, params, X, y):  # type: ignore[no-untyped-def]
        return backprop_with(spec, params, X, y, df=lambda act, z, f: (z >= 0).astype(z.dtype))

    other = FunctionEngine("relu'(0)=1", relu_prime_zero_is_one, "")
    _, theirs = relu_prime_zero_is_one(case.spec, case.params, case.X, case.y)
    _, ours = loss_and_grads(case.spec, case.params, case.X, case.y)
    assert not np.array_equal(theirs["b1"], ours["b1"])  # the conventions really differ here
    result = check_case(case, ["core", "fd", other])
    assert result.verdict in ("pass", "inconclusive"), describe_failures(result)
    assert result.ambiguous_entries > 0


def test_a_subnormal_pre_activation_counts_as_on_the_kink() -> None:
    # Z² = W2·A¹ is 1e-39 > 0 here: subnormal in float32. An engine that flushes subnormals
    # to zero (XLA does) sees relu′(0) = 0 where the core sees relu′(z > 0) = 1.
    spec = NetworkSpec((1, 1, 1, 2), hidden="relu", dtype="float32")
    params = {"W1": [[1.0]], "b1": [0.0], "W2": [[1e-39]], "b2": [0.0], "W3": [[1.0], [-1.0]],
              "b3": [0.0, 0.0]}  # fmt: skip
    params = {k: np.array(v, dtype=np.float32) for k, v in params.items()}
    case = Case(spec, params, np.ones((1, 1), np.float32), np.zeros((1, 2), np.float32))

    def flushes_subnormals(spec, params, X, y):  # type: ignore[no-untyped-def]
        tiny = np.finfo(np.float32).tiny
        return backprop_with(spec, params, X, y, df=lambda act, z, f: act.df(
            np.where(np.abs(z) < tiny, 0, z).astype(z.dtype), f))  # fmt: skip

    ftz = FunctionEngine("ftz", flushes_subnormals, "")
    _, theirs = flushes_subnormals(spec, case.params, case.X, case.y)
    _, ours = loss_and_grads(spec, case.params, case.X, case.y)
    assert not np.array_equal(theirs["W2"], ours["W2"])
    result = check_case(case, ["core", ftz])
    assert result.verdict != "fail", describe_failures(result)
    assert result.ambiguous_entries > 0


def test_a_pre_activation_summed_from_subnormal_products_counts_as_on_the_kink() -> None:
    # Each product W2[0, j]·A¹[j] is subnormal although their sum is not: a flushing engine
    # computes Z² = 0 exactly.
    spec = NetworkSpec((1, 8, 1, 2), hidden="relu", dtype="float32")
    tiny = float(np.finfo(np.float32).tiny)
    params = {"W1": [[1.0]] * 8, "b1": [0.0] * 8, "W2": [[0.9 * tiny] * 8], "b2": [0.0],
              "W3": [[1.0], [-1.0]], "b3": [0.0, 0.0]}  # fmt: skip
    params = {k: np.array(v, dtype=np.float32) for k, v in params.items()}
    case = Case(spec, params, np.full((1, 1), 0.9, np.float32), np.zeros((1, 2), np.float32))
    assert float(forward(spec, case.params, case.X).zs[1][0, 0]) > tiny  # normal, yet on it
    assert check_case(case, ["core", "fd"]).ambiguous_entries > 0
