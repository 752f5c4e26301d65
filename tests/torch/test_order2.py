"""``check(..., order=2)``: the derivatives of x ↦ vᵀ∂fn/∂x (the double backward) against
numerical derivatives of the backward."""

from __future__ import annotations

from typing import Any

import pytest

from gradcheck.errors import GradcheckError

torch = pytest.importorskip("torch")
from torch.autograd import Function  # noqa: E402
from torch.autograd.function import once_differentiable  # noqa: E402

import gradcheck.torch as gt  # noqa: E402  (after the skip: it imports torch)


def rand(*shape: int, seed: int = 0, dtype: Any = None) -> Any:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(*shape, generator=g, dtype=torch.float64)
    return x.to(dtype or torch.float64).requires_grad_()


class Cube(Function):
    """x³ with a hand-written backward 3x²·g in differentiable ops: correct to order 2."""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return 3 * x * x * g


class Double(Function):
    """z = 2x whose own backward says 2.0002: wrong."""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        return 2 * x

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return g * 2 * (1 + 1e-4)


class Square(Function):
    """x² with the backward g·2x, where 2x is ``Double``: the first derivative is right,
    its derivative (the second) is 0.01 % off."""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return g * Double.apply(x)  # type: ignore[no-untyped-call]


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


@pytest.mark.parametrize(
    ("name", "fn", "shapes"),
    [
        ("tanh(matmul)", lambda a, b: torch.tanh(a @ b), [(3, 2), (2, 2)]),
        ("softmax", lambda a: torch.softmax(a, -1), [(2, 3)]),
        ("matmul (linear)", lambda a, b: a @ b, [(3, 2), (2, 2)]),
        ("Cube", Cube.apply, [(2, 3)]),
    ],
)
def test_correct_double_backward_passes(name: str, fn: Any, shapes: list[tuple[int, ...]]) -> None:
    inputs = tuple(rand(*s, seed=k) for k, s in enumerate(shapes))
    result = gt.check(fn, inputs, order=2)
    assert result.verdict == "pass", result.summary()
    assert result.meta["orders"] == (1, 2)
    second = [r for r in result.records if r.tensor.startswith("grad: ")]
    assert {r.tensor for r in second} == {
        f"grad: ∂output[{k}]/∂inputs[{i}]" for k in range(len(shapes)) for i in range(len(shapes))
    }


def test_correct_double_backward_in_float32_passes() -> None:
    inputs = (rand(3, 2, dtype=torch.float32), rand(2, 2, seed=1, dtype=torch.float32))
    result = gt.check(lambda a, b: torch.tanh(a @ b), inputs, order=2)
    assert result.verdict == "pass", result.summary()


def test_wrong_second_derivative_fails_at_order_2_only() -> None:
    x = rand(2, 3)
    first = gt.check(Square.apply, (x,))
    assert first.verdict == "pass", first.summary()
    result = gt.check(Square.apply, (x,), order=2)
    assert result.verdict == "fail"
    (record,) = result.failures
    assert record.tensor == "grad: ∂output[0]/∂inputs[0]"
    # ∂/∂x_k of v_k·2x_k is 2v_k on the diagonal; the backward claims 2.0002·v_k.
    assert record.index[:2] == record.index[2:]
    assert record.value_a == pytest.approx(record.value_b * (1 + 1e-4), rel=1e-9)


def test_once_differentiable_backward_is_a_note_not_a_failure() -> None:
    result = gt.check(OnceSin.apply, (rand(2, 3),), order=2)
    assert result.verdict == "pass", result.summary()
    assert result.meta["orders"] == (1,)
    assert any(n.startswith("second order not checked") for n in result.notes), result.notes
    assert not any(r.tensor.startswith("grad: ") for r in result.records)


def test_once_differentiable_inside_a_larger_function() -> None:
    result = gt.check(lambda a: OnceSin.apply(a) * a, (rand(4),), order=2)  # type: ignore[no-untyped-call]
    assert result.verdict != "fail", result.summary()
    assert any(n.startswith("second order not checked") for n in result.notes), result.notes


def test_grad_outputs_pass_a_correct_function() -> None:
    x, w = rand(3, 2), rand(2, 2, seed=1)
    v = torch.randn(3, 2, dtype=torch.float64)
    result = gt.check(lambda a, b: torch.tanh(a @ b), (x, w), order=2, grad_outputs=[v])
    assert result.verdict == "pass", result.summary()
    assert result.meta["orders"] == (1, 2)


def test_grad_outputs_are_the_cotangents_of_order_2() -> None:
    # Square's second derivative at entry k is off by 2e-4·v_k: only where v_k ≠ 0.
    x = rand(2, 3)
    v = torch.zeros(2, 3, dtype=torch.float64)
    v[1, 2] = 1.5
    result = gt.check(Square.apply, (x,), order=2, grad_outputs=[v])
    (record,) = result.failures
    assert (record.tensor, record.index) == ("grad: ∂output[0]/∂inputs[0]", (1, 2, 1, 2))
    zero = gt.check(Square.apply, (x,), order=2, grad_outputs=[torch.zeros(2, 3)])
    assert zero.verdict == "pass", zero.summary()


def test_grad_outputs_of_the_wrong_count_is_a_gradcheck_error() -> None:
    v = torch.ones(3, 2, dtype=torch.float64)
    with pytest.raises(GradcheckError, match="grad_outputs has 2 tensors, fn has 1"):
        gt.check(torch.sin, (rand(3, 2),), order=2, grad_outputs=[v, v])


def test_grad_outputs_of_the_wrong_shape_is_a_gradcheck_error() -> None:
    with pytest.raises(GradcheckError, match="Mismatch in shape"):
        gt.check(torch.sin, (rand(3, 2),), order=2, grad_outputs=[torch.ones(2, 2)])


def test_order_2_leaves_the_callers_tensors_alone() -> None:
    x = rand(2, 3)
    saved = x.detach().clone()
    gt.check(Cube.apply, (x,), order=2)
    assert torch.equal(x.detach(), saved) and x.grad is None and x.requires_grad
