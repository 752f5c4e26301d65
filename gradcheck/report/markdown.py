"""The Markdown writer: the verdict, the summary, the cells to look at (``sweep_rows``),
why examples were inconclusive, counterexamples, and the run's metadata. Every cell of every
pair is in the JSON and in the HTML's collapsed section, not here: a passing run's report
stays short enough to read."""

from __future__ import annotations

from tabulate import tabulate

from gradcheck.check import CheckResult
from gradcheck.report.model import Counterexample, Report
from gradcheck.report.sweep_rows import (
    COLUMNS,
    SHOWN_HEADERS,
    SUMMARY_HEADERS,
    inconclusive_lines,
    pair_summary_rows,
    run_rows,
    shown_cells,
    shown_rows,
)

__all__ = ["headline", "render_markdown", "shown_caption"]

FAILURE_HEADERS = ["pair", "where", "a", "b", "abs err", "rel err", "error bar", "allowed"]


def _escape(text: str) -> str:
    """A pipe inside a cell would end it."""
    return text.replace("|", "\\|")


def _num(x: float) -> str:
    return f"{x:.3g}"


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
            r.entry,
            f"{r.value_a:.9g}",
            f"{r.value_b:.9g}",
            _num(r.abs_err),
            _num(r.rel_err),
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
    shown = shown_cells(sweep, report.top)
    lines = headline(report) + _skipped_engines(report)
    lines += ["## Summary", "", _table(pair_summary_rows(sweep), SUMMARY_HEADERS), ""]
    lines += ["## Cells to look at", "", shown_caption(report, len(shown)), ""]
    if shown:
        rows = [[_escape(cell) for cell in row] for row in shown_rows(shown)]
        lines += [_table(rows, SHOWN_HEADERS), ""]
    lines += _inconclusive(report)
    lines += _counterexamples(report)
    columns = [[name, _escape(meaning)] for name, meaning in COLUMNS]
    lines += ["## Columns", "", _table(columns, ["column", "meaning"]), ""]
    rows = [[_escape(cell) for cell in row] for row in run_rows(report)]
    lines += ["## Run", "", _table(rows, ["", ""]), ""]
    return "\n".join(lines)


def headline(report: Report) -> list[str]:
    """The verdict and what was run, in one paragraph (also the HTML's)."""
    sweep = report.sweep
    undecided = sum(cell.verdicts.get("inconclusive", 0) for cell in sweep.cells)
    note = (
        f"{undecided} example{' was' if undecided == 1 else 's were'} inconclusive in some "
        "tensor (see Inconclusive)."
        if undecided
        else "No example was inconclusive."
    )
    return [
        "# gradcheck report",
        "",
        f"**{sweep.verdict.upper()}**: {sweep.examples} examples in {len(sweep.cells)} cells "
        f"(hidden activation × loss × dtype), engines {', '.join(sweep.engines)}, "
        f"seed {sweep.config.seed}, {report.run.seconds:.1f} s. {note}",
        "",
    ]


def shown_caption(report: Report, shown: int) -> str:
    """What the table of cells to look at holds, and where the rest is."""
    total = sum(len(cell.pairs) for cell in report.sweep.cells)
    return (
        f"{shown} of {total} (cell, engine pair)s: every one that failed, each cell with an "
        f"inconclusive example, and the {report.top} closest to their tolerance (`--top`). "
        "Every one is in report.json and in report.html's full tables."
    )


def _inconclusive(report: Report) -> list[str]:
    lines = inconclusive_lines(report.sweep)
    if not lines:
        return []
    return ["## Inconclusive", "", *[f"- {_escape(line)}" for line in lines], ""]


def _skipped_engines(report: Report) -> list[str]:
    lines = [
        f"- Skipped engine `{engine}`: {reason}"
        for engine, reason in report.sweep.skipped_engines.items()
    ]
    return [*lines, ""] if lines else []
