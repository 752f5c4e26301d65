"""The HTML writer: one self-contained file. Styles are inline, plots are embedded as PNG
data URIs, and nothing is fetched from the network, so the report opens offline and can be
attached to a CI run as it is. Every string goes through ``report.escape``."""

from __future__ import annotations

from collections.abc import Sequence

from gradcheck.report.escape import html_text as esc
from gradcheck.report.markdown import (
    COLUMNS,
    SUMMARY_HEADERS,
    pair_rows,
    pair_summary_rows,
    precision_settings,
)
from gradcheck.report.model import Image, Report

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
"""


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], failed_column: int = -1) -> str:
    """An escaped HTML table; rows whose ``failed_column`` is not "0" are highlighted."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for row in rows:
        bad = 0 <= failed_column < len(row) and row[failed_column] not in ("0", "-", "")
        cells = "".join(f"<td>{esc(str(c))}</td>" for c in row)
        attribute = ' class="failed"' if bad else ""
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


def render_html(report: Report) -> str:
    sweep, run, config = report.sweep, report.run, report.sweep.config
    verdict = sweep.verdict
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>gradcheck report: {verdict}</title><style>{_STYLE}</style></head><body>",
        f'<h1>gradcheck report <span class="verdict {verdict}">{verdict.upper()}</span></h1>',
        f"<p>{sweep.examples} examples in {len(sweep.cells)} cells (hidden activation × loss × "
        f"dtype), engines {esc(', '.join(sweep.engines))}, seed {config.seed}, "
        f"{run.seconds:.1f} s.</p>",
    ]
    for engine, reason in sweep.skipped_engines.items():
        parts.append(f"<p>Skipped engine <code>{esc(engine)}</code>: {esc(reason)}</p>")
    parts += ["<h2>Summary</h2>", table(SUMMARY_HEADERS, pair_summary_rows(sweep), 2)]
    parts += _figures(report.images)
    for pair in (p.pair for p in sweep.cells[0].pairs) if sweep.cells else ():
        headers, rows = pair_rows(sweep, pair)
        parts += [f"<h2>{esc(pair)}</h2>", table(headers, rows, 4)]
    parts += _counterexamples(report)
    meta = [["command", run.command], ["started", run.started], ["platform", run.platform]]
    meta += [[name, version] for name, version in run.versions.items()]
    meta += [[f"precision ({e}, {d})", t] for (e, d), t in precision_settings(sweep).items()]
    columns = [line.strip("|").split("|", 1) for line in COLUMNS.splitlines()[2:] if line]
    parts += [
        "<h2>Run</h2>",
        table(["", ""], meta),
        "<h2>Columns</h2>",
        table(
            ["column", "meaning"], [[c[0].strip(), c[1].strip().replace("\\", "")] for c in columns]
        ),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
