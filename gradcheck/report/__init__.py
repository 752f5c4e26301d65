"""Report writers. Each format has one writer; ``write_report`` writes them atomically."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from gradcheck.errors import UnknownNameError
from gradcheck.io import atomic_write_bytes, atomic_write_text
from gradcheck.report.html import render_html
from gradcheck.report.json import render_json
from gradcheck.report.junit import render_junit
from gradcheck.report.markdown import render_markdown
from gradcheck.report.model import Counterexample, Image, Report, RunInfo

__all__ = [
    "FORMATS",
    "Counterexample",
    "Image",
    "Report",
    "RunInfo",
    "check_formats",
    "write_report",
]

FORMATS: dict[str, tuple[str, Callable[[Report], str]]] = {
    "md": ("report.md", render_markdown),
    "json": ("report.json", render_json),
    "html": ("report.html", render_html),
    "junit": ("report.junit.xml", render_junit),
}


def check_formats(formats: Sequence[str]) -> None:
    """Raise UnknownNameError for a format no writer handles (before any work is done)."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        known = ", ".join(FORMATS)
        raise UnknownNameError(f"unknown report format {unknown[0]!r} (known: {known})")


def write_report(
    report: Report, out_dir: str | Path, formats: Sequence[str] = tuple(FORMATS)
) -> list[Path]:
    """Write each format to ``out_dir``, and the pictures as PNG files beside them; an
    interrupted write leaves the old file intact."""
    check_formats(formats)
    paths = [atomic_write_bytes(Path(out_dir) / i.filename, i.png) for i in report.images]
    for fmt in formats:
        filename, render = FORMATS[fmt]
        paths.append(atomic_write_text(Path(out_dir) / filename, render(report)))
    return paths
