"""``gradcheck check``: the sweep, or one saved case re-run (``--case``).

Thin: it parses, calls ``runs.publish.publish_sweep`` or ``check.check_case``, and prints
what they return.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from gradcheck.cli.args import (
    DEPTH_MAX,
    JOBS_MAX,
    WIDTH_MAX,
    add_engine_module_argument,
    add_executor_arguments,
    check_output_folder,
    count,
    engine_modules,
    executor_options,
    names,
    output_folder,
    path,
    positive,
    seed,
)
from gradcheck.errors import GradcheckError

__all__ = ["DEFAULT_ENGINES", "add_check_command"]

DEFAULT_ENGINES = "core,fd,torch,jax"
CASE_HEADERS = ["pair", "tensor", "index", "a", "b", "abs err", "error bar", "ratio", "verdict"]
PAIR_HEADERS = ["pair", "examples", "failed", "worst ratio", "rel err", "where"]


def _names_epilog() -> str:
    """The registries' names, read from the registries, so that a new entry is listed."""
    from gradcheck.engines import ENGINES, load_entry_points
    from gradcheck.nn.activations import ACTIVATIONS
    from gradcheck.nn.losses import LOSSES

    load_entry_points()
    return (
        f"activations: {', '.join(ACTIVATIONS)}\n"
        f"losses: {', '.join(LOSSES)}\n"
        f"engines: {', '.join(ENGINES)}\n"
        "A parameter goes in brackets: --activations 'leaky_relu(slope=0.2)'."
    )


def add_check_command(commands: Any) -> None:
    check = commands.add_parser(
        "check",
        help="sweep the core against every engine and write a discrepancy report",
        description="Draw networks with Hypothesis for every hidden activation × loss × dtype, "
        "run every engine, compare every pair, and write reports. A failing cell is shrunk to a "
        "minimal case that is saved beside the report.",
        epilog_factory=_names_epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _sweep_arguments(check)
    _output_arguments(check)
    check.set_defaults(handler=_check)


def _sweep_arguments(check: argparse.ArgumentParser) -> None:
    check.add_argument(
        "--engines",
        type=names,
        default=None,
        help=f"comma-separated engines (default {DEFAULT_ENGINES}; torch and jax "
        "are skipped with a note when not installed, unless named explicitly)",
    )
    add_engine_module_argument(check)
    check.add_argument(
        "--examples", type=positive, default=10, help="examples per cell (default 10)"
    )
    check.add_argument(
        "--dtype",
        choices=["float64", "float32", "all"],
        default="all",
        help="dtype of the networks (default all)",
    )
    check.add_argument("--seed", type=seed, default=0, help="seed of the sweep (default 0)")
    check.add_argument(
        "--activations", type=names, default=(), help="hidden activations (default all)"
    )
    check.add_argument("--losses", type=names, default=(), help="losses (default all)")
    check.add_argument(
        "--max-depth", type=count(1, DEPTH_MAX), default=6, help="largest depth (default 6)"
    )
    check.add_argument(
        "--max-width", type=count(1, WIDTH_MAX), default=16, help="largest width (default 16)"
    )
    check.add_argument(
        "--kinks",
        choices=("avoid", "allow", "aim"),
        default="avoid",
        help="pre-activations: keep clear of relu-like kinks (default), aim at them, or allow any",
    )


def _output_arguments(check: argparse.ArgumentParser) -> None:
    check.add_argument(
        "--out",
        type=output_folder,
        default=Path("reports"),
        help="reports root (default reports/): each run writes a timestamped folder in it and "
        "points OUT/latest at it",
    )
    check.add_argument(
        "--format",
        type=names,
        default=None,
        help="comma-separated report formats: md, json, html, junit (default all)",
    )
    check.add_argument("--case", type=path, help="re-run one saved case (.npz) instead of a sweep")
    check.add_argument(
        "--jobs",
        type=count(1, JOBS_MAX),
        default=os.cpu_count() or 1,
        help="worker processes for the cells (default: the number of CPUs)",
    )
    check.add_argument(
        "--top",
        type=count(0, 100_000),
        metavar="N",
        help="besides every failed and inconclusive (cell, pair), the N passing ones closest "
        "to their tolerance that report.md and report.html show (default 10; report.json and "
        "the HTML's collapsed tables hold every one)",
    )
    add_executor_arguments(check)
    check.add_argument("--no-progress", action="store_true", help="never show the progress bar")


def _check(args: argparse.Namespace) -> int:
    return _run_case(args) if args.case is not None else _run_sweep(args)


def _table(rows: list[list[str]], headers: list[str]) -> str:
    from tabulate import tabulate

    return str(tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True))


