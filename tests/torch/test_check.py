"""``gradcheck.torch.check`` on real torch ops (which must pass in every dtype), on planted
errors (which must fail, naming the entry), and on bad input (a GradcheckError, never a raw
torch traceback)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from gradcheck.errors import GradcheckError
from tests.frameworks.planted import plant_torch
from tests.torch.helpers import failing_entries, planted_entry

torch = pytest.importorskip("torch")
F = torch.nn.functional
from torch.autograd import Function  # noqa: E402

import gradcheck.torch as gt  # noqa: E402  (after the skip: it imports torch)

Inputs = Callable[[Any], tuple[Any, ...]]


def rand(*shape: int, dtype: Any, grad: bool = True, seed: int = 0) -> Any:
    g = torch.Generator().manual_seed(seed + 7 * len(shape) + sum(shape))
    return torch.randn(*shape, generator=g, dtype=torch.float64).to(dtype).requires_grad_(grad)


def exact(values: list[float], dtype: Any) -> Any:
    return torch.tensor(values, dtype=dtype, requires_grad=True)


# name: (fn, inputs in a dtype). Shapes are small: full mode checks every entry.
OPS: dict[str, tuple[Callable[..., Any], Inputs]] = {
    "matmul": (lambda a, b: a @ b, lambda d: (rand(3, 4, dtype=d), rand(4, 2, dtype=d))),
    "tanh": (torch.tanh, lambda d: (rand(5, dtype=d),)),
    "softmax": (lambda a: torch.softmax(a, -1), lambda d: (rand(2, 4, dtype=d),)),
    "log_softmax": (lambda a: torch.log_softmax(a, -1), lambda d: (rand(2, 4, dtype=d),)),
    "logsumexp": (lambda a: torch.logsumexp(a, -1), lambda d: (rand(3, 4, dtype=d),)),
    "conv1d": (F.conv1d, lambda d: (rand(1, 2, 6, dtype=d), rand(3, 2, 3, dtype=d))),
    "conv2d": (
        lambda x, w: F.conv2d(x, w, padding=1),
        lambda d: (rand(1, 1, 4, 4, dtype=d), rand(2, 1, 3, 3, dtype=d)),
    ),
    "layer_norm": (
        lambda x, w, b: F.layer_norm(x, (4,), w, b),
        lambda d: (rand(2, 4, dtype=d), rand(4, dtype=d, seed=1), rand(4, dtype=d, seed=2)),
    ),
    "linalg.norm": (torch.linalg.norm, lambda d: (rand(3, 3, dtype=d),)),
    "cumsum": (lambda a: torch.cumsum(a, 0), lambda d: (rand(6, dtype=d),)),
    "sort": (lambda a: torch.sort(a).values, lambda d: (rand(6, dtype=d),)),
    "topk": (lambda a: torch.topk(a, 3).values, lambda d: (rand(6, dtype=d),)),
    # Ties and kinks sit exactly on the point: pass or inconclusive, never fail.
    "max with ties": (torch.max, lambda d: (exact([1.0, 3.0, 3.0, 2.0], d),)),
    "relu at 0": (torch.relu, lambda d: (exact([-1.0, 0.0, 2.0, 0.0], d),)),
    "abs at 0": (torch.abs, lambda d: (exact([-1.0, 0.0, 2.0], d),)),
    "mse_loss": (F.mse_loss, lambda d: (rand(3, 2, dtype=d), rand(3, 2, dtype=d, grad=False))),
    "cross_entropy": (F.cross_entropy, lambda d: (rand(3, 4, dtype=d), torch.tensor([0, 3, 1]))),
}
KINKED = {"max with ties", "relu at 0", "abs at 0"}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(OPS))
def test_real_op_passes(name: str, dtype: str) -> None:
    fn, inputs = OPS[name]
    result = gt.check(fn, inputs(getattr(torch, dtype)))
    allowed = {"pass", "inconclusive"} if name in KINKED else {"pass"}
    assert result.verdict in allowed, result.summary()
    assert result.mode == "full"
    assert result.meta["modes_checked"] == ("rev", "fwd")


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("name", sorted(OPS))
def test_real_op_in_half_precision_does_not_fail(name: str, dtype: str) -> None:
    fn, inputs = OPS[name]
    result = gt.check(fn, inputs(getattr(torch, dtype)))
    assert result.verdict != "fail", result.summary()


def test_the_integer_target_is_passed_through_unchecked() -> None:
    fn, inputs = OPS["cross_entropy"]
    result = gt.check(fn, inputs(torch.float64))
    assert {r.tensor for r in result.records} == {"∂output/∂inputs[0]"}
    assert result.meta["n_in"] == 12


# -- planted errors -------------------------------------------------------------------------

PLANTED: dict[str, tuple[Callable[..., Any], Inputs]] = {
    "tanh(matmul)": (
        lambda a, b: torch.tanh(a @ b),
        lambda d: (rand(3, 4, dtype=d), rand(4, 2, dtype=d)),
    ),
    "softmax": (lambda a: torch.softmax(a, -1), lambda d: (rand(2, 5, dtype=d),)),
    "conv1d": (F.conv1d, lambda d: (rand(1, 2, 6, dtype=d), rand(3, 2, 3, dtype=d))),
    "layer_norm": (
        lambda x, w, b: F.layer_norm(x, (4,), w, b),
        lambda d: (rand(2, 4, dtype=d), rand(4, dtype=d, seed=1), rand(4, dtype=d, seed=2)),
    ),
    "mse_loss (target passed through)": (
        lambda a, t, b: F.mse_loss(a * b, t),
        lambda d: (rand(3, 2, dtype=d), rand(3, 2, dtype=d, grad=False), rand(2, dtype=d)),
    ),
}


@pytest.mark.parametrize(("dtype", "rel"), [("float64", 1e-4), ("float32", 1e-3)])
@pytest.mark.parametrize("name", sorted(PLANTED))
def test_planted_error_fails_naming_the_entry(name: str, dtype: str, rel: float) -> None:
    fn, make = PLANTED[name]
    inputs = make(getattr(torch, dtype))
    planted = plant_torch(fn, inputs, rel)
    out_shape = tuple(fn(*inputs).shape)
    tensor, index = planted_entry(planted, inputs, out_shape)
    result = gt.check(planted, inputs, mode="full")
    assert result.verdict == "fail"
    assert failing_entries(result) == {("vjp", tensor, index), ("jvp", tensor, index)}, (
        result.summary()
    )
    (record, _) = result.failures
    assert record.abs_err == pytest.approx(planted.delta, rel=0.05 if dtype == "float32" else 1e-3)
    # Whatever the inputs' dtype, the numerical side is the float64 forward's.
    assert record.error_bar < 1e-8 * abs(record.value_b)


def test_the_same_function_unplanted_passes() -> None:
    # The control for the planted tests: plant_torch with rel=0 changes nothing.
    fn, make = PLANTED["tanh(matmul)"]
    inputs = make(torch.float64)
    assert gt.check(plant_torch(fn, inputs, 0.0), inputs, mode="full").verdict == "pass"


def test_probe_mode_names_the_planted_entry_among_10_000_inputs() -> None:
    x, w = rand(100, 100, dtype=torch.float64), rand(100, 3, dtype=torch.float64)

    def fn(a: Any, b: Any) -> Any:
        return torch.tanh(a @ b / 10)

    planted = plant_torch(fn, (x, w), 1e-4)
    tensor, index = planted_entry(planted, (x, w), (100, 3))
    result = gt.check(planted, (x, w), mode="probe", modes=("rev",))
    assert result.mode == "probe" and result.meta["n_in"] == 10_300
    assert result.verdict == "fail"
    assert failing_entries(result) == {("vjp", tensor, index)}, result.summary()


def test_probe_mode_names_a_planted_entry_among_100_000_inputs() -> None:
    class Sin(Function):
        """sin elementwise, the derivative of entry (194, 177) 0.01 % off."""

        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            ctx.save_for_backward(x)
            return x.sin()

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            (x,) = ctx.saved_tensors
            d = x.cos()
            d[194, 177] *= 1 + 1e-4
            return g * d

    x = rand(250, 400, dtype=torch.float64)
    result = gt.check(Sin.apply, (x,), mode="probe")
    assert result.mode == "probe" and result.meta["n_in"] == 100_000
    assert failing_entries(result) == {("vjp", "∂output/∂inputs[0]", (194, 177, 194, 177))}


def test_probe_mode_passes_the_correct_function_among_10_000_inputs() -> None:
    x, w = rand(100, 100, dtype=torch.float64), rand(100, 3, dtype=torch.float64)
    result = gt.check(lambda a, b: torch.tanh(a @ b / 10), (x, w), mode="probe")
    assert result.mode == "probe"
    assert result.verdict == "pass", result.summary()


def test_auto_mode_is_full_for_small_functions_and_probe_for_large() -> None:
    small = gt.check(torch.tanh, (rand(10, dtype=torch.float64),), modes=("rev",))
    large = gt.check(torch.tanh, (rand(300, dtype=torch.float64),), modes=("rev",))
    assert (small.mode, large.mode) == ("full", "probe")


# -- bad input ------------------------------------------------------------------------------


def test_non_callable_is_a_gradcheck_error() -> None:
    with pytest.raises(GradcheckError, match="fn must be callable, not int"):
        gt.check(3, (rand(2, dtype=torch.float64),))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("inputs", "match"),
    [
        (np.ones(3), "inputs must be a tensor or a tuple"),
        ("abc", "inputs must be a tensor or a tuple"),
        ((np.ones(3),), "no input is a floating-point tensor that requires grad"),
        ((torch.tensor([1, 2]),), "no input is a floating-point tensor that requires grad"),
        ((torch.ones(2, dtype=torch.float64),), "no input is a floating-point tensor"),
    ],
    ids=["ndarray", "str", "tuple of ndarray", "integer tensor", "requires_grad=False"],
)
def test_inputs_that_are_not_checkable_tensors(inputs: Any, match: str) -> None:
    with pytest.raises(GradcheckError, match=match):
        gt.check(lambda *a: a[0] * 2, inputs)


def test_no_floating_output_is_a_gradcheck_error() -> None:
    with pytest.raises(GradcheckError, match="returned no floating-point tensor"):
        gt.check(lambda a: (a > 0, "text"), (rand(3, dtype=torch.float64),))


def test_fn_raising_is_a_gradcheck_error_naming_the_exception() -> None:
    def broken(a: Any) -> Any:
        raise ZeroDivisionError("no luck")

    with pytest.raises(GradcheckError, match="broken raised ZeroDivisionError: no luck"):
        gt.check(broken, (rand(3, dtype=torch.float64),))


def test_torch_raising_inside_fn_is_a_gradcheck_error() -> None:
    with pytest.raises(GradcheckError, match=r"raised RuntimeError: .*shapes"):
        gt.check(
            lambda a, b: a @ b, (rand(2, 3, dtype=torch.float64), rand(2, 3, dtype=torch.float64))
        )


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device besides the CPU")
def test_inputs_on_different_devices_are_a_gradcheck_error() -> None:
    a = rand(3, dtype=torch.float64)
    b = rand(3, dtype=torch.float64).detach().cuda().requires_grad_()
    with pytest.raises(
        GradcheckError, match=r"different devices: inputs\[0\] on cpu, inputs\[1\] on cuda"
    ):
        gt.check(lambda x, y: x * y.cpu(), (a, b))


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"method": "complex_step"}, "method must be 'auto' or 'central'"),
        ({"order": 3}, "order must be 1 or 2, not 3"),
        ({"order": 0}, "order must be 1 or 2"),
        ({"modes": ("bwd",)}, "modes must be a non-empty subset"),
        ({"modes": ()}, "modes must be a non-empty subset"),
        # A bare string is not read as its letters ('r', 'e', 'v').
        ({"modes": "rev"}, r"modes must be a list such as \('rev', 'fwd'\), not 'rev'"),
        ({"modes": 1}, "modes must be a list"),
        ({"mode": "fast"}, "mode must be"),
        ({"nondet_tol": -1.0}, "nondet_tol must be"),
    ],
    ids=lambda v: str(v) if isinstance(v, dict) else "",
)
def test_bad_options_are_gradcheck_errors(options: dict[str, Any], match: str) -> None:
    with pytest.raises(GradcheckError, match=match):
        gt.check(torch.sin, (rand(3, dtype=torch.float64),), **options)


def test_a_complex_input_is_named_rather_than_skipped_as_nothing_to_check() -> None:
    z = torch.rand(3, dtype=torch.complex128, requires_grad=True)
    with pytest.raises(GradcheckError, match=r"inputs\[1\] is complex \(complex128\)"):
        gt.check(lambda x, y: x * y.real, (rand(3, dtype=torch.float64), z))
    # Without requires_grad it is passed through like any other unchecked input.
    result = gt.check(lambda x, y: x * y.real, (rand(3, dtype=torch.float64), z.detach()))
    assert result.verdict == "pass"
