"""Writers for a pytest session's gradient checks (``testing.session.SessionResults``).

Markdown (for a CI job summary), JSON (``gradcheck.session/1``), JUnit XML (one testcase per
test that checked gradients, its failure naming the tensor, index and values) and one
self-contained HTML page; plus the lines of the terminal summary. They format, never compute.
"""

from __future__ import annotations

import html
import json
import math
import platform
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tabulate import tabulate

from gradcheck._version import __version__
from gradcheck.errors import UnknownNameError
from gradcheck.report.formats import Writers
from gradcheck.report.html import table
from gradcheck.testing.session import CheckSummary, SessionResults, TestChecks

__all__ = [
    "SESSION_SCHEMA",
    "SESSION_WRITERS",
    "check_session_formats",
    "render_session_html",
    "render_session_json",
    "render_session_junit",
    "render_session_markdown",
    "session_rows",
    "terminal_lines",
    "write_session_report",
]

SESSION_SCHEMA = "gradcheck.session/1"
HEADERS = [
    "test",
    "outcome",
    "checks",
    "passed",
    "failed",
    "worst entry",
    "rel. error",
    "× tolerance",
]


def _sci(x: float) -> str:
    return f"{x:.2e}"


def session_rows(tests: Sequence[TestChecks]) -> list[list[str]]:
    """One row per test: counts, and its failure or else its nearest miss (tensor[index],
    relative error, the share of the tolerance it used)."""
    rows = []
    for t in tests:
        worst = t.shown
        rows.append(
            [
                t.test,
                t.outcome or "-",
                str(t.checks),
                str(t.passed),
                str(t.failed),
                worst.where if worst else "-",
                _sci(worst.rel_err) if worst else "-",
                f"{worst.ratio:.3g}" if worst else "-",
            ]
        )
    return rows


def _headline(results: SessionResults) -> str:
    failing = len(results.failing_tests)
    return (
        f"{results.checks} gradient checks in {len(results.tests)} tests: {results.passed} passed, "
        f"{results.failed} failed{_expected(results)}, {results.inconclusive} inconclusive; "
        f"{failing} test{'s' if failing != 1 else ''} failed on a gradient"
    )


def _expected(results: SessionResults) -> str:
    """How many failed checks the tests expected (pytest.raises, xfail, an asserted verdict):
    a red number in a green run, explained."""
    expected, failed = results.failed_expected, results.failed
    if not failed:
        return ""
    if expected == failed:
        return f" (all {failed} expected by their tests: pytest.raises, xfail, an asserted verdict)"
    return f" ({failed - expected} unexpected, {expected} expected by their tests)"


def _failure_lines(check: CheckSummary) -> list[str]:
    lines = [f"{check.label} ({check.kind}, {check.detail})"]
    lines.extend(f"  {t.describe()}" for t in check.tensors if t.verdict == "fail")
    lines.extend(f"  note: {n}" for n in check.notes)
    return lines


def _baseline_lines(results: SessionResults) -> list[str]:
    if results.baseline is None:
        return []
    lines = [f"baseline: {results.baseline}"]
    if results.baseline_recorded:
        lines.append(f"  recorded {len(results.baseline_recorded)} checks")
    if results.baseline_unrecorded:
        lines.append(
            f"  {len(results.baseline_unrecorded)} checks have no recorded gradients "
            "(record them with --gradcheck-baseline-update)"
        )
    return lines


def render_session_markdown(results: SessionResults) -> str:
    verdict = "✅ pass" if results.verdict == "pass" else "❌ fail"
    lines = [
        f"# gradcheck session report: {verdict}",
        "",
        _headline(results) + ".",
        "",
        f"`{results.command}` · started {results.started} · {results.seconds:.1f} s · "
        f"gradcheck {__version__} · Python {platform.python_version()}",
        "",
        tabulate(
            session_rows(results.ranked()),
            headers=HEADERS,
            tablefmt="github",
            disable_numparse=True,
        ),
        "",
    ]
    failing = results.failing_tests
    if failing:
        lines += ["## Failing gradients", ""]
        for t in failing:
            check = t.last_failure
            assert check is not None
            lines += [f"### `{t.test}`", "", "```", *_failure_lines(check), "```", ""]
    lines += [f"- {line}" for line in _baseline_lines(results)]
    return "\n".join(lines).rstrip() + "\n"


def session_data(results: SessionResults) -> dict[str, Any]:
    return {
        "schema": SESSION_SCHEMA,
        "verdict": results.verdict,
        "started": results.started,
        "seconds": results.seconds,
        "command": results.command,
        "versions": {"gradcheck": __version__, "python": platform.python_version()},
        "totals": {
            "tests": len(results.tests),
            "checks": results.checks,
            "passed": results.passed,
            "failed": results.failed,
            "inconclusive": results.inconclusive,
            "failing_tests": len(results.failing_tests),
        },
        "tests": [asdict(t) for t in results.tests],
        "baseline": {
            "path": results.baseline,
            "recorded": results.baseline_recorded,
            "unrecorded": results.baseline_unrecorded,
        },
    }


