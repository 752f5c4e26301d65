"""Report writers: parse what they wrote. JSON round-trips, Markdown tables are well formed,
writes are atomic."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gradcheck.io import atomic_write_text
from gradcheck.report import Report, RunInfo, write_report
from gradcheck.report.markdown import render_markdown
from gradcheck.report.model import DEFAULT_TOP, SCHEMA_VERSION
from gradcheck.runs.repro import save_counterexamples
from gradcheck.runs.sweep import SweepConfig, SweepResult, run_sweep
from tests.mutants import mutant


@pytest.fixture(scope="module")
def sweep() -> SweepResult:
    config = SweepConfig(
        engines=("core", "fd"), examples=2, dtypes=("float64",), activations=("tanh", "relu"),
        losses=("mse", "softmax_ce"), max_depth=3, max_width=4,
    )  # fmt: skip
    return run_sweep(config)


def _report(sweep: SweepResult, counterexamples=()) -> Report:  # type: ignore[no-untyped-def]
    return Report(
        RunInfo("2026-01-01T00:00:00+00:00", 1.5, "gradcheck check"), sweep, counterexamples
    )


def _tables(markdown: str) -> list[list[str]]:
    """Consecutive lines starting with '|' form a table."""
    tables, current = [], []
    for line in markdown.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    return tables + ([current] if current else [])


def test_markdown_tables_are_well_formed(sweep: SweepResult) -> None:
    text = render_markdown(_report(sweep))
    assert "**PASS**" in text and "## Summary" in text and "## Cells to look at" in text
    for table in _tables(text):
        widths = {line.count("|") - line.count("\\|") for line in table}
        assert len(widths) == 1, table
        assert set(table[1]) <= set("|-: ")  # the header separator row
    shown = _tables(text.split("## Cells to look at")[1])[0]
    assert len(shown) == 2 + min(DEFAULT_TOP, sum(len(c.pairs) for c in sweep.cells))


def test_json_round_trips_with_schema_version(sweep: SweepResult, tmp_path: Path) -> None:
    paths = write_report(_report(sweep), tmp_path)
    assert sorted(p.name for p in paths) == [
        "report.html",
        "report.json",
        "report.junit.xml",
        "report.md",
    ]
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["schema_version"] == SCHEMA_VERSION == 3 and data["verdict"] == "pass"
    assert len(data["sweep"]["cells"]) == len(sweep.cells)
    cell = data["sweep"]["cells"][0]
    assert {"dtype", "hidden", "loss", "examples", "pairs", "verdict"} <= set(cell)
    worst = cell["pairs"][0]["worst"]
    assert {"tensor", "index", "value_a", "value_b", "abs_err", "rel_err", "error_bar"} <= set(
        worst
    )
    assert data["run"]["versions"]["numpy"]


def test_failing_sweep_reports_and_saves_a_reproducible_counterexample(tmp_path: Path) -> None:
    engine = mutant("sign_flip")
    config = SweepConfig(engines=("core",), examples=3, dtypes=("float64",), activations=("tanh",),
                         losses=("mse",), max_depth=2, max_width=3)  # fmt: skip
    from gradcheck.runs.sweep import run_cell

    cell = run_cell(config, ("float64", "tanh", "mse"), ["core", engine])  # type: ignore[list-item]
    assert cell.verdict == "fail" and cell.counterexample is not None
    sweep = SweepResult(config, (cell,), ("core", engine.name))
    saved = save_counterexamples(sweep, tmp_path)
    assert Path(saved[0].case_file).is_file() and "gradcheck check --case" in saved[0].command
    text = render_markdown(_report(sweep, saved))
    assert "**FAIL**" in text and "Minimal case" in text and saved[0].command in text


def test_atomic_write_keeps_the_old_file_when_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.md"
    atomic_write_text(target, "old report")

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_text(target, "new report")
    assert target.read_text() == "old report"
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left behind


def test_atomic_write_gives_the_file_the_mode_a_plain_open_would(tmp_path: Path) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    written = atomic_write_text(tmp_path / "report.md", "x")
    assert written.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777
