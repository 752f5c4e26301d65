"""The HTML writer: one self-contained file. Styles are inline, plots are embedded as PNG
data URIs, and nothing is fetched from the network, so the report opens offline and can be
attached to a CI run as it is. Every string goes through ``report.escape``."""

from __future__ import annotations

import re
from collections.abc import Sequence

from gradcheck.report.escape import html_text as esc
from gradcheck.report.markdown import headline, shown_caption
from gradcheck.report.model import Image, Report
from gradcheck.report.sweep_rows import (
    COLUMNS,
    SHOWN_HEADERS,
    SUMMARY_HEADERS,
    inconclusive_lines,
    pair_rows,
    pair_summary_rows,
    pairs,
    run_rows,
    shown_cells,
    shown_rows,
)

__all__ = ["render_html", "table"]

_STYLE = """
body { font-family: system-ui, -apple-system, sans-serif; margin: 2em auto; max-width: 1200px;
       color: #1b1b1b; padding: 0 1em; }
h1 .verdict { padding: 0.1em 0.5em; border-radius: 4px; color: white; }
.pass { background: #1a7f37; } .fail { background: #cf222e; } .inconclusive { background: #9a6700; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #d0d7de; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
tr.failed td { background: #ffebe9; }
code, pre { background: #f6f8fa; border-radius: 4px; padding: 0.1em 0.3em; }
pre { padding: 0.6em; overflow-x: auto; }
figure { display: inline-block; margin: 0 1em 1em 0; } figcaption { font-size: 0.85em; }
figure img { max-width: 560px; border: 1px solid #d0d7de; }
tr.inconclusive td { background: #fff8c5; }
details { margin: 0.5em 0 1em; } summary { cursor: pointer; font-weight: 600; }
"""


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    failed_column: int = -1,
    classes: Sequence[str] = (),
) -> str:
    """An escaped HTML table; rows whose ``failed_column`` is not "0" are highlighted, and
    row i gets the CSS class ``classes[i]`` when given."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        bad = 0 <= failed_column < len(row) and row[failed_column] not in ("0", "-", "")
        cells = "".join(f"<td>{esc(str(c))}</td>" for c in row)
        css = "failed" if bad else (classes[i] if i < len(classes) else "")
        attribute = f' class="{esc(css)}"' if css else ""
        body.append(f"<tr{attribute}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _figures(images: Sequence[Image]) -> list[str]:
    if not images:
        return []
    parts = ["<h2>Pictures</h2>", "<div>"]
    for image in images:
        parts.append(
            f'<figure><img alt="{esc(image.title)}" src="{image.data_uri}">'
            f"<figcaption><b>{esc(image.title)}</b>. {esc(image.caption)} "
            f"(<code>{esc(image.filename)}</code>)</figcaption></figure>"
        )
    return [*parts, "</div>"]


def _counterexamples(report: Report) -> list[str]:
    parts = ["<h2>Counterexamples</h2>"]
    if not report.counterexamples:
        return [*parts, "<p>None: every pair agreed within tolerance in every cell.</p>"]
    files = {c.cell: c for c in report.counterexamples}
    for cell in report.sweep.cells:
        result = cell.counterexample
        if result is None:
            continue
        parts.append(f"<h3>{esc(cell.name)}</h3>")
        parts.append(f"<p>Minimal case: <code>{esc(result.case.describe())}</code></p>")
        rows = [
            [
                r.pair,
                r.entry,
                f"{r.value_a:.9g}",
                f"{r.value_b:.9g}",
                f"{r.abs_err:.3g}",
                f"{r.rel_err:.3g}",
                f"{r.error_bar:.3g}",
                f"{r.allowed:.3g}",
            ]
            for r in result.failures
        ]
        if rows:
            headers = ["pair", "where", "a", "b", "abs err", "rel err", "error bar", "allowed"]
            parts.append(table(headers, rows))
        for run in result.errors:
            parts.append(
                f"<p>engine <code>{esc(run.engine)}</code> raised: {esc(str(run.error))}</p>"
            )
        if cell.name in files:
            entry = files[cell.name]
            parts.append(
                f"<p>Saved as <code>{esc(entry.case_file)}</code>. Re-run it:</p>"
                f"<pre>{esc(entry.command)}</pre><p>or pin it in a Hypothesis test:</p>"
                f"<pre>{esc(entry.example)}</pre>"
            )
    return parts


def _prose(text: str) -> str:
    """Escaped text whose Markdown `code` spans become <code> elements."""
    return re.sub(r"`([^`]*)`", r"<code>\1</code>", esc(text))


def _shown(report: Report) -> list[str]:
    shown = shown_cells(report.sweep, report.top)
    parts = ["<h2>Cells to look at</h2>", f"<p>{_prose(shown_caption(report, len(shown)))}</p>"]
    if shown:
        css = {"failed": "failed", "inconclusive": "inconclusive", "closest": ""}
        classes = [css[item.why] for item in shown]
        parts.append(table(SHOWN_HEADERS, shown_rows(shown), classes=classes))
    lines = inconclusive_lines(report.sweep)
    if lines:
        items = "".join(f"<li>{_prose(line)}</li>" for line in lines)
        parts += ["<h2>Inconclusive</h2>", f"<ul>{items}</ul>"]
    return parts


def _full_tables(report: Report) -> list[str]:
    """Every cell of every engine pair, collapsed: the Markdown leaves them to the JSON."""
    parts = ["<h2>Every cell</h2>"]
    for pair in pairs(report.sweep):
        headers, rows = pair_rows(report.sweep, pair)
        parts.append(
            f"<details><summary>{esc(pair)}: {len(rows)} cells</summary>"
            f"{table(headers, rows, 4)}</details>"
        )
    return parts


def render_html(report: Report) -> str:
    sweep = report.sweep
    verdict = sweep.verdict
    summary = headline(report)[2].replace("**", "")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>gradcheck report: {verdict}</title><style>{_STYLE}</style></head><body>",
        f'<h1>gradcheck report <span class="verdict {verdict}">{verdict.upper()}</span></h1>',
        f"<p>{esc(summary)}</p>",
    ]
    for engine, reason in sweep.skipped_engines.items():
        parts.append(f"<p>Skipped engine <code>{esc(engine)}</code>: {esc(reason)}</p>")
    parts += ["<h2>Summary</h2>", table(SUMMARY_HEADERS, pair_summary_rows(sweep), 2)]
    parts += _shown(report)
    parts += _figures(report.images)
    parts += _counterexamples(report)
    parts += _full_tables(report)
    parts += [
        "<h2>Columns</h2>",
        table(["column", "meaning"], [list(column) for column in COLUMNS]),
        "<h2>Run</h2>",
        table(["", ""], run_rows(report)),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
