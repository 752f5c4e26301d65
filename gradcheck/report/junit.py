"""The JUnit XML writer: one testcase per check, so CI systems show failures natively.

A check is one engine pair in one cell (hidden activation × loss × dtype). A failing check's
message names the tensor, the index, both values, the error, the error bar and what was
allowed; its body adds the minimal case (spec, dtype, seed), the precision settings and the
commands that reproduce it. A pair that could not run (an engine not installed) is skipped.
Every string is cleaned (``report.escape``), so the document is valid XML whatever it holds.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from gradcheck.report.escape import xml_document
from gradcheck.report.model import Counterexample, Report
from gradcheck.report.sweep_rows import precision_settings
from gradcheck.runs.sweep import CellResult, PairSummary

__all__ = ["render_junit"]


def render_junit(report: Report) -> str:
    suite = ET.Element(
        "testsuite",
        name="gradcheck",
        timestamp=report.run.started,
        time=f"{report.run.seconds:.3f}",
    )
    _properties(ET.SubElement(suite, "properties"), report)
    repro = {c.cell: c for c in report.counterexamples}
    for cell in report.sweep.cells:
        for pair in cell.pairs:
            _pair_case(suite, cell, pair, report.sweep.config.seed, repro.get(cell.name))
    for engine, reason in report.sweep.skipped_engines.items():
        case = ET.SubElement(suite, "testcase", classname="gradcheck.engines", name=engine)
        ET.SubElement(case, "skipped", message=reason)
    suite.set("tests", str(len(suite.findall("testcase"))))
    suite.set("failures", str(len(suite.findall("testcase/failure"))))
    suite.set("errors", "0")
    suite.set("skipped", str(len(suite.findall("testcase/skipped"))))
    return xml_document(suite)


def _properties(properties: ET.Element, report: Report) -> None:
    """Library versions, each reference engine's precision settings, and the seed."""
    for name, version in report.run.versions.items():
        ET.SubElement(properties, "property", name=f"version.{name}", value=version)
    for (engine, dtype), text in precision_settings(report.sweep).items():
        ET.SubElement(properties, "property", name=f"precision.{engine}.{dtype}", value=text)
    ET.SubElement(properties, "property", name="seed", value=str(report.sweep.config.seed))


def _pair_case(
    suite: ET.Element,
    cell: CellResult,
    pair: PairSummary,
    seed: int,
    saved: Counterexample | None,
) -> None:
    """The testcase of one engine pair in one cell: skipped when no example ran, failed when
    any example failed."""
    case = ET.SubElement(
        suite,
        "testcase",
        classname=f"gradcheck.{cell.name}",
        name=pair.pair,
        time=f"{sum(cell.engine_seconds.values()):.3f}",
    )
    if pair.examples == 0:
        ET.SubElement(case, "skipped", message="no example ran for this pair")
    elif pair.failed:
        message = pair.worst.describe() if pair.worst is not None else f"{pair.pair} failed"
        failure = ET.SubElement(case, "failure", message=message, type="GradientMismatch")
        failure.text = "\n".join(_failure_lines(cell, pair, message, seed, saved))


def _failure_lines(
    cell: CellResult, pair: PairSummary, message: str, seed: int, saved: Counterexample | None
) -> list[str]:
    """The failure's body: the pair's worst entry, the cell's minimal case and its failing
    records, and how to re-run it when it was saved."""
    lines = [f"{pair.pair}: {message}", f"cell {cell.name}, seed {seed}"]
    if cell.counterexample is not None:
        lines.append(f"minimal case: {cell.counterexample.case.describe()}")
        lines += [f"  {r.pair}: {r.describe()}" for r in cell.counterexample.failures]
    if saved is not None:
        lines += [f"re-run: {saved.command}", saved.example]
    return lines
