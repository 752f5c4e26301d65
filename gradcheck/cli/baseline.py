"""``gradcheck baseline record|check``: golden gradients of fixed cases.

    gradcheck baseline record baselines/core --spec "4-8-3 hidden=tanh loss=mse" --seeds 0-2
    gradcheck baseline record baselines/core --preset registry --dtypes float64,float32
    gradcheck baseline check baselines/core [--engine torch] [--format json]

``record`` adds entries to the file (or replaces those with the same key); ``check``
rebuilds each case, runs its engine and exits 1 when a gradient drifted beyond tolerance.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from gradcheck.cli.args import (
    BATCH_MAX,
    check_output_file,
    count,
    items,
    nonempty,
    path,
    seeds,
    tolerance,
)
from gradcheck.errors import GradcheckError

if TYPE_CHECKING:
    from gradcheck.baseline.cases import BaselineCheck

__all__ = ["add_baseline_command"]

PRESETS = ("registry",)


def add_baseline_command(commands: Any) -> None:
    """Register ``baseline`` with its ``record`` and ``check`` subcommands."""
    baseline = commands.add_parser(
        "baseline",
        help="record golden gradients of fixed cases, or check them for drift",
        description="Golden gradients: record the loss and gradients of fixed cases "
        "(spec, seed, dtype) in PATH.npz with a JSON index PATH.json, and later fail when they "
        "drift, even where finite differences still agree (a changed initialiser, loss "
        "reduction or dtype handling).",
    )
    actions = baseline.add_subparsers(dest="action", metavar="ACTION", required=True)

    record = actions.add_parser("record", help="compute and store the gradients of fixed cases")
    record.add_argument("path", type=path, help="baseline file (stem, .npz or .json)")
    record.add_argument(
        "--spec",
        action="append",
        type=nonempty,
        default=[],
        help='a network, e.g. "4-8-3 hidden=tanh loss=mse" (repeatable)',
    )
    record.add_argument(
        "--preset",
        choices=PRESETS,
        help="registry: every hidden activation × every loss, on a 5-7-6-3 network",
    )
    record.add_argument("--seeds", type=seeds, default=(0,), help="e.g. 0,1 or 0-4 (default 0)")
    record.add_argument(
        "--dtypes", type=items, default=("float64",), help="e.g. float64,float32 (default float64)"
    )
    record.add_argument(
        "--engine", type=nonempty, default="core", help="engine that computes (default core)"
    )
    record.add_argument(
        "--batch", type=count(1, BATCH_MAX), default=8, help="batch size (default 8)"
    )
    record.set_defaults(handler=run_record)

    check = actions.add_parser("check", help="re-compute every recorded case and compare")
    check.add_argument("path", type=path, help="baseline file (stem, .npz or .json)")
    check.add_argument(
        "--engine", type=nonempty, help="engine to check with (default: the recording one)"
    )
    check.add_argument("--rtol", type=tolerance, help="relative tolerance (default: per dtype)")
    check.add_argument("--atol", type=tolerance, help="absolute tolerance, × the tensor's scale")
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.set_defaults(handler=run_check)


def _specs(args: argparse.Namespace) -> list[Any]:
    from gradcheck.nn.activations import ACTIVATIONS
    from gradcheck.nn.losses import LOSSES
    from gradcheck.nn.spec import DTYPES, NetworkSpec

    known = ", ".join(DTYPES)
    bad = [d for d in args.dtypes if d not in DTYPES]
    if bad or not args.dtypes:
        what = repr(bad[0]) if bad else "(none given)"
        raise GradcheckError(f"unknown dtype {what} in --dtypes (known: {known})")
    twice = [d for i, d in enumerate(args.dtypes) if d in args.dtypes[:i]]
    if twice:
        raise GradcheckError(f"--dtypes: {twice[0]!r} is given twice")
    texts = list(args.spec)
    if args.preset == "registry":
        texts += [
            f"5-7-6-3 hidden={a} loss={loss}"
            for a in sorted(ACTIVATIONS)
            if a != "identity"
            for loss in sorted(LOSSES)
        ]
    if not texts:
        raise GradcheckError("nothing to record: give --spec (repeatable) or --preset registry")
    parsed = []
    for text in texts:
        try:
            parsed.append(NetworkSpec.parse(text))
        except GradcheckError as error:
            raise GradcheckError(f"--spec {text!r}: {error}") from None
    return [spec.replace(dtype=d) for spec in parsed for d in args.dtypes]


def run_record(args: argparse.Namespace) -> int:
    from gradcheck.baseline import Baseline
    from gradcheck.baseline.cases import record_cases, recording_meta
    from gradcheck.baseline.store import stem_of
    from gradcheck.io import npz_json_pair

    specs = _specs(args)
    stem = stem_of(args.path)
    for file in npz_json_pair(stem):  # before the work, not at the save after it
        check_output_file(file, "baseline file")
    baseline = Baseline.load(stem) if npz_json_pair(stem)[1].is_file() else Baseline()
    entries = record_cases(specs, args.seeds, engine=args.engine, batch=args.batch)
    baseline.update(entries)
    npz, index = baseline.save(stem, meta=recording_meta())
    size = npz.stat().st_size + index.stat().st_size
    print(
        f"recorded {len(entries)} cases with {args.engine} "
        f"({len(baseline)} entries in {index} and {npz}, {size / 1024:.1f} KiB)"
    )
    return 0


def run_check(args: argparse.Namespace) -> int:
    from gradcheck.baseline import Baseline
    from gradcheck.baseline.cases import check_cases

    baseline = Baseline.load(args.path)
    result = check_cases(
        baseline, str(args.path), engine=args.engine, rtol=args.rtol, atol=args.atol
    )
    if not result.drifts:
        raise GradcheckError(
            f"{args.path} holds no fixed cases ({result.skipped} entries recorded by pytest are "
            "checked when their tests run with --gradcheck-baseline)"
        )
    if args.format == "json":
        _print_json(result)
    else:
        _print_text(result)
    return 1 if result.verdict == "fail" else 0


def _print_json(result: BaselineCheck) -> None:
    data = {
        "schema": "gradcheck.baseline-check/1",
        "path": result.path,
        "verdict": result.verdict,
        "checked": len(result.drifts),
        "skipped": result.skipped,
        "drifts": [d.to_dict() for d in result.drifts],
    }
    print(json.dumps(data, indent=1))


def _print_text(result: BaselineCheck) -> None:
    for drift in result.failures:
        print(drift.describe())
    print(
        f"{result.verdict.upper()}: {len(result.drifts)} cases checked, "
        f"{len(result.failures)} drifted"
        + (f"; {result.skipped} pytest entries skipped" if result.skipped else "")
    )
