"""One training step (forward + backward, loss and every gradient) of the NumPy core beside a
minimal hand-written NumPy step, jax.jit and torch eager, measured in the same run.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/core_step.py --threads 1

The tools take turns call by call (round robin), so a slow spell of the machine hits all of
them alike; each figure is the median over every call, and each ratio the median of the
per-round ratios. Threads are pinned to the same count for every library before any is
imported. Memory: the bytes the core's step holds (its workspace plus the peak that one step
allocates beyond it, by tracemalloc) against the bytes any backprop step must hold: the
parameters, their gradients and one activation A⁽ˡ⁾ per layer.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable

from _threads import pin_threads  # bench/_threads.py: this script runs from bench/

Step = Callable[[], object]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", default="784,256,256,10")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--calls", type=int, default=10, help="calls per tool per round")
    parser.add_argument("--tools", default="core,core-fresh,minimal,jax,torch")
    args = parser.parse_args()
    pin_threads(args.threads)
    import numpy as np

    from gradcheck.nn.init import init_params
    from gradcheck.nn.network import loss_and_grads
    from gradcheck.nn.spec import NetworkSpec
    from gradcheck.nn.workspace import Workspace

    widths = tuple(int(n) for n in args.widths.split(","))
    spec = NetworkSpec(widths, hidden="relu", loss="mse", dtype=args.dtype)
    rng = np.random.default_rng(0)
    params = init_params(spec, rng)
    X = rng.standard_normal((args.batch, widths[0])).astype(args.dtype)
    y = rng.standard_normal((args.batch, widths[-1])).astype(args.dtype)
    workspace = Workspace(spec, args.batch)

    tools: dict[str, Step] = {
        "core": lambda: workspace.step(params, X, y),
        "core-fresh": lambda: loss_and_grads(spec, params, X, y),
        "minimal": lambda: minimal_step(params, X, y, spec.depth),
    }
    wanted = args.tools.split(",")
    if "jax" in wanted:
        tools["jax"] = jax_step(spec, params, X, y)
    if "torch" in wanted:
        tools["torch"] = torch_step(spec, params, X, y, args.threads)
    tools = {name: step for name, step in tools.items() if name in wanted}
    check_agreement(spec, tools, workspace, params, X, y)

    times = {name: [] for name in tools}
    per_round: dict[str, list[float]] = {name: [] for name in tools}
    for step in tools.values():
        for _ in range(5):
            step()
    for _ in range(args.rounds):
        for name, step in tools.items():
            spent = []
            for _ in range(args.calls):
                start = time.perf_counter()
                step()
                spent.append(time.perf_counter() - start)
            times[name].extend(spent)
            per_round[name].append(statistics.median(spent))

    print(
        f"workload: {'-'.join(map(str, widths))} relu, MSE, batch {args.batch}, {args.dtype}; "
        f"threads={args.threads} (OpenBLAS, MKL, OMP, XLA, torch); "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')} "
        f"OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE', '(unset)')}"
    )
    print(f"{args.rounds} rounds × {args.calls} calls per tool, round robin\n")
    print(f"{'tool':<12} {'median ms':>10} {'best round':>11} {'vs core':>8}")
    for name in tools:
        ms = statistics.median(times[name]) * 1e3
        best = min(per_round[name]) * 1e3
        ratio = statistics.median(
            a / b for a, b in zip(per_round[name], per_round["core"], strict=True)
        )
        print(f"{name:<12} {ms:>10.3f} {best:>11.3f} {ratio:>8.2f}")
    if "core" in tools:
        for anchor in ("jax", "minimal"):
            if anchor in tools:
                ratio = statistics.median(
                    c / a for c, a in zip(per_round["core"], per_round[anchor], strict=True)
                )
                print(f"core / {anchor}: {ratio:.3f}")
    memory(spec, workspace, params, X, y, args.batch)
    if "jax" in tools:
        products(spec, args.batch, args.rounds)
    return 0


def minimal_step(params: dict, X: object, y: object, depth: int) -> tuple[float, list]:
    """What one would write by hand: ReLU hidden layers, identity output, ½Σ(ŷ − y)²."""
    import numpy as np

    zs, acts = [], [X]
    a = X
    for layer in range(1, depth + 1):
        z = a @ params[f"W{layer}"].T + params[f"b{layer}"]
        a = np.maximum(z, 0) if layer < depth else z
        zs.append(z)
        acts.append(a)
    d = a - y
    loss = 0.5 * float(np.sum(d * d))
    grads = []
    for layer in range(depth, 0, -1):
        grads += [d.T @ acts[layer - 1], d.sum(axis=0)]
        if layer > 1:
            d = (d @ params[f"W{layer}"]) * (zs[layer - 2] > 0)
    return loss, grads


def jax_step(spec: object, params: dict, X: object, y: object) -> Step:
    import jax
    import jax.numpy as jnp

    depth = spec.depth  # type: ignore[attr-defined]

    def objective(theta: dict, x: jax.Array, target: jax.Array) -> jax.Array:
        a = x
        for layer in range(1, depth + 1):
            z = a @ theta[f"W{layer}"].T + theta[f"b{layer}"]
            a = jax.nn.relu(z) if layer < depth else z
        return 0.5 * jnp.sum((a - target) ** 2)

    with jax.enable_x64(spec.dtype == "float64"):  # type: ignore[attr-defined]
        step = jax.jit(jax.value_and_grad(objective))
        theta = {k: jnp.asarray(v) for k, v in params.items()}
        x, target = jnp.asarray(X), jnp.asarray(y)
        jax.block_until_ready(step(theta, x, target))
    return lambda: jax.block_until_ready(step(theta, x, target))


def torch_step(spec: object, params: dict, X: object, y: object, threads: int) -> Step:
    import torch

    torch.set_num_threads(threads)
    depth = spec.depth  # type: ignore[attr-defined]
    theta = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    x, target = torch.tensor(X), torch.tensor(y)

    def step() -> object:
        a = x
        for layer in range(1, depth + 1):
            z = a @ theta[f"W{layer}"].T + theta[f"b{layer}"]
            a = torch.relu(z) if layer < depth else z
        loss = 0.5 * ((a - target) ** 2).sum()
        grads = torch.autograd.grad(loss, list(theta.values()))
        return loss.item(), grads

    return step


def check_agreement(spec, tools, workspace, params, X, y) -> None:  # type: ignore[no-untyped-def]
    """Every tool computes the same loss (to float32 rounding): no one is timed on a
    different workload."""
    reference, _ = workspace.step(params, X, y)
    for name, step in tools.items():
        result = step()
        loss = float(result[0]) if isinstance(result, tuple) else float("nan")
        if abs(loss - reference) > 1e-4 * abs(reference):
            raise SystemExit(f"{name} computes loss {loss}, the core {reference}")


def memory(spec, workspace, params, X, y, batch: int) -> None:  # type: ignore[no-untyped-def]
    import numpy as np

    from gradcheck.nn.workspace import Workspace

    itemsize = np.dtype(spec.dtype).itemsize
    param_bytes = sum(p.nbytes for p in params.values())
    activation_bytes = sum(batch * n * itemsize for n in spec.widths[1:])
    required = 2 * param_bytes + activation_bytes
    workspace.step(params, X, y)
    tracemalloc.start()
    workspace.step(params, X, y)
    _, step_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    tracemalloc.start()
    Workspace(spec, batch).step(params, X, y)
    _, cold_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    tracemalloc.start()
    minimal_step(params, X, y, spec.depth)
    _, minimal_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    held = workspace.nbytes + step_peak
    kib = 1024
    print(
        f"\nmemory: parameters {param_bytes / kib:.0f} KiB, gradients {param_bytes / kib:.0f} KiB, "
        f"activations {activation_bytes / kib:.0f} KiB: {required / kib:.0f} KiB must be held"
    )
    print(
        f"core step: workspace {workspace.nbytes / kib:.0f} KiB + {step_peak / kib:.0f} KiB peak "
        f"per step = {held / kib:.0f} KiB, {held / required:.2f}× (a cold step, workspace "
        f"included: {cold_peak / kib:.0f} KiB peak; the minimal step: {minimal_peak / kib:.0f} KiB)"
    )


def products(spec, batch: int, rounds: int) -> None:  # type: ignore[no-untyped-def]
    """The step's matrix products alone, OpenBLAS (NumPy) beside XLA (jax.jit), round robin:
    they are most of the step, so they bound what any NumPy core can reach."""
    import jax
    import numpy as np

    rng = np.random.default_rng(1)
    widths = spec.widths
    shapes = []  # (name, left shape, right shape) of C = A @ B
    for layer in range(1, spec.depth + 1):
        n_in, n = widths[layer - 1], widths[layer]
        shapes.append((f"Z{layer} = A{layer - 1}·W{layer}ᵀ", (batch, n_in), (n_in, n)))
        shapes.append((f"∂W{layer} = δ{layer}ᵀ·A{layer - 1}", (n, batch), (batch, n_in)))
        if layer > 1:
            shapes.append((f"δ·W{layer}", (batch, n), (n, n_in)))
    matmul = jax.jit(lambda a, b: a @ b)
    print("\nthe matrix products alone (median µs, round robin):")
    print(f"{'product':<22} {'shape':>16} {'NumPy':>8} {'XLA':>8} {'ratio':>6}")
    total_np = total_jax = 0.0
    for name, left, right in shapes:
        a = rng.standard_normal(left).astype(spec.dtype)
        b = rng.standard_normal(right).astype(spec.dtype)
        out = np.empty((left[0], right[1]), spec.dtype)
        ja, jb = jax.numpy.asarray(a), jax.numpy.asarray(b)
        jax.block_until_ready(matmul(ja, jb))
        spent: dict[str, list[float]] = {"numpy": [], "xla": []}
        for _ in range(rounds):
            for tool, run in (
                ("numpy", lambda a=a, b=b, out=out: np.matmul(a, b, out=out)),
                ("xla", lambda ja=ja, jb=jb: jax.block_until_ready(matmul(ja, jb))),
            ):
                for _ in range(5):
                    start = time.perf_counter()
                    run()
                    spent[tool].append(time.perf_counter() - start)
        t_np = statistics.median(spent["numpy"]) * 1e6
        t_jax = statistics.median(spent["xla"]) * 1e6
        total_np, total_jax = total_np + t_np, total_jax + t_jax
        shape = f"{left[0]}×{left[1]}×{right[1]}"
        print(f"{name:<22} {shape:>16} {t_np:>8.0f} {t_jax:>8.0f} {t_np / t_jax:>6.2f}")
    print(
        f"{'all products':<22} {'':>16} {total_np:>8.0f} {total_jax:>8.0f} "
        f"{total_np / total_jax:>6.2f}"
    )


if __name__ == "__main__":
    sys.exit(main())
