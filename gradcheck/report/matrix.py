"""Writers for the comparison matrix of ``gradcheck compare``: Markdown, HTML, JSON, and a
written summary. They only format a :class:`gradcheck.runs.matrix.MatrixResult`; what the
summary says (which settings move the gradients, the range per dtype, what was not
measured) is computed there, as ``MatrixResult.summary``, and :func:`summarise` words it.

Rows are engine / setting / device, columns are dtypes, and each cell reads
``median / worst`` relative error (defined in ``gradcheck.runs.matrix``) in scientific notation,
behind the marker of its band (``MatrixCell.band``; the thresholds are ``steps.MATRIX_BANDS``,
and :data:`MARKERS` only says how each band looks and what it means). :func:`legend` states
the scale, under the table in the terminal, compare.md and compare.html alike.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import asdict
from typing import Any

from tabulate import tabulate

from gradcheck.numeric.steps import MATRIX_BANDS, MATRIX_EXPECTED_ULPS
from gradcheck.report.formats import Writers
from gradcheck.runs.matrix import (
    REFERENCE_DESCRIPTIONS,
    DtypeRange,
    MatrixCell,
    MatrixResult,
    SettingEffect,
    expected_terms,
)

__all__ = [
    "COMPARE_WRITERS",
    "MARKERS",
    "SCHEMA",
    "legend",
    "matrix_table",
    "render_matrix_html_fragment",
    "render_matrix_html_page",
    "render_matrix_json",
    "render_matrix_markdown",
    "summarise",
]

SCHEMA = "gradcheck.compare/1"
# How each band of steps.MATRIX_BANDS looks (marker, HTML background) and what it tells the
# reader to do; the bounds are the table's.
MARKERS: dict[str, tuple[str, str, str]] = {
    "expected": ("🟩", "hsl(120, 55%, 82%)", "as exact as the dtype allows"),
    "above": ("🟨", "hsl(50, 90%, 75%)", "borderline, rerun with more --examples"),
    "far": (
        "🟥",
        "hsl(0, 70%, 78%)",
        "a wrong gradient or a lossy setting (TF32, matmul precision default)",
    ),
}
SKIPPED_MARK, SKIPPED_COLOUR = "⬜", "#eeeeee"
_META_SHOWN = ("library", "version", "dtype", "device", "entries", "excluded_entries")


# Small formatters ---------------------------------------------------------------------------
def sci(x: float | None) -> str:
    """``6.5e-4`` style: two significant digits, no padded exponent; ``-`` for None."""
    if x is None:
        return "-"
    if x == 0 or not math.isfinite(x):
        return "0" if x == 0 else str(x)
    mantissa, exponent = f"{x:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _mark(cell: MatrixCell | None) -> str:
    band = None if cell is None else cell.band
    return SKIPPED_MARK if band is None else MARKERS[band][0]


def _ratio(x: float) -> str:
    return "∞" if x == math.inf else f"{x:g}"


def _bounds() -> list[str]:
    """Each band's range of worst / expected: ``≤ 1×``, ``1–10×``, ``> 10×``."""
    texts, low = [], None
    for _, bound in MATRIX_BANDS:
        if low is None:
            texts.append(f"≤ {_ratio(bound)}×")
        elif bound == math.inf:
            texts.append(f"> {_ratio(low)}×")
        else:
            texts.append(f"{_ratio(low)}–{_ratio(bound)}×")
        low = bound
    return texts


def legend(result: MatrixResult) -> list[str]:
    """Two lines under the table: what each marker means, then the scale it is judged on
    (worst |g − g_ref| over the error expected in the cell's own dtype)."""
    marks = "; ".join(
        f"{MARKERS[name][0]} {span}{' expected' if i == 0 else ''}: {MARKERS[name][2]}"
        for i, ((name, _), span) in enumerate(zip(MATRIX_BANDS, _bounds(), strict=True))
    )
    config = result.config
    terms = {d: expected_terms(d) for d in config.dtypes}
    shares = ", ".join(f"{d} {sci(share)}" for d, (share, _) in terms.items())
    ulps = "/".join(sorted({f"{MATRIX_EXPECTED_ULPS[d]:g}" for d in config.dtypes}))
    bars = "/".join(sorted({f"{k:g}" for _, k in terms.values()}))
    return [
        f"{marks}; {SKIPPED_MARK} skipped.",
        "Marker: worst |g − g_ref| over the error expected in the cell's own dtype, "
        f"{ulps} ulps of the tensor's largest gradient ({shares} of it) + {bars} "
        f"{config.reference} error bars. Numbers: median / worst relative error.",
    ]


