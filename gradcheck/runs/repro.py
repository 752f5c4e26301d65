"""Reproduction: save a failing case beside the report and say how to re-run exactly it."""

from __future__ import annotations

import shlex
from pathlib import Path

from gradcheck.report.model import Counterexample
from gradcheck.runs.sweep import SweepResult

__all__ = ["example_line", "rerun_command", "save_counterexamples"]


def rerun_command(
    case_file: str | Path, engines: tuple[str, ...], engine_modules: tuple[str, ...] = ()
) -> str:
    """The command that re-runs one saved case with the same engines, a user's included."""
    command = f"gradcheck check --case {shlex.quote(str(case_file))} --engines {','.join(engines)}"
    if engine_modules:
        command += f" --engine-module {shlex.quote(','.join(engine_modules))}"
    return command


def example_line(case_file: str | Path) -> str:
    """A Hypothesis ``@example`` that always runs the saved case first (needs
    ``from hypothesis import example`` and ``from gradcheck.case import Case``)."""
    return f"@example(case=Case.load({str(case_file)!r}))"


def save_counterexamples(sweep: SweepResult, out_dir: str | Path) -> tuple[Counterexample, ...]:
    """Write each cell's minimal failing case to ``out_dir/counterexamples/CELL.npz`` (+ .json)."""
    saved = []
    for cell in sweep.cells:
        if cell.counterexample is None:
            continue
        npz, _ = cell.counterexample.case.save(Path(out_dir) / "counterexamples" / cell.name)
        saved.append(
            Counterexample(
                cell.name,
                str(npz),
                rerun_command(npz, sweep.engines, sweep.config.engine_modules),
                example_line(npz),
            )
        )
    return tuple(saved)
