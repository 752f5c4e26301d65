"""Throughput of the sweep that `gradcheck check` runs: verified examples per second, overall and
per engine, measured in one run.

    cd bench
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python sweep_throughput.py --jobs 2 --threads 1

Threads are pinned (OpenBLAS, torch and XLA) to the same count for every engine and printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from _threads import pin_threads  # bench/_threads.py: this script runs from bench/


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10, help="examples per cell")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (2 cores: 2)")
    parser.add_argument("--engines", default="core,fd,torch,jax")
    parser.add_argument("--dtype", default="all", choices=["float64", "float32", "all"])
    args = parser.parse_args()
    threads = str(args.threads)
    pin_threads(args.threads)
    engines = tuple(args.engines.split(","))
    if "torch" in engines:
        import torch

        torch.set_num_threads(args.threads)

    from gradcheck.runs.sweep import SweepConfig, run_sweep

    dtypes = ("float64", "float32") if args.dtype == "all" else (args.dtype,)
    config = SweepConfig(engines=engines, examples=args.examples, dtypes=dtypes)
    start = time.perf_counter()
    sweep = run_sweep(config, strict_engines=True, jobs=args.jobs)
    seconds = time.perf_counter() - start
    per_engine: dict[str, float] = {}
    for cell in sweep.cells:
        for engine, spent in cell.engine_seconds.items():
            per_engine[engine] = per_engine.get(engine, 0.0) + spent
    print(
        f"jobs={args.jobs} threads={threads} "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}"
    )
    print(f"{sweep.examples} examples in {len(sweep.cells)} cells, verdict {sweep.verdict}")
    # Engine seconds are summed over the workers: examples per second of one core's time.
    print(f"{'':>10} {'seconds':>9} {'examples/s':>11}")
    print(f"{'sweep':>10} {seconds:9.2f} {sweep.examples / seconds:11.1f}   (wall clock)")
    for engine, spent in per_engine.items():
        print(
            f"{engine:>10} {spent:9.2f} {sweep.examples / spent:11.1f}   (CPU time in the engine)"
        )
    other = seconds * args.jobs - sum(per_engine.values())
    print(
        f"{'other':>10} {other:9.2f}   (workers' remaining time: Hypothesis draws, comparisons, "
        "kink and rounding bounds, start-up)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
