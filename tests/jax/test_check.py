"""gradcheck.jax.check on real JAX functions, custom rules and planted bugs.

Each planted bug is a custom rule wrong in one Jacobian entry (tests/jax/planted.py): the
check must fail and name that entry, while the same rule with the bug removed passes.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.reference

jax = pytest.importorskip("jax")

import jax.numpy as jnp  # noqa: E402  (after the skip)
import ml_dtypes  # noqa: E402

import gradcheck.jax as gj  # noqa: E402
from gradcheck.errors import (  # noqa: E402
    DTypeError,
    EngineUnavailableError,
    GradcheckError,
    NonFiniteError,
)
from gradcheck.gradients import GradientCheck  # noqa: E402
from tests.jax import planted  # noqa: E402

RNG = np.random.default_rng(0)
X32 = RNG.standard_normal((2, 3)).astype(np.float32)
W32 = RNG.standard_normal((3, 4)).astype(np.float32)
X64 = RNG.standard_normal((2, 3))
ENTRY = planted.ENTRY + planted.ENTRY  # an elementwise function's (out, in) index


def failures(result: GradientCheck) -> list[tuple[str, tuple[int, ...], str]]:
    return [(r.tensor, r.index, r.engine_a) for r in result.failures]


# Real JAX ops, float32 ---------------------------------------------------------------------

OPS: dict[str, tuple[Any, tuple[Any, ...]]] = {
    "tanh": (jnp.tanh, (X32,)),
    "sin": (jnp.sin, (X32,)),
    "matmul": (jnp.matmul, (X32, W32)),
    "softmax": (lambda x: jax.nn.softmax(x, axis=-1), (X32,)),
    "logsumexp": (lambda x: jax.nn.logsumexp(x, axis=1), (X32,)),
    "norm": (jnp.linalg.norm, (X32,)),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_real_ops_pass_in_float32_in_both_modes(name: str) -> None:
    f, args = OPS[name]
    result = gj.check(f, args)
    assert result.verdict == "pass", result.summary()
    assert result.meta["modes_checked"] == ("rev", "fwd")


@pytest.mark.parametrize("dtype", [np.float16, ml_dtypes.bfloat16], ids=["float16", "bfloat16"])
def test_half_precision_inputs_pass_with_their_rounding_model(dtype: Any) -> None:
    result = gj.check(lambda x: jax.nn.softmax(x, axis=-1), (X32.astype(dtype),))
    assert result.verdict == "pass", result.summary()
    assert result.tolerance.rtol > 1e-3  # float16's or bfloat16's, not float32's


def test_pytree_of_dicts_is_checked_leaf_by_leaf_with_readable_names() -> None:
    def layer(params: dict[str, Any], x: Any) -> dict[str, Any]:
        z = x @ params["w"] + params["b"]
        return {"h": jnp.tanh(z), "p": jax.nn.softmax(z)}

    params = {"w": W32, "b": RNG.standard_normal(4).astype(np.float32)}
    result = gj.check(layer, (params, X32), modes=("rev",))
    assert result.verdict == "pass", result.summary()
    assert {r.tensor for r in result.records} == {
        f"∂out['{o}']/∂{a}" for o in "hp" for a in ("args[0]['b']", "args[0]['w']", "args[1]")
    }


def test_a_jitted_function_is_checked_and_its_bug_found() -> None:
    assert gj.check(jax.jit(lambda x: jnp.tanh(x) * x), (X32,)).verdict == "pass"
    wrong = gj.check(jax.jit(planted.sin_vjp(1e-4)), (X64,))
    assert failures(wrong) == [("∂out/∂args[0]", ENTRY, "vjp")]


def test_a_function_jit_cannot_trace_is_run_eagerly() -> None:
    result = gj.check(lambda x: jnp.sum(x[x > 0] ** 2), (X32,))  # a boolean mask
    assert result.verdict == "pass", result.summary()


# Custom rules ---------------------------------------------------------------------------


def test_a_correct_custom_vjp_passes_with_forward_mode_not_checked() -> None:
    result = gj.check(planted.sin_vjp(0.0), (X64,))
    assert result.verdict == "pass", result.summary()
    assert result.meta["modes_checked"] == ("rev",)
    assert any("custom_vjp rule: forward mode is not defined" in n for n in result.notes)


def test_a_custom_vjp_off_by_1e_4_in_one_entry_fails_naming_it() -> None:
    result = gj.check(planted.sin_vjp(1e-4), (X64,))
    assert result.verdict == "fail"
    assert failures(result) == [("∂out/∂args[0]", ENTRY, "vjp")]
    assert result.failures[0].rel_err == pytest.approx(1e-4, rel=1e-3)


def test_a_correct_custom_jvp_passes_in_both_modes() -> None:
    result = gj.check(planted.sin_jvp(0.0), (X64,))
    assert result.verdict == "pass", result.summary()
    assert result.meta["modes_checked"] == ("rev", "fwd")


def test_a_custom_jvp_off_by_1e_4_in_one_entry_fails_in_forward_mode_naming_it() -> None:
    result = gj.check(planted.sin_jvp(1e-4), (X64,), modes=("fwd",))
    assert failures(result) == [("∂out/∂args[0]", ENTRY, "jvp")]


def test_a_bug_is_localised_in_probe_mode_too() -> None:
    result = gj.check(planted.sin_vjp(1e-4), (X64,), mode="probe", modes=("rev",))
    assert result.mode == "probe"
    assert ("∂out/∂args[0]", ENTRY) in [(t, i) for t, i, _ in failures(result)]


# float32 --------------------------------------------------------------------------------


@pytest.mark.parametrize(("scale", "verdict"), [(0.0, "pass"), (1e-3, "fail")])
def test_float32_largest_jacobian_entry_off_by_1e_3_fails(scale: float, verdict: str) -> None:
    a = RNG.standard_normal((3, 4)).astype(np.float32)
    result = gj.check(planted.linear_vjp(a, scale), (RNG.standard_normal(4).astype(np.float32),))
    assert result.verdict == verdict, result.summary()
    if verdict == "fail":
        largest = tuple(int(i) for i in np.unravel_index(np.argmax(np.abs(a)), a.shape))
        assert failures(result) == [("∂out/∂args[0]", largest, "vjp")]


# Kinks ----------------------------------------------------------------------------------


def test_relu_and_abs_at_exactly_0_are_not_failures() -> None:
    relu = gj.check(jax.nn.relu, (np.array([0.0, 1.5, -1.5], np.float32),))
    assert relu.verdict in ("pass", "inconclusive"), relu.summary()
    assert all(r.kink_entries == 1 for r in relu.records)  # the 0 entry, not compared
    assert gj.check(jnp.abs, (np.zeros(1, np.float32),)).verdict == "inconclusive"


# Leaves that are not checked ------------------------------------------------------------


def test_integer_bool_and_non_array_leaves_are_passed_through_unchanged() -> None:
    seen: list[tuple[object, ...]] = []

    def f(p: dict[str, Any], n: Any, mask: Any, kind: str) -> dict[str, Any]:
        seen.append((type(n), getattr(n, "dtype", None), mask.dtype, kind))
        y = jnp.where(mask, p["x"] ** n, p["x"])
        return {"y": jnp.tanh(y) if kind == "tanh" else y, "count": jnp.sum(mask)}

    mask = np.array([[True, False, True], [False, True, True]])
    result = gj.check(f, ({"x": X32}, 2, mask, "tanh"))
    assert result.verdict == "pass", result.summary()
    assert {r.tensor for r in result.records} == {"∂out['y']/∂args[0]['x']"}
    assert set(seen) == {(int, None, np.dtype(bool), "tanh")}
    assert gj.check(f, ({"x": X32}, np.int32(3), mask, "tanh")).verdict == "pass"


# x64 ------------------------------------------------------------------------------------


def test_float64_arguments_with_x64_off_run_the_whole_check_in_float64_with_a_note() -> None:
    dtypes: set[str] = set()

    def f(x: Any) -> Any:
        dtypes.add(str(x.dtype))  # at every trace: the forward, jax.vjp and jax.jvp
        return jnp.sin(x) * x

    assert not jax.enable_x64.value
    result = gj.check(f, (X64,))
    assert result.verdict == "pass", result.summary()  # in float32 it would fail float64's bar
    assert dtypes == {"float64"}
    assert gj.X64_NOTE in result.notes
    assert not jax.enable_x64.value  # scoped: the global setting is as it was
    wrong = gj.check(planted.sin_vjp(1e-6), (X64,))  # below float32's resolution
    assert failures(wrong) == [("∂out/∂args[0]", ENTRY, "vjp")]


def test_no_note_where_x64_is_on_or_no_argument_is_float64() -> None:
    with jax.enable_x64(True):
        assert gj.X64_NOTE not in gj.check(jnp.sin, (X64,)).notes
    assert gj.X64_NOTE not in gj.check(jnp.sin, (X32,)).notes


def test_a_function_that_casts_down_itself_gets_that_precision_and_a_note() -> None:
    result = gj.check(lambda x: jnp.sin(x.astype(jnp.float32)), (X64,))
    assert result.verdict == "pass", result.summary()
    assert any("f computes out in float32" in n for n in result.notes)


# Second order ---------------------------------------------------------------------------


def test_order_2_checks_the_second_derivative_in_records_named_grad() -> None:
    result = gj.check(jnp.tanh, (X32,), order=2)
    assert result.verdict == "pass", result.summary()
    assert [r.tensor for r in result.records] == ["∂out/∂args[0]"] * 2 + [
        "grad:∂args[0]/∂args[0]"
    ] * 2
    assert result.meta["order"] == 2


def test_order_2_fails_a_rule_right_only_to_first_order() -> None:
    assert gj.check(planted.sin_flat_second, (X64,)).verdict == "pass"
    result = gj.check(planted.sin_flat_second, (X64,), order=2)
    assert {(t, e) for t, _, e in failures(result)} == {
        ("grad:∂args[0]/∂args[0]", "vjp"),
        ("grad:∂args[0]/∂args[0]", "jvp"),
    }


# Bad input ------------------------------------------------------------------------------


def _raises(x: Any) -> Any:
    raise TypeError("unsupported operand")


BAD: dict[str, tuple[Any, Any, dict[str, Any], type[GradcheckError], str]] = {
    "f not callable": (3, (X32,), {}, GradcheckError, "f must be callable, not int"),
    "args not a tuple": (jnp.sin, X32, {}, GradcheckError, "args must be a tuple or list"),
    "no float leaf": (jnp.sin, (np.arange(3), 2.0), {}, GradcheckError, "no floating-point"),
    "f raises": (_raises, (X32,), {}, GradcheckError, "f raised TypeError: unsupported operand"),
    "nan output": (
        lambda x: {"a": x, "b": jnp.log(x)},
        (np.array([1.0, -1.0]),),
        {},
        NonFiniteError,
        "out['b'][1]",
    ),
    "float32 overflow": (
        jnp.exp,
        (np.array([1, 100], np.float32),),
        {},
        NonFiniteError,
        "out[1] is inf",
    ),
    "control flow on values": (
        lambda x: jnp.sin(x) if float(x.sum()) > 0 else x,
        (X32,),
        {},
        GradcheckError,
        "f raised ConcretizationTypeError",
    ),
    "no float output": (lambda x: x > 0, (X32,), {}, GradcheckError, "out: bool"),
    "nan input": (
        jnp.sin,
        ({"w": np.array([0, np.nan], np.float32)},),
        {},
        NonFiniteError,
        "['w'][1]",
    ),
    "complex": (jnp.sin, (X32 + 1j,), {}, DTypeError, "args[0] is complex"),
    "float8": (
        jnp.sin,
        (X32.astype(ml_dtypes.float8_e4m3fn),),
        {},
        DTypeError,
        "float8_e4m3fn",
    ),
    "order 3": (jnp.sin, (X32,), {"order": 3}, GradcheckError, "order must be 1 or 2, not 3"),
    "order True": (jnp.sin, (X32,), {"order": True}, GradcheckError, "not True"),
    "mode": (jnp.sin, (X32,), {"mode": "fast"}, GradcheckError, "not 'fast'"),
    "modes": (jnp.sin, (X32,), {"modes": ("fwd", "bwd")}, GradcheckError, "'bwd'"),
    "modes str": (jnp.sin, (X32,), {"modes": "fwd"}, GradcheckError, "not 'fwd'"),
    "rtol": (jnp.sin, (X32,), {"rtol": -1.0}, GradcheckError, "rtol must be"),
    "atol": (jnp.sin, (X32,), {"atol": float("nan")}, GradcheckError, "atol must be"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_a_gradcheck_error_naming_the_culprit(case: str) -> None:
    f, args, keywords, error, message = BAD[case]
    with pytest.raises(error) as raised:
        gj.check(f, args, **keywords)
    assert message in str(raised.value)


def test_without_jax_the_import_names_the_missing_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in [m for m in sys.modules if m == "gradcheck.jax" or m.startswith("gradcheck.jax.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "jax", None)  # what an uninstalled package looks like
    with pytest.raises(EngineUnavailableError, match="needs the jax package"):
        import gradcheck.jax  # noqa: F401
