"""Report writers. Each format has one writer; ``write_report`` writes them atomically."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from gradcheck.io import atomic_write
from gradcheck.report.formats import Writers
from gradcheck.report.html import render_html
from gradcheck.report.json import render_json
from gradcheck.report.junit import render_junit
from gradcheck.report.markdown import render_markdown
from gradcheck.report.model import Counterexample, Image, Report, RunInfo
from gradcheck.runs.sweep import SweepResult

__all__ = [
    "REPORT_WRITERS",
    "Counterexample",
    "Image",
    "Report",
    "RunInfo",
    "as_report",
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


def as_report(result: Report | SweepResult, *, command: str = "run_sweep (Python API)") -> Report:
    """A Report as it is, or what ``run_sweep`` returned, wrapped in one (the run's time is
    the sweep's; pictures and saved counterexamples are ``gradcheck check``'s)."""
    if isinstance(result, Report):
        return result
    if isinstance(result, SweepResult):
        started = datetime.now(UTC).isoformat(timespec="seconds")
        return Report(RunInfo(started, result.seconds, command), result)
    raise TypeError(
        f"write_report takes a Report or what run_sweep returns, not {type(result).__name__}"
    )


def write_report(
    report: Report | SweepResult,
    out_dir: str | Path,
    formats: Sequence[str] = REPORT_WRITERS.formats,
) -> list[Path]:
    """Write each format to ``out_dir``, and the pictures as PNG files beside them; an
    interrupted write leaves the old file intact. ``report`` may be what ``run_sweep``
    returned (``as_report``)."""
    out = Path(out_dir)
    files = report_files(as_report(report), formats)
    return [atomic_write(out / name, data) for name, data in files.items()]