def _finite(value: Any) -> Any:
    """JSON has no NaN or Infinity: they are written as strings."""
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def render_session_json(results: SessionResults) -> str:
    return json.dumps(_finite(session_data(results)), indent=1, allow_nan=False) + "\n"


def render_session_junit(results: SessionResults) -> str:
    suite = ET.Element(
        "testsuite", name="gradcheck", timestamp=results.started, time=f"{results.seconds:.3f}"
    )
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", name="gradcheck.version", value=__version__)
    ET.SubElement(properties, "property", name="gradcheck.checks", value=str(results.checks))
    failures = 0
    for t in results.tests:
        classname, _, name = t.test.rpartition("::")
        case = ET.SubElement(suite, "testcase", classname=classname or "gradcheck", name=name)
        props = ET.SubElement(case, "properties")
        for key, value in (("checks", t.checks), ("failed", t.failed)):
            ET.SubElement(props, "property", name=f"gradcheck.{key}", value=str(value))
        if t.shown is not None:
            ET.SubElement(props, "property", name="gradcheck.worst", value=t.shown.describe())
        check = t.last_failure
        if t.outcome == "failed" and check is not None:
            failures += 1
            bad = [x for x in check.tensors if x.verdict == "fail"]
            message = bad[0].describe() if bad else f"{check.label} failed"
            failure = ET.SubElement(case, "failure", message=message, type="GradientMismatch")
            failure.text = "\n".join(_failure_lines(check))
    suite.set("tests", str(len(results.tests)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", "0")
    ET.indent(suite)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"
    )


def render_session_html(results: SessionResults) -> str:
    esc = html.escape
    failing = []
    for t in results.failing_tests:
        check = t.last_failure
        if check is not None:
            text = esc("\n".join(_failure_lines(check)))
            failing.append(f"<h3><code>{esc(t.test)}</code></h3><pre>{text}</pre>")
    baseline = "".join(f"<li>{esc(line)}</li>" for line in _baseline_lines(results))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>gradcheck session: {esc(results.verdict)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; padding: 0 1em; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }}
th, td {{ border: 1px solid #d0d7de; padding: 3px 8px; text-align: left; }}
th {{ background: #f6f8fa; }} tr.failed td {{ background: #ffebe9; }}
pre {{ background: #f6f8fa; padding: 0.6em; overflow-x: auto; }}
</style></head><body>
<h1>gradcheck session report: {esc(results.verdict)}</h1>
<p>{esc(_headline(results))}.</p>
<p><code>{esc(results.command)}</code> · started {esc(results.started)} ·
{results.seconds:.1f} s · gradcheck {esc(__version__)}</p>
{table(HEADERS, session_rows(results.ranked()), failed_column=4)}
{"<h2>Failing gradients</h2>" + "".join(failing) if failing else ""}
{f"<ul>{baseline}</ul>" if baseline else ""}
</body></html>
"""


SESSION_WRITERS: Writers[SessionResults] = Writers(
    "session report",
    "report",
    {
        "md": render_session_markdown,
        "json": render_session_json,
        "junit": render_session_junit,
        "html": render_session_html,
    },
)


def check_session_formats(formats: Sequence[str]) -> None:
    if not formats:
        known = ", ".join(SESSION_WRITERS.formats)
        raise UnknownNameError(f"no session report format given (known: {known})")
    SESSION_WRITERS.check(formats)


def write_session_report(
    results: SessionResults,
    out_dir: str | Path,
    formats: Sequence[str] = SESSION_WRITERS.formats,
) -> list[Path]:
    """Write each format into ``out_dir``, each file atomically."""
    check_session_formats(formats)
    return SESSION_WRITERS.write(results, out_dir, formats)


def _short(test: str, width: int = 64) -> str:
    return test if len(test) <= width else "…" + test[-(width - 1) :]


def terminal_lines(results: SessionResults, limit: int, written: Sequence[str]) -> list[str]:
    """The terminal summary: the headline, the ``limit`` most telling tests, the report."""
    if not results.tests and results.baseline is None and not written:
        return []
    lines = [_headline(results)]
    if limit > 0 and results.tests:
        ranked = results.ranked()
        rows = [[_short(row[0]), *row[1:]] for row in session_rows(ranked[:limit])]
        lines += tabulate(rows, headers=HEADERS, tablefmt="simple", disable_numparse=True).split(
            "\n"
        )
        if len(ranked) > limit:
            lines.append(f"... {len(ranked) - limit} more tests in the session report")
    lines += _baseline_lines(results)
    lines += [f"report: {path}" for path in written]
    return lines
