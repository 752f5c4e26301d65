"""``gradcheck.jacobian`` on pure NumPy vector functions (no framework): full and probe
mode, reverse and forward, kinks, nondeterminism, and records that name the entry."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from gradcheck.errors import GradcheckError, NonFiniteError, ShapeError
from gradcheck.gradients import GradientCheck
from gradcheck.jacobian import Block, Unsupported, VectorFunction, check_function
from gradcheck.jacobian.check import JacobianOptions

Array = np.ndarray
DTYPES = {"float64": np.float64, "float32": np.float32}


class Tanh(VectorFunction):
    """y = tanh(W x) (+ ½|x_k| on the first output where ``kink`` is set), J = diag(1 − y²) W,
    with inputs ``x`` (2, 3) and ``b`` (4,), outputs ``y`` (5,) and ``z`` (2, 2).

    The VJP and JVP are computed in ``dtype`` (as a framework computes them); ``plant``
    adds δ to the analytic J[i, j] (both modes); ``noise`` adds that much random noise to
    every VJP; ``forward`` False removes the JVP."""

    def __init__(
        self,
        *,
        dtype: str = "float64",
        seed: int = 0,
        plant: tuple[int, int, float] | None = None,
        noise: float = 0.0,
        forward: bool = True,
        point: Array | None = None,
        kink: tuple[int, float] | None = None,
    ) -> None:
        self.inputs = (Block("x", (2, 3), dtype), Block("b", (4,), dtype))
        self.outputs = (Block("y", (5,), dtype), Block("z", (2, 2), dtype))
        rng = np.random.default_rng(seed)
        self.W = rng.standard_normal((self.n_out, self.n_in)) / 2
        x = rng.standard_normal(self.n_in) if point is None else point
        self.point = x.astype(DTYPES[dtype]).astype(np.float64)
        self.dtype = DTYPES[dtype]
        self.plant, self.noise, self.forward, self.kink = plant, noise, forward, kink
        self.rng = np.random.default_rng(seed + 1)
        self.calls = 0

    def evaluate(self, x: Array) -> Array:
        y = np.tanh(self.W @ x)
        if self.kink is not None:
            k, _ = self.kink
            y[0] += 0.5 * abs(x[k])
        return y

    def jacobian(self) -> Array:
        x = self.point.astype(self.dtype)
        y = np.tanh(self.W.astype(self.dtype) @ x)
        jac = (1 - y * y)[:, None] * self.W.astype(self.dtype)
        if self.kink is not None:
            k, subgradient = self.kink
            jac[0, k] += self.dtype(0.5 * (np.sign(x[k]) if x[k] else subgradient))
        if self.plant is not None:
            i, j, delta = self.plant
            jac[i, j] += self.dtype(delta)
        return jac

    def vjp(self, v: Array) -> Array:
        self.calls += 1
        g = (v.astype(self.dtype) @ self.jacobian()).astype(np.float64)
        return g + self.noise * self.rng.standard_normal(g.shape)

    def jvp(self, u: Array) -> Array:
        if not self.forward:
            raise Unsupported("no jvp here")
        return (self.jacobian() @ u.astype(self.dtype)).astype(np.float64)


def failing(result: GradientCheck) -> list[tuple[str, str, tuple[int, ...]]]:
    return [(r.engine_a, r.tensor, r.index) for r in result.failures]


def entry(fn: Tanh, i: int, j: int) -> tuple[str, tuple[int, ...]]:
    """The record name and index of flat Jacobian entry (i, j): output index, input index."""
    (out, out_index) = _unflat(fn.outputs, i)
    (inp, in_index) = _unflat(fn.inputs, j)
    return f"∂{out}/∂{inp}", out_index + in_index


def _unflat(blocks: tuple[Block, ...], flat: int) -> tuple[str, tuple[int, ...]]:
    for block in blocks:
        if flat < block.size:
            return block.name, tuple(int(k) for k in np.unravel_index(flat, block.shape))
        flat -= block.size
    raise IndexError(flat)


def check(fn: VectorFunction, **options: Any) -> GradientCheck:
    return check_function(fn, JacobianOptions(**options))


# -- correct functions pass -----------------------------------------------------------------


@pytest.mark.parametrize("mode", ["full", "probe"])
def test_correct_function_passes_in_both_modes(mode: str) -> None:
    result = check(Tanh(), mode=mode)
    assert result.verdict == "pass", result.summary()
    assert result.mode == mode
    assert result.meta["modes_checked"] == ("rev", "fwd")


def test_full_mode_has_one_record_per_output_input_pair_and_mode() -> None:
    result = check(Tanh(), mode="full")
    names = [(r.engine_a, r.tensor, r.shape) for r in result.records]
    pairs = [
        ("∂y/∂x", (5, 2, 3)),
        ("∂y/∂b", (5, 4)),
        ("∂z/∂x", (2, 2, 2, 3)),
        ("∂z/∂b", (2, 2, 4)),
    ]
    assert names == [(e, t, s) for e in ("vjp", "jvp") for t, s in pairs]


def test_correct_float32_never_fails_over_many_seeds() -> None:
    for seed in range(40):
        result = check(Tanh(dtype="float32", seed=seed), mode="full", seed=seed)
        assert result.verdict == "pass", (seed, result.summary())


# -- a planted error is caught and named ----------------------------------------------------


@pytest.mark.parametrize(("i", "j"), [(0, 0), (3, 7), (6, 2), (8, 9), (4, 6)])
def test_full_mode_names_the_planted_entry_in_both_modes(i: int, j: int) -> None:
    fn = Tanh()
    delta = 1e-4 * abs(fn.jacobian()[i, j])
    fn.plant = (i, j, delta)
    result = check(fn, mode="full")
    tensor, index = entry(fn, i, j)
    assert result.verdict == "fail"
    assert failing(result) == [("vjp", tensor, index), ("jvp", tensor, index)]


@pytest.mark.parametrize(("i", "j"), [(0, 0), (3, 7), (6, 2), (8, 9), (4, 6)])
def test_probe_bisection_names_the_planted_entry(i: int, j: int) -> None:
    fn = Tanh()
    fn.plant = (i, j, 1e-3 * abs(fn.jacobian()[i, j]))
    result = check(fn, mode="probe")
    tensor, index = entry(fn, i, j)
    assert result.verdict == "fail"
    named = {(e, t, ix) for e, t, ix in failing(result) if t.startswith("∂")}
    assert named == {("vjp", tensor, index), ("jvp", tensor, index)}, result.summary()


def test_float32_error_of_1e_3_in_the_largest_entry_is_caught_in_full_mode() -> None:
    for seed in range(5):
        fn = Tanh(dtype="float32", seed=seed)
        jac = np.abs(fn.jacobian())
        i, j = np.unravel_index(int(np.argmax(jac)), jac.shape)
        fn.plant = (int(i), int(j), 1e-3 * float(jac[i, j]))
        result = check(fn, mode="full", seed=seed)
        tensor, index = entry(fn, int(i), int(j))
        assert failing(result) == [("vjp", tensor, index), ("jvp", tensor, index)], seed


def test_rev_only_and_fwd_only_check_only_their_mode() -> None:
    fn = Tanh()
    fn.plant = (2, 3, 1e-3)
    rev = check(fn, mode="full", modes=("rev",))
    fwd = check(fn, mode="full", modes=("fwd",))
    assert {r.engine_a for r in rev.records} == {"vjp"}
    assert {r.engine_a for r in fwd.records} == {"jvp"}
    assert rev.verdict == fwd.verdict == "fail"


def test_a_wrong_jvp_with_a_right_vjp_fails_only_forward() -> None:
    class WrongForward(Tanh):
        def jvp(self, u: Array) -> Array:
            return super().jvp(u) * (1 + 1e-4)

    result = check(WrongForward(), mode="full")
    assert {r.engine_a for r in result.failures} == {"jvp"}


# -- unsupported forward, kinks, nondeterminism ---------------------------------------------


@pytest.mark.parametrize("mode", ["full", "probe"])
def test_unsupported_forward_is_a_note_not_a_failure(mode: str) -> None:
    result = check(Tanh(forward=False), mode=mode)
    assert result.verdict == "pass"
    assert result.meta["modes_checked"] == ("rev",)
    assert any("forward mode not checked: unsupported" in n for n in result.notes)
    assert "jvp" not in {r.engine_a for r in result.records}


def test_unsupported_forward_still_fails_a_wrong_reverse() -> None:
    fn = Tanh(forward=False)
    fn.plant = (1, 1, 1e-3)
    assert check(fn, mode="full").verdict == "fail"


def test_only_forward_requested_and_unsupported_is_an_error() -> None:
    with pytest.raises(GradcheckError, match="no mode could be checked"):
        check(Tanh(forward=False), modes=("fwd",))


def test_kink_entry_is_skipped_only_where_it_fails() -> None:
    point = np.random.default_rng(0).standard_normal(10)
    point[4] = 0.0
    # The subgradient 0 agrees with the central difference (0) at the kink: compared.
    agrees = check(Tanh(point=point, kink=(4, 0.0)), mode="full")
    assert agrees.verdict == "pass"
    assert sum(r.kink_entries for r in agrees.records) == 0
    # The subgradient 1 disagrees with it: that entry alone is skipped, not failed.
    fn = Tanh(point=point, kink=(4, 1.0))
    result = check(fn, mode="full")
    assert result.verdict == "pass", result.summary()
    skipped = {(r.engine_a, r.tensor): r.kink_entries for r in result.records if r.kink}
    assert skipped == {("vjp", "∂y/∂x"): 1, ("jvp", "∂y/∂x"): 1}


def test_a_planted_error_next_to_a_skipped_kink_still_fails() -> None:
    point = np.random.default_rng(0).standard_normal(10)
    point[4] = 0.0
    fn = Tanh(point=point, kink=(4, 1.0))
    fn.plant = (0, 2, 1e-3)
    result = check(fn, mode="full")
    assert failing(result) == [("vjp", "∂y/∂x", (0, 0, 2)), ("jvp", "∂y/∂x", (0, 0, 2))]


def test_a_planted_error_at_a_smooth_point_is_not_excused_as_a_kink() -> None:
    fn = Tanh(kink=(4, 1.0))  # |x_4| with x_4 ≠ 0: no kink within the steps
    fn.plant = (0, 4, 1e-3)
    result = check(fn, mode="full")
    assert sum(r.kink_entries for r in result.records) == 0
    assert failing(result) == [("vjp", "∂y/∂x", (0, 1, 1)), ("jvp", "∂y/∂x", (0, 1, 1))]


def test_nondeterministic_backward_fails_with_a_note() -> None:
    fn = Tanh(noise=1e-9)
    result = check(fn, mode="full")
    assert result.verdict == "fail"
    assert any(n.startswith("nondeterministic") for n in result.notes)
    assert result.meta["nondeterminism"] > 0


def test_nondet_tol_admits_a_small_enough_difference() -> None:
    # Noise of 1e-9 is within float32's rounding tolerance, so only nondet_tol decides.
    noisy = Tanh(dtype="float32", noise=1e-9)
    assert check(noisy, mode="full").verdict == "fail"
    result = check(Tanh(dtype="float32", noise=1e-9), mode="full", nondet_tol=1e-6)
    assert result.verdict == "pass", result.summary()
    assert not any("nondeterministic" in n for n in result.notes)
    assert 0 < result.meta["nondeterminism"] <= 1e-6
    # A tolerance below the difference still fails it.
    below = check(Tanh(dtype="float32", noise=1e-9), mode="full", nondet_tol=1e-12)
    assert below.verdict == "fail"


def test_deterministic_backward_has_no_nondeterminism() -> None:
    result = check(Tanh(), mode="full")
    assert result.meta["nondeterminism"] == 0.0


# -- records, meta and errors ---------------------------------------------------------------


def test_failing_record_holds_both_values_of_the_entry() -> None:
    fn = Tanh()
    true = fn.jacobian()[3, 7]
    fn.plant = (3, 7, 1e-3)
    result = check(fn, mode="full", modes=("rev",))
    (record,) = result.failures
    assert (record.tensor, record.index) == entry(fn, 3, 7)
    assert record.value_a == pytest.approx(true + 1e-3, abs=1e-15)
    assert record.value_b == pytest.approx(true, abs=1e-9)
    assert record.abs_err == pytest.approx(1e-3, rel=1e-5)
    assert record.ratio > 1 and record.engine_b == "central"


def test_gradients_and_loss_are_the_seeded_cotangents() -> None:
    fn = Tanh()
    result = check(fn, mode="full", seed=3)
    grads = result.gradients
    assert set(grads) == {"x", "b"} and grads["x"].shape == (2, 3)
    assert result.meta["n_in"] == 10 and result.meta["n_out"] == 9


def test_wrong_length_vjp_is_a_shape_error() -> None:
    class Short(Tanh):
        def vjp(self, v: Array) -> Array:
            return super().vjp(v)[:-1]

    with pytest.raises(ShapeError, match="VJP returned 9 entries, expected 10"):
        check(Short())


def test_non_finite_forward_names_the_output_entry() -> None:
    class Inf(Tanh):
        def evaluate(self, x: Array) -> Array:
            y = super().evaluate(x)
            y[6] = np.inf
            return y

    with pytest.raises(NonFiniteError, match=r"at output z\[0, 1\]"):
        check(Inf())


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"modes": ("rev", "bwd")}, "modes must be"),
        ({"modes": ()}, "modes must be"),
        ({"nondet_tol": -1.0}, "nondet_tol"),
        ({"nondet_tol": float("nan")}, "nondet_tol"),
        ({"mode": "fast"}, "mode"),
    ],
)
def test_bad_options_are_gradcheck_errors(options: dict[str, object], match: str) -> None:
    with pytest.raises(GradcheckError, match=match):
        JacobianOptions(**options)  # type: ignore[arg-type]
