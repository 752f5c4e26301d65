"""What a sweep report shows, as rows of strings: one selection, shared by the Markdown and
HTML writers (and the CLI's summary), so that the two cannot drift apart.

A reader first needs the summary, then the cells to look at: every (cell, engine pair)
that failed, every one that was inconclusive somewhere, and the ``top`` passing ones that
came closest to their tolerance. The rest is in the JSON, and collapsed in the HTML.
Errors are those of the entry named in ``where`` (``Record.abs_err``, ``Record.rel_err``),
and each row names the network drawn for that entry's example, output activation included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from gradcheck.compare import Record
from gradcheck.numeric.steps import TOLERANCES
from gradcheck.report.model import DEFAULT_TOP, Report
from gradcheck.runs.inconclusive import InconclusiveExample
from gradcheck.runs.sweep import CellResult, PairSummary, SweepResult

__all__ = [
    "COLUMNS",
    "DEFAULT_TOP",
    "SHOWN_HEADERS",
    "SUMMARY_HEADERS",
    "Shown",
    "inconclusive_lines",
    "pair_rows",
    "pair_summary_rows",
    "pairs",
    "precision_settings",
    "run_rows",
    "shown_cells",
    "shown_rows",
    "tolerance_rows",
]

SUMMARY_HEADERS = ["pair", "examples", "failed", "worst ratio", "rel err", "where"]
SHOWN_HEADERS = ["", "cell", "pair", "worst ratio", "abs err", "rel err", "where", "a", "b",
                 "error bar", "kink", "network drawn"]  # fmt: skip

COLUMNS = (
    ("cell", "dtype, hidden activation and loss: the sweep's cell; its examples draw the rest"),
    (
        "network drawn",
        "the example's whole network: widths, hidden and output activations, loss, "
        "reduction, residual layers, dtype, batch",
    ),
    ("examples", "cases drawn for the cell (one failing case stops the cell and is shrunk)"),
    ("failed", "examples in which at least one tensor of this pair failed"),
    ("worst ratio", "the largest |a − b| / allowed over every entry compared; above 1 fails"),
    ("where", "the tensor and index of that worst entry, in the example where it occurred"),
    ("a, b", "the two engines' values at that entry"),
    ("abs err", "|a − b| at that entry"),
    ("rel err", "|a − b| / max(|a|, |b|) at that entry"),
    ("error bar", "the finite-difference error estimate there (0 between analytic engines)"),
    (
        "kink",
        "entries of that tensor not compared: a perturbation crossed a kink, or a "
        "pre-activation sat on one",
    ),
)

Why = Literal["failed", "inconclusive", "closest"]
_MARK: dict[str, str] = {"failed": "✗ failed", "inconclusive": "? inconclusive",
                         "closest": "closest"}  # fmt: skip


@dataclass(frozen=True)
class Shown:
    """One (cell, engine pair) the report shows, and why it is shown."""

    cell: CellResult
    pair: PairSummary
    why: Why


def _num(x: float) -> str:
    return f"{x:.3g}"


def _where(record: Record | None) -> str:
    if record is None:
        return "-"
    return record.entry if record.index else record.tensor


def pairs(sweep: SweepResult) -> list[str]:
    return [p.pair for p in sweep.cells[0].pairs] if sweep.cells else []


def _pair_in(cell: CellResult, pair: str) -> PairSummary:
    return next(p for p in cell.pairs if p.pair == pair)


def _ratio(pair: PairSummary) -> float:
    return pair.worst.ratio if pair.worst is not None else -1.0


def shown_cells(sweep: SweepResult, top: int = DEFAULT_TOP) -> tuple[Shown, ...]:
    """Every failed (cell, pair), then each cell with an inconclusive example (its worst such
    pair), each worst first, then the ``top`` others closest to their tolerance."""
    everything = [(cell, pair) for cell in sweep.cells for pair in cell.pairs]
    failed = [Shown(c, p, "failed") for c, p in everything if p.failed]
    # An inconclusive example is usually so for every pair (the reference's kinks): one row
    # per cell, its worst such pair; the Inconclusive section names them all.
    undecided = []
    for cell in sweep.cells:
        pairs = [p for p in cell.pairs if p.inconclusive and not p.failed]
        if pairs:
            undecided.append(Shown(cell, max(pairs, key=_ratio), "inconclusive"))
    rest = [Shown(c, p, "closest") for c, p in everything if not p.failed and not p.inconclusive]
    by_ratio = lambda s: -_ratio(s.pair)  # noqa: E731
    return (*sorted(failed, key=by_ratio), *sorted(undecided, key=by_ratio),
            *sorted(rest, key=by_ratio)[: max(0, top)])  # fmt: skip


def _record_columns(r: Record | None) -> list[str]:
    """worst ratio, abs err, rel err, where, a, b, error bar, kink: the worst entry's."""
    if r is None:
        return ["-"] * 8
    return [_num(r.ratio), _num(r.abs_err), _num(r.rel_err), _where(r), _num(r.value_a),
            _num(r.value_b), _num(r.error_bar), str(r.kink_entries)]  # fmt: skip


