"""``gradcheck.torch.gradcheck`` and ``gradgradcheck``: torch's signatures and contract
(a bool, or an exception), with gradcheck's verdicts."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from gradcheck.errors import GradcheckError
from tests.frameworks.planted import plant_torch
from tests.torch.helpers import planted_entry

torch = pytest.importorskip("torch")
from torch.autograd import Function  # noqa: E402
from torch.autograd.function import once_differentiable  # noqa: E402

import gradcheck.torch as gt  # noqa: E402  (after the skip: it imports torch)


def rand(*shape: int, seed: int = 0, dtype: Any = None) -> Any:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(*shape, generator=g, dtype=torch.float64)
    return x.to(dtype or torch.float64).requires_grad_()


def tanh_matmul(a: Any, b: Any) -> Any:
    return torch.tanh(a @ b)


def float32_inputs() -> tuple[Any, Any]:
    return rand(4, 3, dtype=torch.float32), rand(3, 2, seed=1, dtype=torch.float32)


def float64_inputs() -> tuple[Any, Any]:
    return rand(4, 3), rand(3, 2, seed=1)


class Square(Function):
    """x² whose backward g·2x has a derivative 0.01 % off (its own backward says 2.0002)."""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return g * _Double.apply(x)  # type: ignore[no-untyped-call]


class _Double(Function):
    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        return 2 * x

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return g * 2 * (1 + 1e-4)


@pytest.mark.parametrize("name", ["gradcheck", "gradgradcheck"])
def test_signatures_match_torch(name: str) -> None:
    ours = inspect.signature(getattr(gt, name)).parameters
    theirs = inspect.signature(getattr(torch.autograd, name)).parameters
    assert list(ours) == list(theirs)
    assert [p.kind for p in ours.values()] == [p.kind for p in theirs.values()]
    assert [p.default for p in ours.values()] == [p.default for p in theirs.values()]


def test_correct_float32_passes_where_torch_fails() -> None:
    inputs = float32_inputs()
    with pytest.warns(UserWarning, match="not a double precision"):
        theirs = torch.autograd.gradcheck(tanh_matmul, inputs, raise_exception=False)
    assert theirs is False
    with pytest.warns(UserWarning, match="not a double precision"), pytest.raises(RuntimeError):
        torch.autograd.gradcheck(tanh_matmul, inputs)
    assert gt.gradcheck(tanh_matmul, inputs) is True
    assert gt.gradcheck(tanh_matmul, inputs, eps=1e-3) is True  # eps is not used


def test_planted_bug_raises_naming_the_entry() -> None:
    inputs = float64_inputs()
    planted = plant_torch(tanh_matmul, inputs, 1e-4)
    tensor, index = planted_entry(planted, inputs, (4, 2))
    with pytest.raises(gt.GradcheckFailure) as caught:
        gt.gradcheck(planted, inputs)
    assert isinstance(caught.value, RuntimeError)  # as torch's GradcheckError is
    assert caught.value.result.verdict == "fail"
    assert [(r.tensor, r.index) for r in caught.value.result.failures] == [(tensor, index)]
    # The message names the output entry, then the input entry: ∂output[i,j]/∂inputs[1][k,l].
    (failure,) = caught.value.result.failures
    assert failure.entry == f"∂output[{index[0]},{index[1]}]/∂inputs[1][{index[2]},{index[3]}]"
    assert failure.entry in str(caught.value)


def test_raise_exception_false_returns_false() -> None:
    inputs = float64_inputs()
    planted = plant_torch(tanh_matmul, inputs, 1e-4)
    assert gt.gradcheck(planted, inputs, raise_exception=False) is False


def test_fast_mode_passes_the_correct_and_fails_the_planted() -> None:
    inputs = float64_inputs()
    assert gt.gradcheck(tanh_matmul, inputs, fast_mode=True) is True
    planted = plant_torch(tanh_matmul, inputs, 1e-4)
    tensor, index = planted_entry(planted, inputs, (4, 2))
    with pytest.raises(gt.GradcheckFailure) as caught:
        gt.gradcheck(planted, inputs, fast_mode=True)
    assert caught.value.result.mode == "probe"
    assert (tensor, index) in {(r.tensor, r.index) for r in caught.value.result.failures}


def test_rtol_other_than_torchs_default_replaces_the_dtype_model() -> None:
    inputs = float64_inputs()
    planted = plant_torch(tanh_matmul, inputs, 1e-4)
    assert gt.gradcheck(planted, inputs, rtol=1e-2) is True


def test_nondet_tol_is_honoured() -> None:
    class Noisy(Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            ctx.save_for_backward(x)
            return x.sin()

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            (x,) = ctx.saved_tensors
            # Above float32's rounding of |g| ≈ 1 (6e-8), so that it never rounds away.
            return g * x.cos() + 1e-6 * torch.randn_like(x)

    x = rand(3, dtype=torch.float32)
    assert gt.gradcheck(Noisy.apply, (x,), raise_exception=False) is False
    assert gt.gradcheck(Noisy.apply, (x,), nondet_tol=1e-4) is True


class WrongJvp(Function):
    """sin with a right backward and a forward-mode jvp 0.01 % off."""

    @staticmethod
    def forward(x: Any) -> Any:
        return x.sin()

    @staticmethod
    def setup_context(ctx: Any, inputs: Any, output: Any) -> None:
        ctx.save_for_backward(*inputs)
        ctx.save_for_forward(*inputs)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return g * x.cos()

    @staticmethod
    def jvp(ctx: Any, t: Any) -> Any:
        (x,) = ctx.saved_tensors
        return t * x.cos() * (1 + 1e-4)


def test_check_forward_ad_chooses_the_forward_mode() -> None:
    x = rand(3)
    assert gt.gradcheck(WrongJvp.apply, (x,)) is True  # torch's default: backward only
    assert gt.gradcheck(WrongJvp.apply, (x,), check_forward_ad=True, raise_exception=False) is False
    only_forward = {"check_forward_ad": True, "check_backward_ad": False}
    assert gt.gradcheck(WrongJvp.apply, (x,), raise_exception=False, **only_forward) is False


def test_checking_no_mode_is_a_gradcheck_error() -> None:
    with pytest.raises(GradcheckError, match="both False"):
        gt.gradcheck(torch.sin, (rand(3),), check_backward_ad=False)


def test_undefined_output_gradient_is_checked() -> None:
    class Pair(Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx: Any, g1: Any, g2: Any) -> Any:
            return g1 * 2 + g2 * 3  # fails on None, an undefined gradient

    x = rand(3)
    with pytest.raises(GradcheckError, match="only output 0 has a gradient"):
        gt.gradcheck(Pair.apply, (x,))
    assert gt.gradcheck(Pair.apply, (x,), check_undefined_grad=False) is True


@pytest.mark.parametrize(
    "option",
    ["check_batched_grad", "check_batched_forward_grad", "masked"],
)
def test_unhonourable_gradcheck_options_raise_naming_the_option(option: str) -> None:
    with pytest.raises(GradcheckError, match=f"cannot honour {option}=True"):
        gt.gradcheck(tanh_matmul, float64_inputs(), **{option: True})


@pytest.mark.parametrize(
    "option",
    ["check_batched_grad", "check_fwd_over_rev", "gen_non_contig_grad_outputs", "masked"],
)
def test_unhonourable_gradgradcheck_options_raise_naming_the_option(option: str) -> None:
    with pytest.raises(GradcheckError, match=f"cannot honour {option}=True"):
        gt.gradgradcheck(tanh_matmul, float64_inputs(), **{option: True})


def test_gradgradcheck_passes_correct_code_with_and_without_grad_outputs() -> None:
    inputs = float64_inputs()
    assert gt.gradgradcheck(tanh_matmul, inputs) is True
    v = torch.randn(4, 2, dtype=torch.float64)
    assert gt.gradgradcheck(tanh_matmul, inputs, v) is True
    assert gt.gradgradcheck(tanh_matmul, inputs, (v,)) is True
    assert gt.gradgradcheck(tanh_matmul, float32_inputs()) is True


def test_gradgradcheck_fails_a_wrong_second_derivative() -> None:
    x = rand(2, 3)
    assert gt.gradcheck(Square.apply, (x,)) is True
    assert gt.gradgradcheck(Square.apply, (x,), raise_exception=False) is False
    with pytest.raises(gt.GradcheckFailure, match=r"grad: ∂output\[0\]\[\d,\d\]/∂inputs\[0\]"):
        gt.gradgradcheck(Square.apply, (x,))
    v = torch.zeros(2, 3, dtype=torch.float64)
    v[0, 1] = 1.0
    with pytest.raises(gt.GradcheckFailure, match=r"∂output\[0\]\[0,1\]/∂inputs\[0\]\[0,1\]"):
        gt.gradgradcheck(Square.apply, (x,), v)


def test_gradgradcheck_of_a_once_differentiable_backward_is_a_gradcheck_error() -> None:
    class OnceSin(Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            ctx.save_for_backward(x)
            return x.sin()

        @staticmethod
        @once_differentiable
        def backward(ctx: Any, g: Any) -> Any:
            (x,) = ctx.saved_tensors
            return g * x.cos()

    with pytest.raises(GradcheckError, match="second order not checked"):
        gt.gradgradcheck(OnceSin.apply, (rand(3),))


@pytest.mark.parametrize(
    ("fn", "inputs", "match"),
    [
        (3, (None,), "fn must be callable"),
        (torch.sin, "abc", "inputs must be a tensor or a tuple"),
        (torch.sin, (torch.ones(3),), "no input is a floating-point tensor that requires grad"),
        (lambda a: a > 0, (None,), "returned no floating-point tensor"),
    ],
    ids=["not callable", "a string", "requires_grad=False", "no floating output"],
)
def test_bad_input_is_a_gradcheck_error(fn: Any, inputs: Any, match: str) -> None:
    inputs = tuple(rand(3) if a is None else a for a in inputs) if inputs != "abc" else inputs
    with pytest.raises(GradcheckError, match=match):
        gt.gradcheck(fn, inputs)
    with pytest.raises(GradcheckError, match=match):
        gt.gradgradcheck(fn, inputs)
