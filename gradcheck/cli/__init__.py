"""The command line: parses arguments, calls library functions, prints what they return.

Exit codes: 0 everything agrees (or the submission passes), 1 a gradient disagrees (or the
submission fails), 2 bad usage or bad input. The student commands live in ``cli_student``.
torch, jax and Hypothesis are imported only by the commands that need them, so that
``gradcheck --help`` and ``gradcheck --version`` stay fast.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from gradcheck._version import __version__
from gradcheck.cli.args import names, positive
from gradcheck.cli.baseline import add_baseline_command
from gradcheck.cli.compare import add_compare_command
from gradcheck.cli.student import add_commands
from gradcheck.errors import GradcheckError

__all__ = ["main"]

DEFAULT_ENGINES = "core,fd,torch,jax"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gradcheck",
        description="Verify backprop gradients against finite differences, torch and JAX.",
    )
    parser.add_argument("--version", action="version", version=f"gradcheck {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = commands.add_parser(
        "check",
        help="sweep the core against every engine and write a discrepancy report",
        description="Draw networks with Hypothesis for every hidden activation × loss × dtype, "
        "run every engine, compare every pair, and write reports. A failing cell is shrunk to a "
        "minimal case that is saved beside the report.",
    )
    check.add_argument(
        "--engines",
        type=names,
        default=None,
        help=f"comma-separated engines (default {DEFAULT_ENGINES}; torch and jax "
        "are skipped with a note when not installed, unless named explicitly)",
    )
    check.add_argument(
        "--examples", type=positive, default=10, help="examples per cell (default 10)"
    )
    check.add_argument(
        "--dtype",
        choices=["float64", "float32", "all"],
        default="all",
        help="dtype of the networks (default all)",
    )
    check.add_argument("--seed", type=int, default=0, help="seed of the sweep (default 0)")
    check.add_argument(
        "--activations", type=names, default=(), help="hidden activations (default all)"
    )
    check.add_argument("--losses", type=names, default=(), help="losses (default all)")
    check.add_argument("--max-depth", type=positive, default=6, help="largest depth (default 6)")
    check.add_argument("--max-width", type=positive, default=16, help="largest width (default 16)")
    check.add_argument(
        "--kinks",
        choices=("avoid", "allow", "aim"),
        default="avoid",
        help="pre-activations: keep clear of relu-like kinks (default), aim at them, or allow any",
    )
    check.add_argument(
        "--out",
        type=Path,
        default=Path("reports"),
        help="reports root (default reports/): each run writes a timestamped folder in it and "
        "points OUT/latest at it",
    )
    check.add_argument(
        "--format",
        type=names,
        default=("md", "json", "html", "junit"),
        help="report formats (default md,json,html,junit)",
    )
    check.add_argument("--case", type=Path, help="re-run one saved case (.npz) instead of a sweep")
    check.add_argument(
        "--jobs",
        type=positive,
        default=os.cpu_count() or 1,
        help="worker processes for the cells (default: the number of CPUs)",
    )
    check.add_argument("--no-progress", action="store_true", help="never show the progress bar")
    check.set_defaults(handler=_check)
    add_compare_command(commands)
    add_baseline_command(commands)
    add_commands(commands)
    return parser


def _check(args: argparse.Namespace) -> int:
    return _run_case(args) if args.case is not None else _run_sweep(args)


def _run_case(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from gradcheck.case import Case
    from gradcheck.check import check_case
    from gradcheck.runs.sweep import resolve_engines

    case = Case.load(args.case)
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
    print(
        tabulate(
            rows,
            headers=[
                "pair",
                "tensor",
                "index",
                "a",
                "b",
                "abs err",
                "error bar",
                "ratio",
                "verdict",
            ],
            tablefmt="github",
            disable_numparse=True,
        )
    )
    for run in result.errors:
        print(f"engine {run.engine} raised: {run.error}")
    return 1 if result.verdict == "fail" else 0


def _run_sweep(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from gradcheck.cli.progress import Progress
    from gradcheck.report import Report, RunInfo, check_formats, write_report
    from gradcheck.report.folders import publish_latest, run_folder
    from gradcheck.report.markdown import pair_summary_rows, render_markdown
    from gradcheck.report.pictures import report_images
    from gradcheck.runs.repro import save_counterexamples
    from gradcheck.runs.sweep import SweepConfig, run_sweep

    dtypes = ("float64", "float32") if args.dtype == "all" else (args.dtype,)
    config = SweepConfig(
        engines=args.engines or names(DEFAULT_ENGINES),
        examples=args.examples,
        dtypes=dtypes,
        seed=args.seed,
        activations=args.activations,
        losses=args.losses,
        max_depth=args.max_depth,
        max_width=args.max_width,
        kinks=args.kinks,
    )
    cells = config.cells()  # validates the names before any work
    check_formats(args.format)
    explicit = args.engines is not None  # named engines must run; default ones may be skipped
    started = datetime.now(UTC).isoformat(timespec="seconds")
    progress = Progress(
        len(cells) * config.examples,
        label="gradcheck check",
        enabled=False if args.no_progress else None,
    )
    start = time.perf_counter()
    try:
        sweep = run_sweep(
            config, strict_engines=explicit, on_example=progress.update, jobs=args.jobs
        )
    finally:
        progress.close()
    run = RunInfo(started, time.perf_counter() - start, "gradcheck " + " ".join(args.argv))
    folder = run_folder(args.out)
    counterexamples = save_counterexamples(sweep, folder)
    report = Report(run, sweep, counterexamples, images=report_images(sweep))
    paths = write_report(report, folder, args.format)
    publish_latest(args.out, folder)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary and "md" in args.format:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(render_markdown(report) + "\n")
    for reason in sweep.skipped_engines.values():
        print(f"note: skipped {reason}", file=sys.stderr)
    print(
        tabulate(
            pair_summary_rows(sweep),
            headers=["pair", "examples", "failed", "worst ratio", "rel err", "where"],
            tablefmt="github",
            disable_numparse=True,
        )
    )
    print(
        f"\n{sweep.verdict.upper()}: {sweep.examples} examples, {len(sweep.cells)} cells, "
        f"{run.seconds:.1f} s. Report in {folder}/ ({', '.join(p.name for p in paths)}); "
        f"{args.out / 'latest'} points there"
    )
    for entry in counterexamples:
        print(f"counterexample {entry.cell}: {entry.command}")
    return 1 if sweep.verdict == "fail" else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.argv = argv
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.handler(args))
    except GradcheckError as error:
        print(f"gradcheck: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gradcheck: interrupted; reports already written are intact", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `gradcheck check ... | head`: the reader left, which is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
