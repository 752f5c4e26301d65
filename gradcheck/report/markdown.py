"""The Markdown writer: a summary, one table per engine pair, counterexamples, metadata."""

from __future__ import annotations

from tabulate import tabulate

from gradcheck.check import CheckResult
from gradcheck.compare import Record
from gradcheck.numeric.steps import TOLERANCES
from gradcheck.report.model import Counterexample, Report
from gradcheck.runs.sweep import CellResult, PairSummary, SweepResult

__all__ = [
    "SUMMARY_HEADERS",
    "pair_rows",
    "pair_summary_rows",
    "precision_settings",
    "render_markdown",
]

SUMMARY_HEADERS = ["pair", "examples", "failed", "worst ratio", "rel err", "where"]
FAILURE_HEADERS = ["pair", "where", "a", "b", "abs err", "error bar", "allowed"]

COLUMNS = """\
| column | meaning |
|---|---|
| examples | cases Hypothesis drew for the cell (one failing case stops the cell and is shrunk) |
| failed | examples in which at least one tensor of this pair failed |
| worst ratio | the largest error / allowed over all entries compared; above 1 is a failure |
| abs err | in the worst tensor: the largest \\|a − b\\| |
| rel err | in the worst tensor: the largest \\|a − b\\| / max(\\|a\\|, \\|b\\|) |
| where | the tensor and index of the worst entry, in the example where it occurred |
| a, b | the two engines' values at that entry |
| error bar | the finite-difference error estimate at that entry (0 between analytic engines) |
| kink | entries not compared: a perturbation crossed a kink, or a pre-activation sat on one |
"""


def _escape(text: str) -> str:
    """A pipe inside a cell would end it."""
    return text.replace("|", "\\|")


def _num(x: float) -> str:
    return f"{x:.3g}"


def _where(record: Record | None) -> str:
    if record is None:
        return "-"
    return record.entry if record.index else record.tensor


def _pairs(sweep: SweepResult) -> list[str]:
    return [p.pair for p in sweep.cells[0].pairs] if sweep.cells else []


def _pair_in(cell: CellResult, pair: str) -> PairSummary:
    return next(p for p in cell.pairs if p.pair == pair)


def pair_summary_rows(sweep: SweepResult) -> list[list[str]]:
    """One row per engine pair across all cells (also printed by the CLI)."""
    rows = []
    for pair in _pairs(sweep):
        summaries = [(cell, _pair_in(cell, pair)) for cell in sweep.cells]
        examples = sum(s.examples for _, s in summaries)
        failed = sum(s.failed for _, s in summaries)
        cell, worst = max(
            ((c, s) for c, s in summaries if s.worst is not None),
            key=lambda cs: cs[1].worst.ratio,  # type: ignore[union-attr]
            default=(None, None),
        )
        record = worst.worst if worst else None
        rows.append(
            [
                pair,
                str(examples),
                str(failed),
                _num(record.ratio) if record else "-",
                _num(record.rel_err) if record else "-",
                f"{cell.name} {_where(record)}" if cell and record else "-",
            ]
        )
    return rows


def pair_rows(sweep: SweepResult, pair: str) -> tuple[list[str], list[list[str]]]:
    """The headers and one row per cell of an engine pair's table (Markdown and HTML)."""
    rows = []
    for cell in sweep.cells:
        s = _pair_in(cell, pair)
        r = s.worst
        rows.append(
            [
                cell.dtype,
                cell.hidden,
                cell.loss,
                str(s.examples),
                str(s.failed),
                _num(r.ratio) if r else "-",
                _num(r.abs_err) if r else "-",
                _num(r.rel_err) if r else "-",
                _where(r),
                _num(r.value_a) if r else "-",
                _num(r.value_b) if r else "-",
                _num(r.error_bar) if r else "-",
                str(r.kink_entries) if r else "-",
            ]
        )
    a, b = pair.split(" vs ")
    headers = [
        "dtype",
        "hidden",
        "loss",
        "examples",
        "failed",
        "worst ratio",
        "abs err",
        "rel err",
        "where",
        a,
        b,
        "error bar",
        "kink",
    ]
    return headers, rows


def _pair_table(sweep: SweepResult, pair: str) -> str:
    headers, rows = pair_rows(sweep, pair)
    return _table(rows, headers)


def _table(rows: list[list[str]], headers: list[str]) -> str:
    return str(tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True))


