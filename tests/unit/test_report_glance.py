"""A report that reads at a glance: the cells it shows, the errors at ``where``, the drawn
network on every row, why an example was inconclusive, the HTML holding everything the
Markdown does, and ``write_report`` taking what ``run_sweep`` returns."""

from __future__ import annotations

import dataclasses
import html
import json
import re
from pathlib import Path

import numpy as np
import pytest

from gradcheck.case import UNIFORM_DRAWS, Case, draw_case
from gradcheck.check import check_case
from gradcheck.nn.spec import NetworkSpec
from gradcheck.report import Report, RunInfo, write_report
from gradcheck.report.html import render_html
from gradcheck.report.markdown import render_markdown
from gradcheck.report.sweep_rows import inconclusive_lines, shown_cells, shown_rows
from gradcheck.runs.inconclusive import inconclusive_example, kinked_units
from gradcheck.runs.sweep import SweepConfig, SweepResult, run_cell, run_sweep
from tests.mutants import mutant


@pytest.fixture(scope="module")
def failing() -> SweepResult:
    """Four cells, three engine pairs, one a planted bug (the derivative taken at the
    activation's output): its pairs fail, core vs fd passes at various distances from its
    tolerance."""
    config = SweepConfig(
        engines=("core", "fd"), examples=3, dtypes=("float64",),
        activations=("tanh", "softplus"), losses=("mse", "huber"), max_depth=3, max_width=4,
    )  # fmt: skip
    engines = ["core", "fd", mutant("derivative_at_a")]
    cells = tuple(run_cell(config, cell, engines) for cell in config.cells())
    return SweepResult(config, cells, ("core", "fd", "mutant:derivative_at_a"))


def _with_inconclusive(sweep: SweepResult) -> SweepResult:
    """The sweep with one passing (cell, pair) given an inconclusive example, as the sweep
    records one: the example's case and tensors, and why."""
    cell = sweep.cells[0]
    index, pair = next((i, p) for i, p in enumerate(cell.pairs) if not p.failed)
    assert pair.worst is not None
    case = _case(NetworkSpec((3, 4, 2), hidden="tanh", output="leaky_relu"))
    record = dataclasses.replace(pair.worst, verdict="inconclusive")
    example = inconclusive_example(1, case, [record])
    assert example is not None
    pairs = list(cell.pairs)
    pairs[index] = dataclasses.replace(pair, inconclusive=(example,))
    cells = (dataclasses.replace(cell, pairs=tuple(pairs)), *sweep.cells[1:])
    return dataclasses.replace(sweep, cells=cells)


def _case(spec: NetworkSpec) -> Case:
    return draw_case(spec, np.random.default_rng(0), batch=2, draws=UNIFORM_DRAWS)


def _report(sweep: SweepResult, top: int = 10) -> Report:
    return Report(RunInfo("2026-01-01T00:00:00+00:00", 1.0, "gradcheck check"), sweep, top=top)


@pytest.mark.parametrize("top", [0, 1, 2, 5, 40])
def test_the_report_shows_failures_inconclusives_and_the_closest_top(
    failing: SweepResult, top: int
) -> None:
    sweep = _with_inconclusive(failing)
    everything = [(c, p) for c in sweep.cells for p in c.pairs]
    shown = shown_cells(sweep, top)
    failed = [s for s in shown if s.why == "failed"]
    undecided = [s for s in shown if s.why == "inconclusive"]
    closest = [s for s in shown if s.why == "closest"]
    assert len(failed) == sum(1 for _, p in everything if p.failed) > 0
    assert len(undecided) == 1
    passing = [p for _, p in everything if not p.failed and not p.inconclusive]
    assert len(closest) == min(top, len(passing))
    hidden = [p for p in passing if all(p is not s.pair for s in closest)]
    ratio = lambda p: p.worst.ratio if p.worst else -1.0  # noqa: E731
    if closest and hidden:
        assert min(ratio(s.pair) for s in closest) >= max(ratio(p) for p in hidden)
    assert [s.why for s in shown] == sorted((s.why for s in shown), key=["failed",
            "inconclusive", "closest"].index)  # fmt: skip


def test_every_shown_row_names_the_network_drawn_and_the_errors_at_where(
    failing: SweepResult,
) -> None:
    shown = shown_cells(failing, 40)
    for item, row in zip(shown, shown_rows(shown), strict=True):
        record = item.pair.worst
        assert record is not None
        assert row[-1] == item.pair.worst_case and " output=" in row[-1] and " batch=" in row[-1]
        diff = abs(record.value_a - record.value_b)
        assert float(row[4]) == pytest.approx(diff, rel=5e-3, abs=1e-300)
        assert row[6] == (record.entry if record.index else record.tensor)


def test_an_inconclusive_example_says_which_tensors_and_why() -> None:
    kinked = _case(NetworkSpec((3, 4, 2), hidden="tanh", output="leaky_relu", dtype="float32"))
    assert kinked_units(kinked) == ("leaky_relu (output)",)
    assert kinked_units(_case(NetworkSpec((3, 4, 2), hidden="tanh", output="identity"))) == ()
    relu = _case(NetworkSpec((3, 4, 4, 2), hidden="relu", output="relu"))
    assert kinked_units(relu) == ("relu (hidden)", "relu (output)")
    records = check_case(kinked, ["core", "fd"]).records
    assert inconclusive_example(0, kinked, records) is None  # every tensor was compared
    marked = [dataclasses.replace(records[1], verdict="inconclusive"), *records[2:]]
    example = inconclusive_example(3, kinked, marked)
    assert example is not None and example.tensors == (records[1].tensor,)
    assert "leaky_relu (output)" in example.why and "float32" in example.why
    assert example.to_text().startswith(f"{records[1].tensor} in example 3 (`{kinked.describe()}`)")


def test_the_html_carries_everything_the_markdown_does(failing: SweepResult) -> None:
    report = _report(_with_inconclusive(failing))
    markdown, page = render_markdown(report), html.unescape(render_html(report))
    for line in inconclusive_lines(report.sweep):
        assert line.replace("`", "") in re.sub("</?code>", "", page)
    sections = [line[3:] for line in markdown.splitlines() if line.startswith("## ")]
    assert sections and all(f"<h2>{name}</h2>" in page for name in sections)
    cells = {
        cell.strip().replace("\\|", "|")
        for line in markdown.splitlines()
        if line.startswith("|") and not set(line) <= set("|-: ")
        for cell in line.strip("|").split(" | ")
    }
    missing = {c for c in cells if c and f">{c}<" not in page}
    assert not missing
    assert "tolerance (float64, analytic pairs)" in page and "<details>" in page


def test_write_report_takes_what_run_sweep_returns(tmp_path: Path) -> None:
    config = SweepConfig(
        engines=("core", "fd"), examples=2, dtypes=("float64",), activations=("tanh",),
        losses=("mse",), max_depth=2, max_width=3,
    )  # fmt: skip
    sweep = run_sweep(config)
    paths = write_report(sweep, tmp_path, ["md", "json", "html"])
    assert {p.name for p in paths} == {"report.md", "report.json", "report.html"}
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["verdict"] == "pass" and data["run"]["seconds"] == sweep.seconds > 0
    with pytest.raises(TypeError, match="Report or what run_sweep returns"):
        write_report({"not": "a report"}, tmp_path)  # type: ignore[arg-type]
