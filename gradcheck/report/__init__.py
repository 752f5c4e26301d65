"""Report writers. Each format has one writer; ``write_report`` writes them atomically."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gradcheck.io import atomic_write
from gradcheck.report.formats import Writers
from gradcheck.report.html import render_html
from gradcheck.report.json import render_json
from gradcheck.report.junit import render_junit
from gradcheck.report.markdown import render_markdown
from gradcheck.report.model import Counterexample, Image, Report, RunInfo

__all__ = [
    "REPORT_WRITERS",
    "Counterexample",
    "Image",
    "Report",
    "RunInfo",
    "check_formats",
    "report_files",
    "write_report",
]

REPORT_WRITERS: Writers[Report] = Writers(
    "report",
    "report",
    {"md": render_markdown, "json": render_json, "html": render_html, "junit": render_junit},
)


def check_formats(formats: Sequence[str]) -> None:
    """Raise UnknownNameError for a format no writer handles (before any work is done)."""
    REPORT_WRITERS.check(formats)


def report_files(report: Report, formats: Sequence[str]) -> dict[str, str | bytes]:
    """File name → contents: the pictures as PNG files, then each format."""
    files: dict[str, str | bytes] = {image.filename: image.png for image in report.images}
    files.update(REPORT_WRITERS.files(report, formats))
    return files


def write_report(
    report: Report, out_dir: str | Path, formats: Sequence[str] = REPORT_WRITERS.formats
) -> list[Path]:
    """Write each format to ``out_dir``, and the pictures as PNG files beside them; an
    interrupted write leaves the old file intact."""
    out = Path(out_dir)
    return [atomic_write(out / name, data) for name, data in report_files(report, formats).items()]