def _counterexamples(report: Report) -> list[str]:
    lines = ["## Counterexamples", ""]
    if not report.counterexamples:
        return [*lines, "None: every pair agreed within tolerance in every cell.", ""]
    files = {c.cell: c for c in report.counterexamples}
    for cell in report.sweep.cells:
        if cell.counterexample is not None:
            lines += _cell_counterexample(cell.name, cell.counterexample, files.get(cell.name))
    return lines


def _cell_counterexample(name: str, result: CheckResult, saved: Counterexample | None) -> list[str]:
    """A cell's minimal case, its failing records, the engines that raised, and how to re-run
    it when it was saved."""
    lines = [
        f"### {name}",
        "",
        f"Minimal case (shrunk by Hypothesis): `{result.case.describe()}`",
        "",
    ]
    failing = [
        [
            r.pair,
            _where(r),
            _num(r.value_a),
            _num(r.value_b),
            _num(r.abs_err),
            _num(r.error_bar),
            _num(r.allowed),
        ]
        for r in result.failures
    ]
    if failing:
        lines += [_table(failing, FAILURE_HEADERS), ""]
    lines += [f"- engine `{run.engine}` raised: {run.error}" for run in result.errors]
    return lines + (_rerun(saved) if saved is not None else [])


def _rerun(saved: Counterexample) -> list[str]:
    return [
        f"Saved as `{saved.case_file}`. Re-run exactly this case:",
        "",
        "```",
        saved.command,
        "```",
        "",
        "or pin it in a Hypothesis test (`from hypothesis import example`, "
        "`from gradcheck.case import Case`):",
        "",
        "```python",
        saved.example,
        "```",
        "",
    ]


def render_markdown(report: Report) -> str:
    sweep = report.sweep
    lines = _headline(report) + _skipped_engines(sweep)
    lines += ["## Summary", "", _table(pair_summary_rows(sweep), SUMMARY_HEADERS), ""]
    for pair in _pairs(sweep):
        lines += [f"## {pair}", "", _pair_table(sweep, pair), ""]
    lines += _counterexamples(report)
    lines += ["## Columns", "", COLUMNS, "## Run", ""]
    rows = [[_escape(cell) for cell in row] for row in _run_rows(report)]
    lines += [_table(rows, ["", ""]), ""]
    return "\n".join(lines)


def _headline(report: Report) -> list[str]:
    sweep = report.sweep
    undecided = sum(cell.verdicts.get("inconclusive", 0) for cell in sweep.cells)
    return [
        "# gradcheck report",
        "",
        f"**{sweep.verdict.upper()}**: {sweep.examples} examples in {len(sweep.cells)} cells "
        f"(hidden activation × loss × dtype), engines {', '.join(sweep.engines)}, "
        f"seed {sweep.config.seed}, {report.run.seconds:.1f} s. {undecided} examples were "
        "inconclusive in at least one tensor (every entry of it sat on or next to a kink).",
        "",
    ]


def _skipped_engines(sweep: SweepResult) -> list[str]:
    lines = [
        f"- Skipped engine `{engine}`: {reason}" for engine, reason in sweep.skipped_engines.items()
    ]
    return [*lines, ""] if lines else []


def _run_rows(report: Report) -> list[list[str]]:
    """The run's metadata: command, sizes, platform, versions, precision and tolerances."""
    run, sweep, config = report.run, report.sweep, report.sweep.config
    return [
        ["command", f"`{run.command}`"],
        ["started", run.started],
        ["examples per cell", str(config.examples)],
        [
            "depth, width, batch",
            f"1–{config.max_depth}, 1–{config.max_width}, 1–{config.max_batch}",
        ],
        ["platform", run.platform],
        *[[name, version] for name, version in run.versions.items()],
        *[
            [f"precision ({engine}, {dtype})", text]
            for (engine, dtype), text in precision_settings(sweep).items()
        ],
        *[
            [f"tolerance ({dtype}, {kind} pairs)", TOLERANCES[(dtype, kind)].to_text()]
            for dtype in config.dtypes
            for kind in ("analytic", "numerical")
        ],
    ]


def precision_settings(sweep: SweepResult) -> dict[tuple[str, str], str]:
    """The precision settings each reference engine reported, per dtype (TF32, matmul
    precision, x64 mode)."""
    found: dict[tuple[str, str], str] = {}
    skip = {"library", "version", "dtype"}
    for cell in sweep.cells:
        for engine, meta in cell.engine_meta.items():
            text = ", ".join(f"{k}={v}" for k, v in meta.items() if k not in skip)
            if text:
                found.setdefault((engine, cell.dtype), text)
    return found