def _pair(cell: MatrixCell | None) -> str:
    if cell is None:
        return "-"
    if cell.skipped is not None:
        return "skipped"
    return f"{sci(cell.median_rel)} / {sci(cell.worst_rel)}"


def _row_name(cell: MatrixCell) -> str:
    setting = "" if cell.setting == "-" else f" {cell.setting}"
    return f"{cell.engine}{setting}, {cell.device}"


def _flags(cell: MatrixCell) -> str:
    return ", ".join(f"{k}={v}" for k, v in cell.meta.items() if k not in _META_SHOWN)


# Markdown -----------------------------------------------------------------------------------
def _table_rows(result: MatrixResult) -> list[list[str]]:
    rows = []
    for engine, setting, device in result.rows():
        row = [engine, setting, device]
        for dtype in result.config.dtypes:
            cell = result.cell(engine, setting, device, dtype)
            row.append(f"{_mark(cell)} {_pair(cell)}")
        rows.append(row)
    return rows


def matrix_table(result: MatrixResult) -> str:
    """The heat-map table alone, as GitHub Markdown: one row per engine / setting / device,
    one column per dtype."""
    headers = ["engine", "setting", "device", *result.config.dtypes]
    return str(
        tabulate(_table_rows(result), headers=headers, tablefmt="github", disable_numparse=True)
    )


def _numbers(result: MatrixResult) -> str:
    config = result.config
    return (
        "Each cell: **median / worst** relative error |g − g_ref| / max(|g_ref|, s) over every "
        f"gradient entry of all {config.examples} examples, with s = 1e-3·max|g_ref| of the "
        f"entry's tensor, against `{config.reference}` ({REFERENCE_DESCRIPTIONS[config.reference]}"
        "). *worst / expected* in the details is the ratio that picks the marker."
    )


def _details(result: MatrixResult) -> str:
    rows = [
        [
            _row_name(c),
            c.dtype,
            str(c.examples),
            f"{c.seconds:.4f}",
            c.worst_entry or "-",
            "-" if c.worst_over_expected is None else f"{c.worst_over_expected:.3g}",
            "-" if c.worst_over_bar is None else f"{c.worst_over_bar:.3g}",
            f"{c.meta.get('library', '-')} {c.meta.get('version', '')}".strip(),
            _flags(c) or "-",
        ]
        for c in result.cells
        if c.skipped is None
    ]
    headers = ["row", "dtype", "examples", "seconds", "worst at", "worst / expected"]
    headers += ["worst / fd bar", "library"]
    return str(
        tabulate(rows, headers=[*headers, "flags"], tablefmt="github", disable_numparse=True)
    )


def _resolution_lines(result: MatrixResult) -> list[str]:
    return [
        f"- {dtype}: the fd reference's error bar, relative as above, has median "
        f"{sci(median)} and worst {sci(worst)}; cells below it cannot be told apart from fd."
        for dtype, (median, worst) in result.resolution.items()
    ]


