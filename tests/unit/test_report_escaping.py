"""Every writer stays valid for any string a submission can produce: a lone surrogate, NUL,
an ANSI sequence, a spreadsheet formula, ``<script>`` and ``"]]>``. Each output is parsed
the way its reader would parse it; student feedback carries only a short excerpt."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pytest

from gradcheck.report import Report, RunInfo
from gradcheck.report.escape import EXCERPT_CHARS, clean, csv_cell, excerpt, markdown_cell
from gradcheck.report.gradescope import render_gradescope
from gradcheck.report.grading import class_writers, summary_rows
from gradcheck.report.html import render_html
from gradcheck.report.junit import render_junit
from gradcheck.report.submission import SUBMISSION_WRITERS
from gradcheck.runs.sweep import SweepConfig, SweepResult, run_sweep

HOSTILE = ["\ud800", "\x00", "\x1b[31m", "=cmd|' /C calc'!A0", "<script>alert(1)</script>", '"]]>']
EVIL = "".join(HOSTILE)
# What no output may hold as it is: NUL, ESC, a lone surrogate (they would break XML, act on a
# terminal, fail to encode as UTF-8).
RAW = ("\x00", "\x1b", "\ud800")


def _check(name: str, message: str, status: str = "fail") -> dict[str, Any]:
    return {
        "check": name,
        "status": status,
        "examples": 3,
        "labels": [EVIL],
        "diagnoses": [{"label": EVIL, "detail": EVIL}],
        "message": message,
        "records": [
            {
                "tensor": EVIL,
                "index": [0, 1],
                "value": 1.0,
                "expected": -1.0,
                "abs_err": 2.0,
                "allowed": 1e-6,
                "verdict": "fail",
            }
        ],
    }


def _record(ident: str) -> dict[str, Any]:
    return {
        "id": ident,
        "verdict": "fail",
        "labels": HOSTILE,
        "message": f"FAIL: {EVIL}\n  crash: {EVIL}\n```\n{EVIL}",
        "checks": [_check(EVIL, EVIL), _check("backward", "", "error")],
        "counterexample": {
            "check": "backprop",
            "description": EVIL,
            "inputs": {EVIL: [EVIL]},
            "reproduce": f"print({EVIL!r})",
        },
        "score": 0.0,
        "max_score": 2.0,
        "assignment": EVIL,
        "notes": HOSTILE,
        "seconds": 0.5,
    }


RECORDS = [_record(EVIL), _record("-1+1"), _record("@SUM(A1)"), _record("\tx"), _record("\rx")]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.tags.append(tag)


def _no_raw_characters(text: str) -> None:
    text.encode("utf-8")  # what atomic_write_text does: a lone surrogate would raise here
    for raw in RAW:
        assert raw not in text, repr(raw)


def _valid_html(text: str) -> None:
    parser = _Tags()
    parser.feed(text)
    assert "script" not in parser.tags and "<script>" not in text


def _valid_markdown(text: str) -> None:
    """No HTML outside a code block (inside one it is text), one column count per table."""
    tables: list[list[str]] = [[]]
    fence = ""
    for line in text.splitlines():
        if fence or (line.startswith("```") and set(line) == {"`"}):
            fence = "" if line == fence else fence or line
        elif "<" in line:
            raise AssertionError(f"raw HTML in Markdown: {line!r}")
        elif line.startswith("|"):
            tables[-1].append(line)
        elif tables[-1]:
            tables.append([])
    for table in filter(None, tables):  # a cell's | is escaped: one column count per table
        assert len({line.count("|") - line.count("\\|") for line in table}) == 1, table


def _valid_csv(text: str) -> None:
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 1 + len(RECORDS)
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def _strings(data: Any) -> list[str]:
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [s for k, v in data.items() for s in [k, *_strings(v)]]
    if isinstance(data, list):
        return [s for v in data for s in _strings(v)]
    return []


def _valid_json(text: str) -> None:
    for string in _strings(json.loads(text)):
        _no_raw_characters(string)  # a strict parser (serde, Go) rejects a lone surrogate


def _valid_junit(text: str) -> None:
    root = ET.fromstring(text.encode("utf-8"))
    assert root.iter("testcase")


VALID: dict[str, Callable[[str], None]] = {
    "md": _valid_markdown,
    "html": _valid_html,
    "json": _valid_json,
    "junit": _valid_junit,
    "csv": _valid_csv,
    "gradebook": _valid_csv,
    "gradescope": _valid_json,
    "prairielearn": _valid_json,
}


@pytest.mark.parametrize("fmt", sorted(class_writers(EVIL).render))
def test_class_report_formats_hold_any_string(fmt: str) -> None:
    text = class_writers(EVIL).render[fmt](RECORDS)
    _no_raw_characters(text)
    VALID[fmt](text)


@pytest.mark.parametrize("fmt", sorted(SUBMISSION_WRITERS.render))
def test_submission_report_formats_hold_any_string(fmt: str) -> None:
    text = SUBMISSION_WRITERS.render[fmt](RECORDS[0])
    _no_raw_characters(text)
    if fmt != "csv":
        VALID[fmt](text)


def test_markdown_message_cannot_close_its_code_fence() -> None:
    text = SUBMISSION_WRITERS.render["md"](RECORDS[0])
    fence = text.split("\n")[4]
    assert set(fence) == {"`"} and len(fence) > 3
    assert text.count(fence) == 2


def test_gradescope_document_holds_any_string() -> None:
    for record in RECORDS:
        text = render_gradescope(record)
        _no_raw_characters(text)
        _valid_json(text)


def test_terminal_rows_hold_no_control_characters() -> None:
    for row in summary_rows(RECORDS):
        for cell in row:
            _no_raw_characters(cell)
            assert "\n" not in cell and "\r" not in cell


def test_csv_neutralises_formulas_and_keeps_numbers() -> None:
    assert csv_cell("=1+2") == "'=1+2" and csv_cell("@A1") == "'@A1"
    assert csv_cell("\t=1") == "'\t=1" and csv_cell("\r=1") == "'\\x0d=1"
    assert csv_cell(-1.5) == -1.5 and csv_cell("alice") == "alice"


def test_clean_leaves_ordinary_text_alone_and_writes_the_rest_visibly() -> None:
    assert clean("σ′(z)\ttab\nline") == "σ′(z)\ttab\nline"
    assert clean("a\x1b[31mb\x00\ud800\u202e") == "a\\x1b[31mb\\x00\\ud800\\u202e"
    assert markdown_cell("a|b\n<i>") == "a\\|b &lt;i&gt;"


# A message of 3,000 characters whose bulk is a fake /etc/passwd the submission read and
# raised: the student sees at most an excerpt of it.
PASSWD = "\n".join(f"user{i}:x:{1000 + i}:{1000 + i}::/home/user{i}:/bin/sh" for i in range(80))
LEAK = ("RuntimeError: " + PASSWD)[:3000]


def test_gradescope_shows_only_an_excerpt_of_a_long_message() -> None:
    error = {
        "id": "eve",
        "verdict": "error",
        "labels": [],
        "checks": [],
        "score": 0.0,
        "message": "ERROR: eve.py was not run.\n  crash: while loading: " + LEAK,
    }
    failed = {
        **error,
        "verdict": "fail",
        "labels": ["crash"],
        "message": "FAIL: eve.py against assignment two-layer (0/1 checks passed)\n" + LEAK,
        "checks": [_check("backprop", "backprop: FAILED\n  crash: " + LEAK)],
    }
    assert len(error["message"]) > 3000
    document = json.loads(render_gradescope(error))
    assert len(document["output"]) <= EXCERPT_CHARS
    document = json.loads(render_gradescope(failed))
    visible = [document["output"], *(test["output"] for test in document["tests"])]
    assert all(len(test["output"]) <= EXCERPT_CHARS for test in document["tests"])
    assert sum(text.count(":/home/user") for text in visible) <= 2 * EXCERPT_CHARS // 40
    assert "user40:" not in "".join(visible)


def test_excerpt_is_one_short_line() -> None:
    line = excerpt(LEAK)
    assert len(line) == EXCERPT_CHARS and "\n" not in line and line.endswith("…")


@pytest.fixture(scope="module")
def hostile_report() -> Report:
    config = SweepConfig(
        engines=("core", "fd"),
        examples=1,
        dtypes=("float64",),
        activations=("tanh",),
        losses=("mse",),
        max_depth=2,
        max_width=3,
    )
    sweep: SweepResult = dataclasses.replace(run_sweep(config), skipped_engines={EVIL: EVIL})
    run = RunInfo("2026-01-01T00:00:00+00:00", 1.0, EVIL, versions={EVIL: EVIL}, platform=EVIL)
    return Report(run, sweep)


def test_sweep_junit_and_html_hold_any_string(hostile_report: Report) -> None:
    junit = render_junit(hostile_report)
    _no_raw_characters(junit)
    _valid_junit(junit)
    page = render_html(hostile_report)
    _no_raw_characters(page)
    _valid_html(page)
