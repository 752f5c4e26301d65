"""``gradcheck.torch.check`` on custom ``autograd.Function``s and on the structure of a
function's arguments and results: forward AD present or not, wrong-shaped and None
gradients, in-place writes, non-finite values, nondeterminism, the caller's tensors left
alone, pass-through arguments, dict and tuple outputs."""

from __future__ import annotations

from typing import Any

import pytest

from gradcheck.errors import GradcheckError, NonFiniteError, ShapeError

torch = pytest.importorskip("torch")
from torch.autograd import Function  # noqa: E402

import gradcheck.torch as gt  # noqa: E402  (after the skip: it imports torch)

UNSUPPORTED = "forward mode not checked: unsupported"


def rand(*shape: int, dtype: Any = None, seed: int = 0) -> Any:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(*shape, generator=g, dtype=torch.float64)
    return x.to(dtype or torch.float64).requires_grad_()


class Exp(Function):
    """exp with its backward and its forward-mode jvp."""

    @staticmethod
    def forward(x: Any) -> Any:
        return x.exp()

    @staticmethod
    def setup_context(ctx: Any, inputs: Any, output: Any) -> None:
        ctx.save_for_backward(output)
        ctx.save_for_forward(output)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (y,) = ctx.saved_tensors
        return g * y

    @staticmethod
    def jvp(ctx: Any, t: Any) -> Any:
        (y,) = ctx.saved_tensors
        return t * y


class Sin(Function):
    """sin with a backward only; ``FACTOR`` scales it (1 is correct)."""

    FACTOR = 1.0

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        ctx.save_for_backward(x)
        return x.sin()

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return g * x.cos() * Sin.FACTOR


class WrongSin(Sin):
    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return g * x.cos() * (1 + 1e-4)


def test_custom_function_with_jvp_passes_both_modes() -> None:
    result = gt.check(Exp.apply, (rand(2, 3),))
    assert result.verdict == "pass", result.summary()
    assert result.meta["modes_checked"] == ("rev", "fwd")
    assert not any(UNSUPPORTED in n for n in result.notes)


def test_custom_function_without_jvp_passes_with_a_note() -> None:
    result = gt.check(Sin.apply, (rand(2, 3),))
    assert result.verdict == "pass", result.summary()
    assert result.meta["modes_checked"] == ("rev",)
    assert any(n.startswith(UNSUPPORTED) for n in result.notes), result.notes


def test_custom_function_without_jvp_and_a_wrong_backward_fails() -> None:
    result = gt.check(WrongSin.apply, (rand(2, 3),))
    assert result.verdict == "fail"
    assert {r.engine_a for r in result.failures} == {"vjp"}


