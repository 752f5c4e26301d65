"""The JUnit XML writer: one testcase per check, so CI systems show failures natively.

A check is one engine pair in one cell (hidden activation × loss × dtype). A failing check's
message names the tensor, the index, both values, the error, the error bar and what was
allowed; its body adds the minimal case (spec, dtype, seed), the precision settings and the
commands that reproduce it. A pair that could not run (an engine not installed) is skipped.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from gradcheck.report.markdown import precision_settings
from gradcheck.report.model import Report

__all__ = ["render_junit"]


def render_junit(report: Report) -> str:
    sweep = report.sweep
    suite = ET.Element(
        "testsuite",
        name="gradcheck",
        timestamp=report.run.started,
        time=f"{report.run.seconds:.3f}",
    )
    properties = ET.SubElement(suite, "properties")
    for name, version in report.run.versions.items():
        ET.SubElement(properties, "property", name=f"version.{name}", value=version)
    for (engine, dtype), text in precision_settings(sweep).items():
        ET.SubElement(properties, "property", name=f"precision.{engine}.{dtype}", value=text)
    ET.SubElement(properties, "property", name="seed", value=str(sweep.config.seed))
    repro = {c.cell: c for c in report.counterexamples}
    tests = failures = skipped = 0
    for cell in sweep.cells:
        for pair in cell.pairs:
            tests += 1
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"gradcheck.{cell.name}",
                name=pair.pair,
                time=f"{sum(cell.engine_seconds.values()):.3f}",
            )
            if pair.examples == 0:
                skipped += 1
                ET.SubElement(case, "skipped", message="no example ran for this pair")
                continue
            if not pair.failed:
                continue
            failures += 1
            record = pair.worst
            message = record.describe() if record is not None else f"{pair.pair} failed"
            lines = [f"{pair.pair}: {message}", f"cell {cell.name}, seed {sweep.config.seed}"]
            if cell.counterexample is not None:
                lines.append(f"minimal case: {cell.counterexample.case.describe()}")
                lines += [f"  {r.pair}: {r.describe()}" for r in cell.counterexample.failures]
            if cell.name in repro:
                lines += [f"re-run: {repro[cell.name].command}", repro[cell.name].example]
            failure = ET.SubElement(case, "failure", message=message, type="GradientMismatch")
            failure.text = "\n".join(lines)
    for engine, reason in sweep.skipped_engines.items():
        tests += 1
        skipped += 1
        case = ET.SubElement(suite, "testcase", classname="gradcheck.engines", name=engine)
        ET.SubElement(case, "skipped", message=reason)
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", str(skipped))
    ET.indent(suite)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"
    )
