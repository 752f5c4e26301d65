"""The ``compare`` command: how far the core, torch and JAX gradients are from a float64
reference, by dtype, setting (TF32, JAX matmul precision) and device.

Thin: it parses, builds a :class:`gradcheck.runs.matrix.MatrixConfig`, calls ``run_matrix``, writes
``compare.md``, ``compare.json`` and ``compare.html`` into a timestamped folder under
``--out`` (then points ``OUT/latest`` at it), and prints the table, its legend and the
summary. Exit
codes: 0 when the matrix ran (skipped cells included), 2 on bad input (an unknown engine,
dtype, device, reference or format raises GradcheckError, which the CLI's ``main`` reports).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from gradcheck.cli.args import (
    JOBS_MAX,
    add_engine_module_argument,
    add_executor_arguments,
    check_output_folder,
    count,
    engine_modules,
    executor_options,
    names,
    nonempty,
    output_folder,
    positive,
    seed,
)

__all__ = ["add_compare_command"]


def add_compare_command(commands: Any) -> None:
    """Register ``compare`` on an argparse subparsers object; its handler is ``args.handler``."""
    compare = commands.add_parser(
        "compare",
        help="matrix of engines × dtypes × settings against float64 finite differences",
        description="Compute the gradients of the same MLP examples with the NumPy core, torch "
        "and JAX, in float64 and float32, with TF32 off/on (torch) and matmul precision "
        "highest/default (JAX), on the CPU and on CUDA where there is one, and report the "
        "median and worst relative error of each against float64 finite differences.",
    )
    compare.add_argument(
        "--engines",
        type=names,
        default=("core", "torch", "jax"),
        help="comma-separated: core,torch,jax (default all three; a missing one is skipped)",
    )
    add_engine_module_argument(compare)
    compare.add_argument(
        "--dtypes", type=names, default=("float64", "float32"), help="default float64,float32"
    )
    compare.add_argument(
        "--devices",
        type=names,
        default=None,
        help="comma-separated: cpu,cuda (default: cpu, plus cuda when torch or JAX sees one)",
    )
    compare.add_argument("--examples", type=positive, default=5, help="cases per cell (default 5)")
    compare.add_argument("--seed", type=seed, default=0, help="seed of the cases (default 0)")
    compare.add_argument(
        "--reference",
        type=nonempty,
        default="fd",
        help="fd (default: float64 central differences) or cs (float64 complex step)",
    )
    compare.add_argument(
        "--out",
        type=output_folder,
        default=Path("reports"),
        help="reports root (default reports/): a timestamped folder, and OUT/latest",
    )
    compare.add_argument(
        "--format", type=names, default=None, help="files to write: md,json,html (default all)"
    )
    compare.add_argument(
        "--jobs",
        type=count(1, JOBS_MAX),
        default=1,
        help="worker processes (default 1: in this process); the references and each engine "
        "run as tasks",
    )
    add_executor_arguments(compare)
    compare.set_defaults(handler=run_compare)


def run_compare(args: argparse.Namespace) -> int:
    """The handler: run the matrix, write the reports, print the table, its legend and the
    summary."""
    from gradcheck.report.folders import publish_run
    from gradcheck.report.matrix import COMPARE_WRITERS, legend, matrix_table, summarise
    from gradcheck.runs.matrix import run_matrix

    formats = args.format if args.format is not None else COMPARE_WRITERS.formats
    COMPARE_WRITERS.check(formats)
    config = _config(args)
    executor, scheduler = executor_options(args)
    check_output_folder(args.out, runs=True)  # the default too, before the matrix
    result = run_matrix(config, jobs=args.jobs, executor=executor, scheduler=scheduler)
    files = COMPARE_WRITERS.files(result, formats)
    step_summary = files.get(COMPARE_WRITERS.filename("md")) or COMPARE_WRITERS.render["md"](result)
    published = publish_run(args.out, files, step_summary=step_summary)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    print(matrix_table(result))
    print("\n".join(legend(result)))
    print()
    for line in summarise(result):
        print(f"- {line}")
    written = ", ".join(map(str, published.paths)) or "none"
    print(f"\n{len(result.cells)} cells in {result.seconds:.1f} s. Report: {written}")
    return 0


def _config(args: argparse.Namespace) -> Any:
    from gradcheck.engine_plugins import load_engine_modules
    from gradcheck.runs.matrix import MatrixConfig, available_devices

    modules = engine_modules(args)
    load_engine_modules(modules)  # before the names are validated
    config = MatrixConfig(
        engine_modules=modules,
        engines=args.engines,
        dtypes=args.dtypes,
        devices=args.devices if args.devices is not None else ("cpu",),
        examples=args.examples,
        seed=args.seed,
        reference=args.reference,
    )
    if args.devices is None:  # only once the names are known to be good
        config = replace(config, devices=available_devices(config.engines))
    return config
