"""gradcheck's finite-difference checks side by side with torch.autograd.gradcheck (slow mode and
fast_mode=True) and jax.test_util.check_grads, every figure measured in the same run.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/finite_differences.py --threads 1

``--quick`` shrinks every count (a smoke run of under a minute); ``--section NAME`` runs one
section only. Threads are pinned (OpenBLAS, OpenMP, MKL, XLA and torch) to the same count for
every tool before NumPy, torch or JAX is imported, and printed. The run ends with one Markdown
table for the README. Sections:

1. kinks: false failures on correct ReLU / leaky-ReLU / ELU networks in float64. (a) gradcheck
   on Hypothesis cases, kinks="avoid" and kinks="allow"; (b) every tool on a ReLU (and a
   leaky-ReLU) 20-64-64-10 softmax-CE network whose draws put pre-activations exactly on the
   kink, as free Hypothesis draws do: X ~ U(-3, 3) with each entry exactly 0 with probability
   0.1 and its first row all 0; W⁽ˡ⁾ ~ U(±2/√n_{l-1}) (the strategy's bound) with each entry 0
   with probability 0.1; b⁽ˡ⁾ ~ U(±1) with each entry 0 with probability 0.5. Row 0 then has
   z⁽¹⁾ = b⁽¹⁾, exactly 0 for about half of the first layer's units.
2. float32: gradcheck's false-failure rate on float32 Hypothesis cases and its catch rate for
   an error of 1e-3·‖g‖∞ planted in one entry; torch gradcheck (default tolerances) and
   check_grads on a correct float32 tanh network.
3. floor: the smallest planted error e·‖g‖∞ (one random entry) each tool catches, for P from 10
   to 10⁵ parameters. The anchors check the NumPy core's gradient plus the plant: torch through
   a torch.autograd.Function whose forward is the core's loss and whose backward is the planted
   gradient, JAX through jax.custom_vjp around jax.pure_callback. On a failure, torch's fast
   mode recomputes the whole slow-mode Jacobian only to word its error message (2P
   evaluations); the bench stubs that private helper out, which leaves the verdict unchanged.
4. cost: loss evaluations of gradcheck's probe mode to detect and localise a planted 1e-6 error.
5. speed: a full check of an 8-96-96-4 tanh network (P = 10,564) by every route.

Nothing is asserted; the script only prints.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from _threads import pin_threads  # bench/_threads.py: this script runs from bench/

if TYPE_CHECKING:
    import numpy as np

    from gradcheck.case import Case
    from gradcheck.nn.spec import NetworkSpec

SECTIONS = ("kinks", "float32", "floor", "cost", "speed")
GRID = (1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0)
FLOOR_WIDTHS: dict[int, tuple[int, ...]] = {
    10: (1, 3, 1),
    100: (3, 8, 6, 2),
    1_000: (10, 25, 24, 4),
    10_000: (8, 96, 96, 4),
    100_000: (16, 300, 300, 8),
}
KINK_WIDTHS = (20, 64, 64, 10)
FLOAT32_WIDTHS = (10, 32, 32, 3)
SPEED_WIDTHS = (8, 96, 96, 4)
LEAKY_SLOPE = 0.01  # gradcheck's default leaky_relu slope, used by the torch and JAX versions
PLANT_ENGINE = "bench_planted"


@dataclass(frozen=True)
class Counts:
    kink_examples: int  # Hypothesis examples per activation and kink policy
    kink_draws: int  # on-kink draws of the 20-64-64-10 network per activation
    float32_examples: int
    float32_draws: int
    floor_trials: int  # trials at e = 1e-6 per P
    grid_trials: int  # trials per e on the grid per P
    torch_slow_max: int  # largest P for torch's slow mode in the floor section
    cost_trials: int
    speed_repeats: int

    def describe(self) -> str:
        return (
            f"kinks: {self.kink_examples} Hypothesis examples per activation and policy, "
            f"{self.kink_draws} on-kink draws | float32: {self.float32_examples} examples, "
            f"{self.float32_draws} anchor draws | floor: {self.floor_trials} trials at 1e-6, "
            f"{self.grid_trials} per grid value, torch slow up to P = {self.torch_slow_max:,} | "
            f"cost: {self.cost_trials} trials | speed: best of {self.speed_repeats}"
        )


FULL = Counts(1000, 30, 500, 20, 5, 3, 10_000, 3, 5)
QUICK = Counts(25, 3, 25, 3, 1, 1, 1_000, 1, 1)


@dataclass
class Row:
    """One line of the combined Markdown table."""

    what: str
    target: str
    gradcheck: str
    torch_slow: str = "—"
    torch_fast: str = "—"
    jax: str = "—"


@dataclass
class Summary:
    rows: list[Row] = field(default_factory=list)

    def add(self, *args: str) -> None:
        self.rows.append(Row(*args))

    def markdown(self) -> str:
        lines = [
            "| what | target | gradcheck | torch slow | torch fast | jax check_grads |",
            "|---|---|---|---|---|---|",
        ]
        for r in self.rows:
            cells = (r.what, r.target, r.gradcheck, r.torch_slow, r.torch_fast, r.jax)
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)


# Printing ----------------------------------------------------------------------------------------
def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print rows under headers, columns right-aligned to their widest cell."""
    cells = [[str(c) for c in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[k]) for row in cells) for k in range(len(headers))]
    for row in cells:
        print("  " + "  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "n/a"


def frac(part: int, whole: int) -> str:
    return f"{part}/{whole}"


def sci(value: float | None) -> str:
    if value is None:
        return "> 10"
    return f"{value:.0e}".replace("e-0", "e-").replace("e+00", "").replace("e+0", "e")


def floor_text(value: float | None) -> str:
    """A grid threshold; the smallest grid value means "at most that"."""
    return f"≤ {sci(value)}" if value == GRID[0] else sci(value)


# Draws -------------------------------------------------------------------------------------------
def draw_cases(n: int, seed_value: int, **bounds: Any) -> list[Case]:
    """n Hypothesis examples of ``cases(**bounds)``, deterministically (generate phase only)."""
    from hypothesis import HealthCheck, Phase, given, seed, settings

    from gradcheck.strategies import cases

    drawn: list[Case] = []

    @seed(seed_value)
    @settings(
        max_examples=n,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(cases(**bounds))
    def collect(case: Case) -> None:
        drawn.append(case)

    collect()
    return drawn


@dataclass(frozen=True)
class Problem:
    """A network, its parameters and a batch; flat views for the anchors' single input."""

    spec: NetworkSpec
    params: dict[str, np.ndarray]
    X: np.ndarray
    y: np.ndarray

    @property
    def size(self) -> int:
        return self.spec.n_params

    def flat(self) -> np.ndarray:
        import numpy as np

        return np.concatenate([self.params[n].ravel() for n in self.spec.param_names])

    def unflat(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        out, start = {}, 0
        for name, shape in self.spec.param_shapes().items():
            stop = start + math.prod(shape)
            out[name] = theta[start:stop].reshape(shape)
            start = stop
        return out

    def offset(self, tensor: str) -> int:
        start = 0
        for name, shape in self.spec.param_shapes().items():
            if name == tensor:
                return start
            start += math.prod(shape)
        raise KeyError(tensor)

    def loss(self, params: dict[str, np.ndarray]) -> float:
        from gradcheck.nn.network import loss_value

        return loss_value(self.spec, params, self.X, self.y)

    def complex_loss(self, params: dict[str, np.ndarray]) -> complex:
        from gradcheck.nn.network import complex_loss_value

        return complex_loss_value(self.spec, params, self.X, self.y)

    def grads(self, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from gradcheck.nn.network import loss_and_grads

        return loss_and_grads(self.spec, params, self.X, self.y)[1]

    def case(self) -> Case:
        from gradcheck.case import Case

        return Case(self.spec, self.params, self.X, self.y)


@dataclass(frozen=True)
class Plant:
    """An error of ``amount`` added to entry ``index`` of tensor ``tensor`` of a gradient."""

    tensor: str
    index: tuple[int, ...]
    amount: float

    def apply(self, grads: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = {name: g.copy() for name, g in grads.items()}
        out[self.tensor][self.index] += out[self.tensor].dtype.type(self.amount)
        return out

    def scaled(self, amount: float) -> Plant:
        return Plant(self.tensor, self.index, amount)

    def named_by(self, failures: Sequence[Any]) -> bool:
        """Every failing record names exactly this entry (and there is one)."""
        return bool(failures) and all(
            r.tensor == self.tensor and tuple(r.index) == self.index for r in failures
        )


def choose_plant(spec: NetworkSpec, rng: np.random.Generator) -> tuple[str, tuple[int, ...]]:
    """A random tensor (uniform over the tensors), then a random entry of it."""
    import numpy as np

    names = spec.param_names
    tensor = names[int(rng.integers(len(names)))]
    shape = spec.param_shapes()[tensor]
    flat = int(rng.integers(math.prod(shape)))
    return tensor, tuple(int(i) for i in np.unravel_index(flat, shape))


def smooth_problem(widths: tuple[int, ...], seed: int, batch: int = 8) -> Problem:
    """A tanh MLP with MSE in float64: Xavier weights, biases U(±0.5), X and y standard normal."""
    import numpy as np

    from gradcheck.nn.init import init_params
    from gradcheck.nn.spec import NetworkSpec

    spec = NetworkSpec(widths, hidden="tanh", loss="mse")
    rng = np.random.default_rng(seed)
    params = init_params(spec, rng)
    for name, shape in spec.param_shapes().items():
        if name.startswith("b"):
            params[name] = rng.uniform(-0.5, 0.5, shape)
    X = rng.standard_normal((batch, widths[0]))
    y = rng.standard_normal((batch, widths[-1]))
    return Problem(spec, params, X, y)


def on_kink_problem(hidden: str, seed: int, batch: int = 16) -> Problem:
    """The 20-64-64-10 softmax-CE network with exact zeros in X, W and b (module docstring)."""
    import numpy as np

    from gradcheck.nn.spec import NetworkSpec

    spec = NetworkSpec(KINK_WIDTHS, hidden=hidden, loss="softmax_ce")
    rng = np.random.default_rng(seed)
    X = rng.uniform(-3.0, 3.0, (batch, KINK_WIDTHS[0]))
    X[rng.random(X.shape) < 0.1] = 0.0
    X[0] = 0.0
    params = {}
    for name, shape in spec.param_shapes().items():
        if name.startswith("W"):
            bound = 2.0 / math.sqrt(shape[1])
            value = rng.uniform(-bound, bound, shape)
            value[rng.random(shape) < 0.1] = 0.0
        else:
            value = rng.uniform(-1.0, 1.0, shape)
            value[rng.random(shape) < 0.5] = 0.0
        params[name] = value
    y = rng.integers(0, KINK_WIDTHS[-1], batch)
    return Problem(spec, params, X, y)


def on_kink(spec: NetworkSpec, params: Any, X: np.ndarray) -> int:
    """How many pre-activations of kinked layers sit exactly on a kink."""
    import numpy as np

    from gradcheck.nn.network import forward

    cache = forward(spec, params, X)
    count = 0
    for layer in range(1, spec.depth + 1):
        for kink in spec.activation(layer).kinks:
            count += int(np.sum(cache.zs[layer - 1] == kink))
    return count


# The anchors -------------------------------------------------------------------------------------
def torch_mlp(spec: NetworkSpec, X: np.ndarray, y: np.ndarray) -> Callable[..., Any]:
    """The spec's network as a torch function of its leaves (W1, b1, …), X and y constants."""
    import torch
    import torch.nn.functional as F

    dtype = {"float64": torch.float64, "float32": torch.float32}[spec.dtype]
    hidden: Callable[[Any], Any] = {
        "relu": F.relu,
        "leaky_relu": lambda z: F.leaky_relu(z, negative_slope=LEAKY_SLOPE),
        "tanh": torch.tanh,
    }[spec.hidden]
    assert spec.output == "identity" and spec.reduction == "sum" and not spec.residual
    x = torch.tensor(X, dtype=dtype)
    labels = spec.loss == "softmax_ce"
    target = torch.tensor(y, dtype=torch.int64 if labels else dtype)

    def f(*leaves: Any) -> Any:
        a = x
        for layer in range(spec.depth):
            z = F.linear(a, leaves[2 * layer], leaves[2 * layer + 1])
            a = hidden(z) if layer < spec.depth - 1 else z
        if labels:
            return F.cross_entropy(a, target, reduction="sum")
        return 0.5 * ((a - target) ** 2).sum()

    return f


def torch_leaves(problem: Problem) -> tuple[Any, ...]:
    import torch

    dtype = {"float64": torch.float64, "float32": torch.float32}[problem.spec.dtype]
    return tuple(
        torch.tensor(problem.params[n], dtype=dtype, requires_grad=True)
        for n in problem.spec.param_names
    )


@contextlib.contextmanager
def fast_verdict_only() -> Iterator[None]:
    """On failure torch's fast mode recomputes the slow-mode Jacobians (2P evaluations) only
    to word its error message; stub that out. The verdict is decided before it runs."""
    module = sys.modules["torch.autograd.gradcheck"]
    name = "_run_slow_mode_and_get_error"
    saved = getattr(module, name)
    setattr(module, name, lambda *args, **kwargs: "")
    try:
        yield
    finally:
        setattr(module, name, saved)


def torch_fails(fn: Callable[..., Any], inputs: tuple[Any, ...], *, fast: bool) -> bool:
    """torch.autograd.gradcheck with default tolerances; an exception counts as a failure."""
    import torch

    with warnings.catch_warnings(), fast_verdict_only():
        warnings.simplefilter("ignore")  # "Input #0 ... is not a double precision" for float32
        try:
            return not torch.autograd.gradcheck(fn, inputs, raise_exception=False, fast_mode=fast)
        except Exception as error:
            print(f"    torch gradcheck raised {type(error).__name__}: {error}")
            return True


@functools.cache
def jax_mlp(spec: NetworkSpec) -> Callable[..., Any]:
    """The spec's network as a jitted JAX function loss(params, X, y)."""
    import jax
    import jax.numpy as jnp

    hidden: Callable[[Any], Any] = {
        "relu": jax.nn.relu,
        "leaky_relu": lambda z: jax.nn.leaky_relu(z, LEAKY_SLOPE),
        "tanh": jnp.tanh,
    }[spec.hidden]
    labels = spec.loss == "softmax_ce"

    def loss(params: dict[str, Any], x: Any, y: Any) -> Any:
        a = x
        for layer in range(1, spec.depth + 1):
            z = a @ params[f"W{layer}"].T + params[f"b{layer}"]
            a = hidden(z) if layer < spec.depth else z
        if labels:
            picked = jnp.take_along_axis(a, y[:, None], axis=1)[:, 0]
            return jnp.sum(jax.nn.logsumexp(a, axis=1) - picked)
        return 0.5 * jnp.sum((a - y) ** 2)

    return jax.jit(loss)


def jax_fails(f: Callable[..., Any], args: tuple[Any, ...]) -> bool:
    """check_grads(f, args, order=1, modes=["rev"]) with default tolerances."""
    from jax.test_util import check_grads

    try:
        check_grads(f, args, order=1, modes=["rev"])  # type: ignore[no-untyped-call]
    except AssertionError:
        return True
    return False


def jax_mlp_fails(problem: Problem) -> bool:
    import jax
    import jax.numpy as jnp

    dtype = jnp.float64 if problem.spec.dtype == "float64" else jnp.float32
    with jax.enable_x64(problem.spec.dtype == "float64"):
        params = {n: jnp.asarray(v, dtype=dtype) for n, v in problem.params.items()}
        x = jnp.asarray(problem.X, dtype=dtype)
        labels = problem.spec.loss == "softmax_ce"
        y = jnp.asarray(problem.y) if labels else jnp.asarray(problem.y, dtype=dtype)
        fn = jax_mlp(problem.spec)
        return jax_fails(lambda p: fn(p, x, y), (params,))


@functools.cache
def torch_core_loss() -> Any:
    """A torch.autograd.Function: the NumPy core's loss of a flat float64 θ, whose backward
    is the core's gradient plus a plant."""
    import torch

    class CoreLoss(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, theta: Any, problem: Problem, plant: Plant) -> Any:
            point = theta.detach().numpy().copy()
            ctx.point, ctx.problem, ctx.plant = point, problem, plant
            return torch.tensor(problem.loss(problem.unflat(point)), dtype=torch.float64)

        @staticmethod
        def backward(ctx: Any, grad_output: Any) -> Any:
            flat = planted_flat_grad(ctx.problem, ctx.plant, ctx.point)
            return grad_output * torch.from_numpy(flat), None, None

    return CoreLoss


def planted_flat_grad(problem: Problem, plant: Plant, theta: np.ndarray) -> np.ndarray:
    import numpy as np

    grads = plant.apply(problem.grads(problem.unflat(np.asarray(theta, dtype=np.float64))))
    return np.concatenate([grads[n].ravel() for n in problem.spec.param_names])


def torch_core_fails(problem: Problem, plant: Plant, *, fast: bool) -> bool:
    import torch

    theta = torch.tensor(problem.flat(), dtype=torch.float64, requires_grad=True)
    core_loss = torch_core_loss()
    return torch_fails(lambda t: core_loss.apply(t, problem, plant), (theta,), fast=fast)


def jax_core_fails(problem: Problem, plant: Plant) -> bool:
    """check_grads on jax.custom_vjp(pure_callback(core loss), pure_callback(planted grad))."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    # Globally, not by the jax.enable_x64 context: the callbacks run on another thread, where
    # the context's setting does not hold and float64 results would be read as float32.
    config: Any = jax.config
    previous = bool(config.read("jax_enable_x64"))
    config.update("jax_enable_x64", True)
    try:
        shape_dtype: Any = jax.ShapeDtypeStruct
        scalar = shape_dtype((), jnp.float64)
        vector = shape_dtype((problem.size,), jnp.float64)

        def value(theta: np.ndarray) -> np.ndarray:
            return np.asarray(problem.loss(problem.unflat(np.asarray(theta))), np.float64)

        def gradient(theta: np.ndarray) -> np.ndarray:
            return planted_flat_grad(problem, plant, np.asarray(theta))

        @jax.custom_vjp
        def f(theta: Any) -> Any:
            return jax.pure_callback(value, scalar, theta)

        def f_fwd(theta: Any) -> tuple[Any, Any]:
            return f(theta), theta

        def f_bwd(theta: Any, g: Any) -> tuple[Any]:
            return (g * jax.pure_callback(gradient, vector, theta),)

        f.defvjp(f_fwd, f_bwd)
        return jax_fails(f, (jnp.asarray(problem.flat()),))
    finally:
        config.update("jax_enable_x64", previous)


def gradcheck_core(
    problem: Problem, plant: Plant | None, *, mode: str = "auto", method: str = "auto"
) -> Any:
    """check_gradients on the core: complex-step-safe loss, the core's (planted) gradient."""
    from gradcheck import check_gradients

    def grad_fn(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        grads = problem.grads(params)
        return grads if plant is None else plant.apply(grads)

    return check_gradients(
        problem.complex_loss,
        grad_fn,
        problem.params,
        mode=mode,  # type: ignore[arg-type]
        method=method,  # type: ignore[arg-type]
    )


def grad_scale(problem: Problem) -> float:
    import numpy as np

    return max(float(np.max(np.abs(g))) for g in problem.grads(problem.params).values())


# 1. kinks ----------------------------------------------------------------------------------------
def section_kinks(counts: Counts, summary: Summary) -> None:
    from gradcheck.check import check_case, describe_failures

    print("(a) gradcheck check_case(case, ['core', 'fd']) on Hypothesis cases: depth ≤ 4,")
    print("    width ≤ 16, losses softmax_ce and mse, float64")
    rows = []
    cells: dict[str, tuple[int, int, int, int, int]] = {}
    for policy in ("avoid", "allow"):
        for activation in ("relu", "leaky_relu", "elu"):
            start = time.perf_counter()
            drawn = draw_cases(
                counts.kink_examples,
                1,
                activations=[activation],
                losses=["softmax_ce", "mse"],
                dtypes=["float64"],
                max_depth=4,
                max_width=16,
                kinks=policy,
            )
            fails = inconclusive = kinked = inconclusive_kinked = 0
            for case in drawn:
                result = check_case(case, ["core", "fd"])
                on = on_kink(case.spec, case.params, case.X) > 0
                kinked += on
                if result.verdict == "fail":
                    fails += 1
                    if fails <= 3:
                        print("    FALSE FAILURE " + describe_failures(result))
                inconclusive += result.verdict == "inconclusive"
                inconclusive_kinked += on and result.verdict == "inconclusive"
            n = len(drawn)
            rows.append(
                [
                    activation,
                    policy,
                    n,
                    pct(kinked, n),
                    fails,
                    pct(inconclusive, n),
                    pct(inconclusive_kinked, kinked),
                    pct(inconclusive - inconclusive_kinked, n - kinked),
                    f"{time.perf_counter() - start:.1f}",
                ]
            )
            old = cells.get(policy, (0, 0, 0, 0, 0))
            cells[policy] = (
                old[0] + n,
                old[1] + fails,
                old[2] + inconclusive,
                old[3] + kinked,
                old[4] + inconclusive - inconclusive_kinked,
            )
    table(
        [
            "activation",
            "kinks",
            "examples",
            "some z = 0",
            "fail",
            "inconclusive",
            "of those z = 0",
            "of the rest",
            "seconds",
        ],
        rows,
    )
    print("  'some z = 0': examples with a pre-activation exactly on the kink; the last two")
    print("  columns split the inconclusive share between those examples and the others")
    for policy, label in (("avoid", "default"), ("allow", "free draws")):
        n, fails, inconclusive, kinked, rest = cells[policy]
        summary.add(
            f"false failures / inconclusive, Hypothesis ReLU, leaky ReLU, ELU "
            f"(kinks={policy}, {label}; {n:,} cases, {pct(kinked, n)} with some z exactly 0)",
            "0 / ≤ 5%",
            f"{fails} / {pct(inconclusive, n)} ({pct(rest, n - kinked)} of cases without z = 0)",
        )

    print()
    print("(b) correct 20-64-64-10 softmax-CE networks (6,154 parameters, batch 16, float64),")
    print("    draws with pre-activations exactly on the kink (see the module docstring)")
    headers = ["activation", "on kink", "check_gradients", "core vs fd", "torch slow"]
    rows = []
    for activation in ("relu", "leaky_relu"):
        tally = dict.fromkeys(("cg", "cg_inc", "cc", "cc_inc", "slow", "fast", "jax"), 0)
        spent = dict.fromkeys(("cg", "cc", "slow", "fast", "jax"), 0.0)
        zeros = 0
        for draw in range(counts.kink_draws):
            problem = on_kink_problem(activation, 100 + draw)
            zeros += on_kink(problem.spec, problem.params, problem.X)
            start = time.perf_counter()
            result = gradcheck_core(problem, None)
            spent["cg"] += time.perf_counter() - start
            tally["cg"] += result.verdict == "fail"
            tally["cg_inc"] += result.verdict == "inconclusive"
            if result.verdict == "fail":
                print(f"    {activation} draw {draw}: check_gradients " + result.summary())
            start = time.perf_counter()
            checked = check_case(problem.case(), ["core", "fd"])
            spent["cc"] += time.perf_counter() - start
            tally["cc"] += checked.verdict == "fail"
            tally["cc_inc"] += checked.verdict == "inconclusive"
            if checked.verdict == "fail":
                print(f"    {activation} draw {draw}: " + describe_failures(checked))
            fn = torch_mlp(problem.spec, problem.X, problem.y)
            for key, fast in (("slow", False), ("fast", True)):
                start = time.perf_counter()
                tally[key] += torch_fails(fn, torch_leaves(problem), fast=fast)
                spent[key] += time.perf_counter() - start
            start = time.perf_counter()
            tally["jax"] += jax_mlp_fails(problem)
            spent["jax"] += time.perf_counter() - start
        n = counts.kink_draws
        rows.append(
            [
                activation,
                f"{zeros / n:.1f}",
                f"{tally['cg']}/{n} ({tally['cg_inc']} inc.)",
                f"{tally['cc']}/{n} ({tally['cc_inc']} inc.)",
                frac(tally["slow"], n),
                frac(tally["fast"], n),
                frac(tally["jax"], n),
                " ".join(f"{k}={v:.1f}" for k, v in spent.items()),
            ]
        )
        name = "ReLU" if activation == "relu" else "leaky ReLU"
        summary.add(
            f"false failures, correct {name} 20-64-64-10 softmax CE, on-kink draws",
            f"0/{n}",
            f"check_gradients {tally['cg']}/{n} ({tally['cg_inc']} inconclusive); "
            f"core vs fd {tally['cc']}/{n}",
            frac(tally["slow"], n),
            frac(tally["fast"], n),
            frac(tally["jax"], n),
        )
    table([*headers, "torch fast", "jax", "seconds"], rows)
    print("  on kink: mean count of pre-activations exactly 0 per draw; 'inc.': inconclusive")
    print("  issue's reference: jax check_grads fails 15/30 leaky-ReLU draws")


# 2. float32 --------------------------------------------------------------------------------------
_PLANT_STATE: dict[str, Any] = {}


def _planted_engine(
    spec: NetworkSpec, params: Any, X: np.ndarray, y: np.ndarray
) -> tuple[float, dict[str, np.ndarray]]:
    """The core's loss and gradients, with 1e-3·‖g‖∞ added to the entry in _PLANT_STATE."""
    import numpy as np

    from gradcheck.nn.network import loss_and_grads

    loss, grads = loss_and_grads(spec, params, X, y)
    scale = max(float(np.max(np.abs(g))) for g in grads.values())
    plant = Plant(_PLANT_STATE["tensor"], _PLANT_STATE["index"], _PLANT_STATE["rel"] * scale)
    return loss, plant.apply(grads)


def section_float32(counts: Counts, summary: Summary) -> None:
    import numpy as np

    from gradcheck.check import check_case, describe_failures
    from gradcheck.engines import ENGINES, register_engine
    from gradcheck.nn.network import loss_and_grads

    if PLANT_ENGINE not in ENGINES:
        register_engine(PLANT_ENGINE, _planted_engine, summary="core + planted error (bench)")
    print("(a) gradcheck check_case on float32 Hypothesis cases (every activation and loss,")
    print("    depth ≤ 4, width ≤ 16); the plant adds 1e-3·‖g‖∞ to one random entry of the core's")
    print("    float32 gradient (engine registered with register_engine)")
    start = time.perf_counter()
    drawn = draw_cases(counts.float32_examples, 2, dtypes=["float32"], max_depth=4, max_width=16)
    fails = inconclusive = caught = named = vanished = 0
    for number, case in enumerate(drawn):
        result = check_case(case, ["core", "fd"])
        if result.verdict == "fail":
            fails += 1
            if fails <= 3:
                print("    FALSE FAILURE " + describe_failures(result))
        inconclusive += result.verdict == "inconclusive"
        tensor, index = choose_plant(case.spec, np.random.default_rng(number))
        _PLANT_STATE.update(tensor=tensor, index=index, rel=1e-3)
        _, exact = loss_and_grads(case.spec, case.params, case.X, case.y)
        _, wrong = _planted_engine(case.spec, case.params, case.X, case.y)
        if wrong[tensor][index] == exact[tensor][index]:  # ‖g‖∞ = 0: nothing to plant
            vanished += 1
            continue
        planted = check_case(case, [PLANT_ENGINE, "fd"])
        caught += planted.verdict == "fail"
        named += Plant(tensor, index, 0.0).named_by(planted.failures)
        if planted.verdict != "fail" and number + 1 - vanished - caught <= 3:
            record = next(r for r in planted.records if r.tensor == tensor)
            print(
                f"    MISSED plant at {tensor}{list(index)} (record's worst entry "
                f"{list(record.index)}: |diff| {record.abs_err:.3g}, allowed {record.allowed:.3g}):"
                f" {case.describe()}"
            )
    n = len(drawn)
    planted_n = n - vanished
    table(
        [
            "cases",
            "false fail",
            "inconclusive",
            "‖g‖∞ = 0",
            "plant caught",
            "plant named",
            "seconds",
        ],
        [
            [
                n,
                f"{fails} ({pct(fails, n)})",
                pct(inconclusive, n),
                vanished,
                f"{caught}/{planted_n} ({pct(caught, planted_n)})",
                f"{named}/{planted_n} ({pct(named, planted_n)})",
                f"{time.perf_counter() - start:.1f}",
            ]
        ],
    )
    print("  '‖g‖∞ = 0': cases whose gradient is exactly zero, so that the plant is zero too;")
    print("  they are left out of the plant's rates")
    print()
    print(
        "(b) anchors with default tolerances on correct float32 tanh "
        f"{'-'.join(map(str, FLOAT32_WIDTHS))} MSE networks (batch 8)"
    )
    tally = dict.fromkeys(("slow", "fast", "jax"), 0)
    for draw in range(counts.float32_draws):
        wide = smooth_problem(FLOAT32_WIDTHS, 200 + draw)
        spec = wide.spec.replace(dtype="float32")
        problem = Problem(
            spec,
            {k: v.astype(np.float32) for k, v in wide.params.items()},
            wide.X.astype(np.float32),
            wide.y.astype(np.float32),
        )
        fn = torch_mlp(spec, problem.X, problem.y)
        tally["slow"] += torch_fails(fn, torch_leaves(problem), fast=False)
        tally["fast"] += torch_fails(fn, torch_leaves(problem), fast=True)
        tally["jax"] += jax_mlp_fails(problem)
    m = counts.float32_draws
    table(
        ["draws", "torch slow fails", "torch fast fails", "jax fails"],
        [[m, frac(tally["slow"], m), frac(tally["fast"], m), frac(tally["jax"], m)]],
    )
    print("  issue's reference: torch slow 20/20, torch fast 19/20")
    summary.add(
        f"float32 false failures (gradcheck: {n} Hypothesis cases; anchors: {m} correct "
        f"tanh {'-'.join(map(str, FLOAT32_WIDTHS))} draws, default tolerances)",
        "≤ 1%",
        f"{pct(fails, n)} ({fails}/{n})",
        frac(tally["slow"], m),
        frac(tally["fast"], m),
        frac(tally["jax"], m),
    )
    summary.add(
        f"float32 error of 1e-3·‖g‖∞ in one entry: caught / entry named ({planted_n} cases "
        "with a nonzero gradient)",
        "—",
        f"{pct(caught, planted_n)} / {pct(named, planted_n)}",
    )


# 3. floor ----------------------------------------------------------------------------------------
FLOOR_TOOLS = ("gradcheck", "torch slow", "torch fast", "jax")


def floor_catches(tool: str, problem: Problem, plant: Plant) -> bool:
    if tool == "gradcheck":
        return bool(gradcheck_core(problem, plant).verdict == "fail")
    if tool == "torch slow":
        return torch_core_fails(problem, plant, fast=False)
    if tool == "torch fast":
        return torch_core_fails(problem, plant, fast=True)
    return jax_core_fails(problem, plant)


def threshold(caught: dict[float, int], trials: int) -> float | None:
    """The smallest e on the grid from which every larger e is caught in every trial."""
    best = None
    for e in reversed(GRID):
        if caught[e] < trials:
            break
        best = e
    return best


def section_floor(counts: Counts, summary: Summary) -> None:
    import numpy as np

    print("tanh MLPs, batch 8, MSE, float64; the error e·‖g‖∞ sits in one random entry (random")
    print("tensor, then random index, seeded) of the NumPy core's gradient")
    print()
    print("(a) gradcheck check_gradients at e = 1e-6: caught, and every failing record names the")
    print(f"    planted tensor and index ({counts.floor_trials} trials per P)")
    rows = []
    totals = {"auto": [0, 0], "central": [0, 0]}
    for size, widths in FLOOR_WIDTHS.items():
        row: list[object] = [f"{size:,}", "-".join(map(str, widths))]
        for method in ("auto", "central"):
            caught = named = 0
            used, mode = set(), set()
            start = time.perf_counter()
            for trial in range(counts.floor_trials):
                problem = smooth_problem(widths, 300 + trial)
                rng = np.random.default_rng(400 + trial)
                tensor, index = choose_plant(problem.spec, rng)
                plant = Plant(tensor, index, 1e-6 * grad_scale(problem))
                result = gradcheck_core(problem, plant, method=method)
                used.add(result.method)
                mode.add(result.mode)
                caught += result.verdict == "fail"
                ok = plant.named_by(result.failures)
                named += ok
                if not ok:
                    print(
                        f"    P={size} {method} trial {trial}: planted {tensor}{list(index)}, "
                        f"got {result.summary()}"
                    )
            totals[method][0] += caught
            totals[method][1] += named
            row += [
                f"{caught}/{counts.floor_trials}",
                f"{named}/{counts.floor_trials}",
                f"{'+'.join(sorted(mode))}/{'+'.join(sorted(used))}",
                f"{time.perf_counter() - start:.1f}",
            ]
        rows.append(row)
    table(
        [
            "P",
            "widths",
            "auto caught",
            "named",
            "mode/method",
            "s",
            "central caught",
            "named",
            "mode/method",
            "s",
        ],
        rows,
    )
    trials = counts.floor_trials * len(FLOOR_WIDTHS)
    summary.add(
        "planted 1e-6·‖g‖∞ in one entry, P = 10 … 10⁵: caught and exact entry named "
        "(auto / method='central')",
        "100%",
        f"{totals['auto'][1]}/{trials} / {totals['central'][1]}/{trials}",
    )

    print()
    print(
        f"(b) smallest e on {{{sci(GRID[0])}, …, {sci(GRID[-1])}}} from which each tool catches "
        f"the plant in all {counts.grid_trials} trial(s); 'hits' lists the catches per grid value"
    )
    print("    (gradcheck: check_gradients mode='auto'; jax: check_grads order=1, modes=['rev'])")
    rows = []
    floors: dict[tuple[int, str], str] = {}
    for size, widths in FLOOR_WIDTHS.items():
        problems = []
        for trial in range(counts.grid_trials):
            problem = smooth_problem(widths, 500 + trial)
            tensor, index = choose_plant(problem.spec, np.random.default_rng(600 + trial))
            problems.append((problem, Plant(tensor, index, 0.0), grad_scale(problem)))
        for tool in FLOOR_TOOLS:
            if tool == "torch slow" and size > counts.torch_slow_max:
                floors[size, tool] = "skipped (cost)"
                rows.append([f"{size:,}", tool, "skipped (cost)", "2P evaluations per check", ""])
                continue
            start = time.perf_counter()
            hits = {e: 0 for e in GRID}
            for problem, plant, scale in problems:
                for e in GRID:
                    hits[e] += floor_catches(tool, problem, plant.scaled(e * scale))
            found = threshold(hits, counts.grid_trials)
            floors[size, tool] = floor_text(found)
            rows.append(
                [
                    f"{size:,}",
                    tool,
                    floor_text(found),
                    "".join(str(hits[e]) for e in GRID),
                    f"{time.perf_counter() - start:.1f}",
                ]
            )
    table(["P", "tool", "smallest e", "hits 1e-9…10", "seconds"], rows)
    print("  issue's reference: torch slow ≈ 1e-3 at P = 100 and 10,000; torch fast 0.5 at")
    print("  P = 100 and 11.6 at P = 10,000; jax 0.1–0.4 at P = 10,000")
    for size in FLOOR_WIDTHS:
        summary.add(
            f"detection floor at P = {size:,}: smallest e·‖g‖∞ caught in "
            f"{counts.grid_trials}/{counts.grid_trials} trials",
            "≤ 1e-6",
            *(floors[size, tool] for tool in FLOOR_TOOLS),
        )


# 4. cost -----------------------------------------------------------------------------------------
def section_cost(counts: Counts, summary: Summary) -> None:
    import numpy as np

    from gradcheck.numeric.probes import ProbeSettings

    settings = ProbeSettings()
    print(
        f"gradcheck check_gradients(mode='probe'), default ProbeSettings (directions="
        f"{settings.directions}, per_tensor={settings.per_tensor}); K = directions + "
        "Σ_tensors min(size, per_tensor)"
    )
    print(
        f"a 1e-6·‖g‖∞ error in one random entry; worst of {counts.cost_trials} trial(s); 'excess' ="
        " evaluations − (2K + 2⌈log₂P⌉)"
    )
    rows = []
    worst_excess: dict[str, int] = {}
    largest: dict[str, str] = {}
    for method in ("auto", "central"):
        for size, widths in FLOOR_WIDTHS.items():
            evals_ok = evals_bad = levels = loc_evals = located = 0
            used = set()
            k = 0
            for trial in range(counts.cost_trials):
                problem = smooth_problem(widths, 700 + trial)
                tensor, index = choose_plant(problem.spec, np.random.default_rng(800 + trial))
                plant = Plant(tensor, index, 1e-6 * grad_scale(problem))
                ok = gradcheck_core(problem, None, mode="probe", method=method)
                bad = gradcheck_core(problem, plant, mode="probe", method=method)
                used.add(bad.method)
                evals_ok = max(evals_ok, ok.evaluations)
                evals_bad = max(evals_bad, bad.evaluations)
                if ok.verdict == "fail":
                    print(f"    P={size} trial {trial}: FALSE FAILURE " + ok.summary())
                where = bad.localisation
                if where is not None:
                    levels = max(levels, where.levels)
                    loc_evals = max(loc_evals, where.evaluations)
                located += plant.named_by(bad.failures)
                shapes = problem.spec.param_shapes().values()
                k = settings.directions + sum(
                    min(math.prod(s), settings.per_tensor) for s in shapes
                )
            log_p = math.ceil(math.log2(size))
            bound = 2 * k + 2 * log_p
            excess = evals_bad - bound
            worst_excess[method] = max(worst_excess.get(method, -(10**9)), excess)
            largest[method] = f"{evals_bad} (2K + 2⌈log₂P⌉ = {bound})"
            rows.append(
                [
                    "+".join(sorted(used)),
                    f"{problem.size:,}",
                    k,
                    log_p,
                    evals_ok,
                    evals_bad,
                    levels,
                    loc_evals,
                    bound,
                    excess,
                    f"{located}/{counts.cost_trials}",
                ]
            )
    table(
        [
            "method",
            "P",
            "K",
            "⌈log₂P⌉",
            "evals correct",
            "evals planted",
            "levels",
            "bisect evals",
            "2K+2⌈log₂P⌉",
            "excess",
            "named",
        ],
        rows,
    )
    biggest = f"{list(FLOOR_WIDTHS)[-1]:,}"
    summary.add(
        f"probe mode evaluations to detect + localise 1e-6·‖g‖∞ at P = {biggest} "
        "(complex step / central); worst excess over 2K + 2⌈log₂P⌉ for P = 10 … 10⁵",
        "≤ 2K + O(log P)",
        f"{largest['auto']} / {largest['central']}; worst excess {worst_excess['auto']} / "
        f"{worst_excess['central']}",
    )


# 5. speed ----------------------------------------------------------------------------------------
def best_of(repeats: int, fn: Callable[[], object]) -> float:
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def numpy_loop(problem: Problem, h: float = 1e-6) -> np.ndarray:
    """Per-coordinate central differences, 2 forward passes each, in plain NumPy."""
    import numpy as np

    theta = problem.flat()
    layers = problem.unflat(theta)  # views into theta
    depth = problem.spec.depth
    X, y = problem.X, problem.y

    def loss() -> float:
        a = X
        for layer in range(1, depth + 1):
            z = a @ layers[f"W{layer}"].T + layers[f"b{layer}"]
            a = np.tanh(z) if layer < depth else z
        return 0.5 * float(np.sum((a - y) ** 2))

    out = np.empty_like(theta)
    for i in range(theta.size):
        saved = theta[i]
        theta[i] = saved + h
        plus = loss()
        theta[i] = saved - h
        minus = loss()
        theta[i] = saved
        out[i] = (plus - minus) / (2 * h)
    return out


def section_speed(counts: Counts, summary: Summary) -> None:
    import numpy as np

    from gradcheck.check import check_case
    from gradcheck.numeric.core_differences import core_differences

    problem = smooth_problem(SPEED_WIDTHS, 900, batch=16)
    case = problem.case()
    fn = torch_mlp(problem.spec, problem.X, problem.y)
    name = "-".join(map(str, SPEED_WIDTHS))
    print(
        f"full mode on the {name} tanh MSE network (P = {problem.size:,}, batch 16, float64), "
        f"best of {counts.speed_repeats}"
    )
    verdicts: dict[str, str] = {}

    def run_case(engines: list[str]) -> None:
        verdicts[engines[1]] = check_case(case, engines).verdict

    def run_torch() -> None:
        verdicts["torch"] = "fail" if torch_fails(fn, torch_leaves(problem), fast=False) else "pass"

    timings = {
        "(i) core_differences (vectorised full mode)": best_of(
            counts.speed_repeats,
            lambda: core_differences(problem.spec, problem.params, problem.X, problem.y),
        ),
        "(ii) check_case ['core', 'fd']": best_of(
            counts.speed_repeats, lambda: run_case(["core", "fd"])
        ),
        "(iii) check_case ['core', 'cs']": best_of(
            counts.speed_repeats, lambda: run_case(["core", "cs"])
        ),
        "(iv) torch.autograd.gradcheck, slow mode": best_of(counts.speed_repeats, run_torch),
        "(v) NumPy per-coordinate central-difference loop": best_of(
            counts.speed_repeats, lambda: numpy_loop(problem)
        ),
    }
    loop = numpy_loop(problem)
    exact = np.concatenate([g.ravel() for g in problem.grads(problem.params).values()])
    torch_s = timings["(iv) torch.autograd.gradcheck, slow mode"]
    rows = [[what, f"{s:.3f}", f"{torch_s / s:.1f}×"] for what, s in timings.items()]
    table(["", "seconds", "vs torch slow"], rows)
    print("  issue's reference: torch slow 1.36 s, NumPy loop 0.47 s (another machine)")
    print(
        f"  verdicts: fd {verdicts['fd']}, cs {verdicts['cs']}, torch slow {verdicts['torch']}; "
        f"NumPy loop max |error| {float(np.max(np.abs(loop - exact))):.1e}"
    )
    fd_s = timings["(i) core_differences (vectorised full mode)"]
    case_fd = timings["(ii) check_case ['core', 'fd']"]
    case_cs = timings["(iii) check_case ['core', 'cs']"]
    summary.add(
        f"full check, {name} tanh (P = {problem.size:,}), best of {counts.speed_repeats}; "
        f"plain NumPy loop {timings['(v) NumPy per-coordinate central-difference loop']:.2f} s",
        "≥ 10× faster than torch slow",
        f"{fd_s:.3f} s core_differences ({torch_s / fd_s:.0f}×); "
        f"check_case fd {case_fd:.3f} s, cs {case_cs:.3f} s",
        f"{torch_s:.2f} s",
    )


# Main --------------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="shrink every count (smoke run)")
    parser.add_argument("--section", choices=SECTIONS, help="run this section only")
    args = parser.parse_args()
    threads = str(args.threads)
    pin_threads(args.threads)
    # The checkout's gradcheck, whether or not it is installed.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import jax
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)

    counts = QUICK if args.quick else FULL
    print(
        f"threads={threads} (torch {torch.get_num_threads()}) "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')} "
        f"numpy {np.__version__} torch {torch.__version__} jax {jax.__version__}"
    )
    print(f"counts ({'quick' if args.quick else 'full'}): {counts.describe()}")
    runners: dict[str, Callable[[Counts, Summary], None]] = {
        "kinks": section_kinks,
        "float32": section_float32,
        "floor": section_floor,
        "cost": section_cost,
        "speed": section_speed,
    }
    titles = {
        "kinks": "1. kinks: false failures on correct ReLU-like networks, float64",
        "float32": "2. float32: false failures and planted errors",
        "floor": "3. floor: the smallest planted error each tool catches",
        "cost": "4. cost: probe-mode evaluations to detect and localise",
        "speed": "5. speed: full-mode gradient check",
    }
    summary = Summary()
    overall = time.perf_counter()
    for section in SECTIONS:
        if args.section and section != args.section:
            continue
        print()
        print(f"== {titles[section]} ==")
        start = time.perf_counter()
        runners[section](counts, summary)
        print(f"  [{section}: {time.perf_counter() - start:.1f} s]")
    print()
    print(f"total {time.perf_counter() - overall:.1f} s")
    print()
    print(summary.markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