def shown_rows(shown: Sequence[Shown]) -> list[list[str]]:
    rows = []
    for item in shown:
        r = item.pair.worst
        rows.append(
            [
                _MARK[item.why],
                f"{item.cell.dtype} {item.cell.hidden} {item.cell.loss}",
                item.pair.pair,
                *_record_columns(r),
                item.pair.worst_case or "-",
            ]
        )
    return rows


def inconclusive_lines(sweep: SweepResult) -> list[str]:
    """One line per inconclusive example: its cell and network, the engine pairs and
    tensors that could not be compared, and why."""
    lines = []
    for cell in sweep.cells:
        examples: dict[int, list[tuple[str, InconclusiveExample]]] = {}
        for pair in cell.pairs:
            for example in pair.inconclusive:
                examples.setdefault(example.example, []).append((pair.pair, example))
        for number, found in sorted(examples.items()):
            first = found[0][1]
            names = [name for name, _ in found]
            which = "every pair" if len(names) == len(cell.pairs) else ", ".join(names)
            tensors = list(dict.fromkeys(t for _, example in found for t in example.tensors))
            lines.append(
                f"{cell.name} example {number} (`{first.case}`), {which}: "
                f"{', '.join(tensors)}. Why: {first.why}"
            )
    return lines


def pair_summary_rows(sweep: SweepResult) -> list[list[str]]:
    """One row per engine pair across all cells (also printed by the CLI)."""
    rows = []
    for pair in pairs(sweep):
        summaries = [(cell, _pair_in(cell, pair)) for cell in sweep.cells]
        cell, worst = max(
            ((c, s) for c, s in summaries if s.worst is not None),
            key=lambda cs: _ratio(cs[1]),
            default=(None, None),
        )
        record = worst.worst if worst else None
        rows.append(
            [
                pair,
                str(sum(s.examples for _, s in summaries)),
                str(sum(s.failed for _, s in summaries)),
                _num(record.ratio) if record else "-",
                _num(record.rel_err) if record else "-",
                f"{cell.name} {_where(record)}" if cell and record else "-",
            ]
        )
    return rows


def pair_rows(sweep: SweepResult, pair: str) -> tuple[list[str], list[list[str]]]:
    """The headers and one row per cell of an engine pair's full table (the HTML's collapsed
    section)."""
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
                str(len(s.inconclusive)),
                *_record_columns(r),
                s.worst_case or "-",
            ]
        )
    a, b = pair.split(" vs ")
    headers = ["dtype", "hidden", "loss", "examples", "failed", "inconclusive", "worst ratio",
               "abs err", "rel err", "where", a, b, "error bar", "kink",
               "network drawn"]  # fmt: skip
    return headers, rows


def tolerance_rows(sweep: SweepResult) -> list[list[str]]:
    """The tolerance formula of each dtype and kind of pair the sweep compared."""
    return [
        [f"tolerance ({dtype}, {kind} pairs)", TOLERANCES[(dtype, kind)].to_text()]
        for dtype in sweep.config.dtypes
        for kind in ("analytic", "numerical")
    ]


def run_rows(report: Report) -> list[list[str]]:
    """The run's metadata: command, sizes, platform, versions, precision and tolerances."""
    run, sweep, config = report.run, report.sweep, report.sweep.config
    return [
        ["command", run.command],
        ["started", run.started],
        ["examples per cell", str(config.examples)],
        [
            "depth, width, batch",
            f"1–{config.max_depth}, 1–{config.max_width}, 1–{config.max_batch}",
        ],
        ["kinks", config.kinks],
        ["platform", run.platform],
        *[[name, version] for name, version in run.versions.items()],
        *[
            [f"precision ({engine}, {dtype})", text]
            for (engine, dtype), text in precision_settings(sweep).items()
        ],
        *tolerance_rows(sweep),
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