def render_matrix_markdown(result: MatrixResult) -> str:
    """The whole ``compare.md``: the table with its legend, the summary, the reference's
    resolution, notes, per-cell details (timings, worst entry, flags) and skipped cells."""
    config = result.config
    lines = [
        "# gradcheck compare",
        "",
        f"{config.workload()}; engines {', '.join(config.engines)}; devices "
        f"{', '.join(config.devices)}; {result.seconds:.1f} s.",
        "",
        matrix_table(result),
        "",
        *(f"{line}  " for line in legend(result)),  # a Markdown line break after each
        "",
        _numbers(result),
        "",
        "## Summary",
        "",
        *(f"- {line}" for line in summarise(result)),
        "",
    ]
    if result.resolution:
        lines += ["## Resolution of the reference", "", *_resolution_lines(result), ""]
    if result.notes:
        lines += ["## Notes", "", *(f"- {note}" for note in result.notes), ""]
    lines += [
        "## Details",
        "",
        "Seconds are engine time summed over the examples, after one untimed warm-up call. "
        "*worst / fd bar* is the largest |g − g_ref| / (fd error bar): at or below 1 the cell "
        "is within the reference's own error.",
        "",
        _details(result),
        "",
    ]
    skipped: dict[tuple[str, str], list[str]] = {}
    for c in result.cells:
        if c.skipped is not None:
            skipped.setdefault((_row_name(c), c.skipped), []).append(c.dtype)
    if skipped:
        lines += ["## Skipped", ""]
        lines += [f"- {row} ({', '.join(d)}): {why}" for (row, why), d in skipped.items()]
        lines.append("")
    return "\n".join(lines)


# HTML ---------------------------------------------------------------------------------------
def _colour(cell: MatrixCell) -> str:
    return SKIPPED_COLOUR if cell.band is None else MARKERS[cell.band][1]


def _html_cell(cell: MatrixCell | None) -> str:
    if cell is None:
        return f'<td style="background-color: {SKIPPED_COLOUR}">-</td>'
    if cell.skipped is not None:
        title = f"skipped: {cell.skipped}"
    else:
        title = (
            f"{_mark(cell)} {_ratio(cell.worst_over_expected or 0.0)}× the expected error; "
            f"worst at {cell.worst_entry}; {cell.examples} examples; {cell.seconds:.4f} s"
        )
    style = f"background-color: {_colour(cell)}; padding: 3px 8px"
    return f'<td style="{style}" title="{html.escape(title)}">{html.escape(_pair(cell))}</td>'


def render_matrix_html_fragment(result: MatrixResult) -> str:
    """One ``<table>`` (well-formed XML, self-contained, every text escaped) whose dtype cells
    are coloured by their band (:data:`MARKERS`), the legend as its caption."""
    dtypes = result.config.dtypes
    head = "".join(f"<th>{html.escape(h)}</th>" for h in ("engine", "setting", "device", *dtypes))
    body = []
    for engine, setting, device in result.rows():
        cells = [result.cell(engine, setting, device, dtype) for dtype in dtypes]
        names = "".join(f"<td>{html.escape(text)}</td>" for text in (engine, setting, device))
        body.append(f"<tr>{names}{''.join(_html_cell(c) for c in cells)}</tr>")
    caption = " ".join(legend(result))
    return (
        '<table class="gradcheck-compare" style="border-collapse: collapse">'
        f"<caption>{html.escape(caption)}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def render_matrix_html_page(result: MatrixResult) -> str:
    """The whole ``compare.html``: the fragment, the summary and the notes, offline."""
    items = "".join(f"<li>{html.escape(line)}</li>" for line in summarise(result))
    notes = "".join(f"<li>{html.escape(note)}</li>" for note in result.notes)
    style = (
        "body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; } "
        "td, th { border: 1px solid #d0d7de; padding: 3px 8px; text-align: left; }"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>gradcheck compare</title><style>{style}</style></head><body>"
        f"<h1>gradcheck compare</h1><p>{html.escape(result.config.workload())}</p>"
        f"{render_matrix_html_fragment(result)}<p>{html.escape(_numbers(result))}</p>"
        f"<h2>Summary</h2><ul>{items}</ul>"
        + (f"<h2>Notes</h2><ul>{notes}</ul>" if notes else "")
        + "</body></html>\n"
    )


# JSON ---------------------------------------------------------------------------------------
def _number(x: float | None) -> float | str | None:
    """Finite floats as they are; inf and nan as the strings "inf" and "nan" (strict JSON)."""
    if x is None or math.isfinite(x):
        return x
    return str(x)


def render_matrix_json(result: MatrixResult) -> dict[str, Any]:
    """Plain data (lists, dicts, str, int, float, None) with ``"schema": SCHEMA``."""
    cells = []
    for cell in result.cells:
        data = asdict(cell)
        for key in ("median_rel", "worst_rel", "worst_over_bar", "worst_over_expected"):
            data[key] = _number(data[key])
        data["band"] = cell.band
        data["meta"] = {k: v if isinstance(v, str | int | float | bool) else str(v)
                        for k, v in cell.meta.items()}  # fmt: skip
        cells.append(data)
    config = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(result.config).items()}
    return {
        "schema": SCHEMA,
        "config": config,
        "reference": {
            "engine": result.config.reference,
            "method": REFERENCE_DESCRIPTIONS[result.config.reference],
            "resolution": {
                dtype: {"median": _number(median), "worst": _number(worst)}
                for dtype, (median, worst) in result.resolution.items()
            },
        },
        "relative_error": "|g - g_ref| / max(|g_ref|, 1e-3 * max|g_ref| of the tensor)",
        "expected_error": {
            "formula": "ulps * eps(dtype) * max|g_ref| of the tensor + 4 * error bar of g_ref",
            "ulps": {d: MATRIX_EXPECTED_ULPS[d] for d in result.config.dtypes},
        },
        "bands": [
            {
                "band": name,
                "up_to": _number(bound),
                "marker": MARKERS[name][0],
                "meaning": MARKERS[name][2],
            }
            for name, bound in MATRIX_BANDS
        ],
        "cells": cells,
        "summary": summarise(result),
        "notes": list(result.notes),
        "seconds": result.seconds,
    }