def test_the_function_is_named_in_errors() -> None:
    class WrongShape(Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            return x * 2

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            return g.sum(0) * 2

    with pytest.raises(ShapeError, match=r"WrongShape.*wrong shape.*got \[3\].*\[2, 3\]"):
        gt.check(WrongShape.apply, (rand(2, 3),))


def test_backward_raising_is_a_gradcheck_error_naming_it() -> None:
    class Raises(Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            return x * 2

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            raise ValueError("boom")

    with pytest.raises(GradcheckError, match=r"the backward of .* raised ValueError: boom"):
        gt.check(Raises.apply, (rand(3),))


class Mul(Function):
    """x·w whose backward returns None for w, which matters."""

    @staticmethod
    def forward(ctx: Any, x: Any, w: Any) -> Any:
        ctx.save_for_backward(x, w)
        return x * w

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        _, w = ctx.saved_tensors
        return g * w, None


def test_none_gradient_for_an_input_that_matters_fails_with_a_note() -> None:
    result = gt.check(Mul.apply, (rand(2, 2), rand(2, 2, seed=1)))
    assert result.verdict == "fail"
    assert {r.tensor for r in result.failures} == {"∂output/∂inputs[1]"}
    assert "the backward returned None for inputs[1], which requires grad" in result.notes


def test_none_gradient_for_an_input_that_does_not_matter_passes() -> None:
    class First(Function):
        @staticmethod
        def forward(ctx: Any, x: Any, w: Any) -> Any:
            return x * 3

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            return g * 3, None

    result = gt.check(First.apply, (rand(2), rand(2, seed=1)))
    assert result.verdict == "pass", result.summary()
    assert not any("returned None" in n for n in result.notes)


def test_in_place_write_to_an_input_is_an_error_naming_it() -> None:
    def scale(x: Any, w: Any) -> Any:
        w.mul_(2)
        return x * w

    x, w = rand(3), rand(3, seed=1).detach()
    before = w.clone()
    with pytest.raises(GradcheckError, match=r"scale modified inputs\[1\] in place"):
        gt.check(scale, (x, w))
    assert torch.equal(w, before)  # the check wrote into its own clone


def test_non_finite_output_names_the_entry() -> None:
    x = torch.tensor([[1.0, 2.0], [-1.0, 3.0]], dtype=torch.float64, requires_grad=True)
    with pytest.raises(NonFiniteError, match=r"output\[1, 0\] is nan"):
        gt.check(torch.log, (x,))


def test_non_finite_entry_of_a_named_output() -> None:
    x = torch.tensor([1.0, 0.0, 2.0], dtype=torch.float64, requires_grad=True)
    with pytest.raises(NonFiniteError, match=r"output\['inv'\]\[1\] is inf"):
        gt.check(lambda a: {"ok": a * 2, "inv": 1 / a}, (x,))


def test_non_finite_gradient_names_the_entry() -> None:
    class NanGrad(Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            return x * 2

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            out = g * 2
            out[1, 0] = float("nan")
            return out

    with pytest.raises(NonFiniteError, match=r"gradient of inputs\[0\]\[1, 0\] is nan"):
        gt.check(NanGrad.apply, (rand(2, 2),))


class Noisy(Function):
    """sin whose backward adds noise of size ``NOISE``: nondeterministic. In float32 it must
    be above the gradient's own rounding (6e-8 at |g| ≈ 1), or it rounds away on some draws."""

    NOISE = 1e-6

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        ctx.save_for_backward(x)
        return x.sin()

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return g * x.cos() + Noisy.NOISE * torch.randn_like(x)


def test_nondeterministic_backward_fails_with_a_note() -> None:
    result = gt.check(Noisy.apply, (rand(2, 3, dtype=torch.float32),))
    assert result.verdict == "fail"
    (note,) = [n for n in result.notes if "nondeterministic" in n]
    assert "nondet_tol=0" in note
    # float32's tolerance admits noise of 1e-6: only the nondeterminism fails it.
    assert not result.failures


def test_nondeterministic_backward_passes_within_nondet_tol() -> None:
    result = gt.check(Noisy.apply, (rand(2, 3, dtype=torch.float32),), nondet_tol=1e-4)
    assert result.verdict == "pass", result.summary()
    assert not any("nondeterministic" in n for n in result.notes)
    assert 0 < result.meta["nondeterminism"] <= 1e-4


def test_deterministic_backward_measures_no_nondeterminism() -> None:
    result = gt.check(Sin.apply, (rand(2, 3, dtype=torch.float32),))
    assert result.meta["nondeterminism"] == 0.0


def test_callers_tensors_are_never_modified() -> None:
    x = rand(2, 3)
    w = rand(3, seed=1).detach()
    t = torch.tensor([0, 2])
    saved = (x.detach().clone(), w.clone(), t.clone())

    def fn(a: Any, b: Any, idx: Any) -> Any:
        return (torch.tanh(a) * b)[:, idx]

    for order in (1, 2):
        gt.check(fn, (x, w, t), order=order)
    assert torch.equal(x.detach(), saved[0]) and torch.equal(w, saved[1])
    assert torch.equal(t, saved[2])
    assert x.requires_grad and not w.requires_grad
    assert x.grad is None and w.grad is None
    assert x.dtype == torch.float64 and x.is_leaf


def test_non_float_and_non_grad_arguments_are_passed_through_unchecked() -> None:
    seen: list[tuple[type, Any]] = []

    def fn(a: Any, n: int, idx: Any, m: Any, name: str) -> Any:
        seen.append((type(n), idx.dtype))
        assert name == "label" and not m.requires_grad
        return (a[idx] * n).sum() + m.sum()

    x, m = rand(4), rand(2, seed=1).detach()
    result = gt.check(fn, (x, 3, torch.tensor([0, 3]), m, "label"))
    assert result.verdict == "pass", result.summary()
    assert {r.tensor for r in result.records} == {"∂output/∂inputs[0]"}
    assert result.meta["n_in"] == 4
    assert set(seen) == {(int, torch.int64)}


def test_gradient_of_a_non_grad_argument_is_not_checked() -> None:
    class WrongForW(Function):
        @staticmethod
        def forward(ctx: Any, x: Any, w: Any) -> Any:
            ctx.save_for_backward(x, w)
            return x * w

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            x, w = ctx.saved_tensors
            return g * w, g * x * 7  # wrong for w, which does not require grad

    result = gt.check(WrongForW.apply, (rand(3), rand(3, seed=1).detach()))
    assert result.verdict == "pass", result.summary()


def test_dict_outputs_are_checked_each_by_name() -> None:
    def fn(a: Any, b: Any) -> Any:
        return {"s": a.sin(), "p": a * b, "count": torch.tensor(3), "tag": "x"}

    result = gt.check(fn, (rand(2), rand(2, seed=1)))
    assert result.verdict == "pass", result.summary()
    assert {r.tensor for r in result.records} == {
        f"∂output[{k!r}]/∂inputs[{i}]" for k in ("s", "p") for i in (0, 1)
    }


def test_tuple_outputs_name_the_failing_one() -> None:
    def fn(a: Any) -> Any:
        return a.exp(), ("label", WrongSin.apply(a))  # type: ignore[no-untyped-call]

    result = gt.check(fn, (rand(3),))
    assert result.verdict == "fail"
    assert {r.tensor for r in result.failures} == {"∂output[1][1]/∂inputs[0]"}
    assert {r.tensor for r in result.records} == {
        "∂output[0]/∂inputs[0]",
        "∂output[1][1]/∂inputs[0]",
    }


def test_function_refusing_float64_is_differentiated_in_its_own_dtype() -> None:
    def float32_only(a: Any) -> Any:
        if a.dtype != torch.float32:
            raise TypeError("float32 only")
        return a.sin()

    result = gt.check(float32_only, (rand(3, dtype=torch.float32),))
    assert result.verdict == "pass", result.summary()
    assert any("numerical derivatives in float32" in n for n in result.notes)