def _run_case(args: argparse.Namespace) -> int:
    from gradcheck.case import Case
    from gradcheck.check import check_case
    from gradcheck.runs.sweep import resolve_engines

    if args.case.is_dir():
        raise GradcheckError(f"--case {args.case} is a folder, not a saved case (.npz)")
    try:
        case = Case.load(args.case)
    except GradcheckError as error:
        raise GradcheckError(f"--case {args.case}: {error}") from None
    from gradcheck.engine_plugins import load_engine_modules

    load_engine_modules(engine_modules(args))
    engines, _ = resolve_engines(
        args.engines or names(DEFAULT_ENGINES), strict=args.engines is not None
    )
    result = check_case(case, engines)
    print(f"{result.verdict.upper()}: {case.describe()}")
    rows = [
        [
            r.pair,
            r.tensor,
            ",".join(map(str, r.index)),
            f"{r.value_a:.6g}",
            f"{r.value_b:.6g}",
            f"{r.abs_err:.3g}",
            f"{r.error_bar:.3g}",
            f"{r.ratio:.3g}",
            r.verdict,
        ]
        for r in result.records
    ]
    print(_table(rows, CASE_HEADERS))
    for run in result.errors:
        print(f"engine {run.engine} raised: {run.error}")
    return 1 if result.verdict == "fail" else 0


def _sweep_config(args: argparse.Namespace) -> Any:
    from gradcheck.runs.sweep import SweepConfig

    return SweepConfig(
        engines=args.engines or names(DEFAULT_ENGINES),
        examples=args.examples,
        dtypes=("float64", "float32") if args.dtype == "all" else (args.dtype,),
        seed=args.seed,
        activations=args.activations,
        losses=args.losses,
        max_depth=args.max_depth,
        max_width=args.max_width,
        kinks=args.kinks,
        engine_modules=engine_modules(args),
    )


def _run_sweep(args: argparse.Namespace) -> int:
    from gradcheck.cli.progress import Progress
    from gradcheck.engine_plugins import load_engine_modules
    from gradcheck.report import REPORT_WRITERS
    from gradcheck.report.model import DEFAULT_TOP
    from gradcheck.report.sweep_rows import pair_summary_rows
    from gradcheck.runs.publish import publish_sweep

    config = _sweep_config(args)
    executor, scheduler = executor_options(args)
    load_engine_modules(config.engine_modules)  # before the names are validated
    cells = config.cells()  # validates the names before any work
    formats = args.format if args.format is not None else REPORT_WRITERS.formats
    REPORT_WRITERS.check(formats)
    check_output_folder(args.out, runs=True)  # the default too, before the sweep
    progress = Progress(
        len(cells) * config.examples,
        label="gradcheck check",
        enabled=False if args.no_progress else None,
    )
    try:
        done = publish_sweep(
            config,
            args.out,
            formats,
            command="gradcheck " + " ".join(args.argv),
            strict_engines=args.engines is not None,  # default engines may be skipped
            jobs=args.jobs,
            executor=executor,
            scheduler=scheduler,
            on_example=progress.update,
            on_tasks=progress.on_tasks,
            top=DEFAULT_TOP if args.top is None else args.top,
        )
    finally:
        progress.close()
    sweep, folder = done.report.sweep, done.published.folder
    for reason in sweep.skipped_engines.values():
        print(f"note: skipped {reason}", file=sys.stderr)
    print(_table(pair_summary_rows(sweep), PAIR_HEADERS))
    print(
        f"\n{sweep.verdict.upper()}: {sweep.examples} examples, {len(sweep.cells)} cells, "
        f"{done.report.run.seconds:.1f} s. Report in {folder}/ "
        f"({', '.join(p.name for p in done.published.paths)}); "
        f"{args.out / 'latest'} points there"
    )
    for entry in done.report.counterexamples:
        print(f"counterexample {entry.cell}: {entry.command}")
    return 1 if sweep.verdict == "fail" else 0