# The written summary ------------------------------------------------------------------------
def _phrase(setting: str) -> str:
    """``tf32=on`` → "TF32 on", ``precision=default`` → "matmul precision default"."""
    key, _, value = setting.partition("=")
    if key == "tf32":
        return f"TF32 {value}"
    if key == "precision":
        return f"matmul precision {value}"
    return setting


def _effect(effect: SettingEffect) -> str:
    """One sentence on what a cell's setting does against its baseline."""
    cell = effect.cell
    who = f"{cell.engine} {cell.dtype} on {cell.device}"
    on, off = _phrase(cell.setting), _phrase(effect.base.setting)
    a, b = effect.worst, effect.base_worst
    if effect.change == "none":
        return f"{who}: {on} has no effect (worst relative {sci(a)}, identical to {off})"
    if effect.change == "unmeasurable":
        return (
            f"{who}: {on} makes no measurable difference: worst relative {sci(a)} "
            f"against {sci(b)} with {off}"
        )
    return f"{who}: {on} moves gradients by {sci(a)} (worst relative) against {sci(b)} with {off}"


def _dtype_line(span: DtypeRange) -> str:
    low, high = span.lowest, span.highest
    if sci(low.worst_rel) == sci(high.worst_rel):  # a range that prints as one number
        text = f"{span.dtype}: worst relative error {sci(high.worst_rel)} in all {span.cells} cells"
    else:
        text = (
            f"{span.dtype}: worst relative error from {sci(low.worst_rel)} ({_row_name(low)}) "
            f"to {sci(high.worst_rel)} ({_row_name(high)}) over {span.cells} cells"
        )
    if span.within_reference:
        text += (
            "; every cell lies within the fd reference's error bar, so these are the "
            "reference's errors and the engines agree at least this well"
        )
    elif span.worst_over_bar is not None:
        text += (
            f"; up to {span.worst_over_bar:.3g}× the fd reference's error bar, so the error is "
            "the engine's"
        )
    return text


def summarise(result: MatrixResult) -> list[str]:
    """What the matrix says, in sentences (``result.summary``): for every cell whose setting
    differs from its baseline (TF32 off, matmul precision highest) in that one setting only,
    how far each moves the gradients or that it has no effect; then the range of worst
    errors per dtype; then what was not measured and why."""
    summary = result.summary
    return [
        *(_effect(effect) for effect in summary.effects),
        *(_dtype_line(span) for span in summary.ranges),
        *(f"{u.engine} on {u.device} not measured: {u.reason}" for u in summary.unmeasured),
    ]


COMPARE_WRITERS: Writers[MatrixResult] = Writers(
    "comparison",
    "compare",
    {
        "md": render_matrix_markdown,
        "json": lambda result: json.dumps(render_matrix_json(result), indent=2) + "\n",
        "html": render_matrix_html_page,
    },
)
