"""A sweep run, published: the sweep, its counterexamples, its pictures and its report files.

``publish_sweep`` is what ``gradcheck check`` does after parsing: run the sweep, save each
cell's minimal failing case into a new run folder, draw the pictures, write every chosen
format, and point ``OUT/latest`` at the folder once everything is in it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gradcheck.report import Report, RunInfo, check_formats, report_files
from gradcheck.report.folders import Published, publish_run, run_folder
from gradcheck.report.markdown import render_markdown
from gradcheck.report.model import DEFAULT_TOP
from gradcheck.report.plots import report_images
from gradcheck.runs.executors import Tasks
from gradcheck.runs.repro import save_counterexamples
from gradcheck.runs.sweep import SweepConfig, run_sweep

__all__ = ["PublishedSweep", "publish_sweep"]


@dataclass(frozen=True)
class PublishedSweep:
    report: Report
    published: Published


def publish_sweep(
    config: SweepConfig,
    out: str | Path,
    formats: Sequence[str],
    *,
    command: str,
    strict_engines: bool = True,
    jobs: int = 1,
    executor: str = "local",
    scheduler: str | None = None,
    on_example: Callable[[], None] | None = None,
    on_tasks: Callable[[Tasks], None] | None = None,
    top: int = DEFAULT_TOP,
) -> PublishedSweep:
    """Run ``config`` and publish its report under ``out`` (see the module docstring). The
    names and formats are validated before any work is done."""
    config.cells()
    check_formats(formats)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    start = time.perf_counter()
    sweep = run_sweep(
        config,
        strict_engines=strict_engines,
        on_example=on_example,
        jobs=jobs,
        executor=executor,
        scheduler=scheduler,
        on_tasks=on_tasks,
    )
    run = RunInfo(started, time.perf_counter() - start, command)
    folder = run_folder(out)
    counterexamples = save_counterexamples(sweep, folder)
    report = Report(run, sweep, counterexamples, images=report_images(sweep), top=top)
    summary = render_markdown(report) if "md" in formats else None
    published = publish_run(out, report_files(report, formats), step_summary=summary, folder=folder)
    return PublishedSweep(report, published)
