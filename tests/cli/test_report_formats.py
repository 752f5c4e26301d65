"""Every writer's output is parsed back: JSON against its schema, JUnit with an XML parser,
HTML as well-formed and offline, Markdown tables by shape; and a planted bug's reproduction
(command and @example line) reproduces it."""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from typing import ClassVar

import jsonschema
import numpy as np
import pytest

from gradcheck.case import Case
from gradcheck.cli import main
from gradcheck.engines import ENGINES, register_engine
from tests.mutants import MUTANTS

SMALL = ["--examples", "2", "--activations", "tanh,relu", "--losses", "mse", "--dtype",
         "float64", "--max-depth", "2", "--max-width", "3", "--no-progress",
         "--jobs", "1"]  # fmt: skip
PLANTED = "formats_sign_flip"


@pytest.fixture(scope="module")
def failing_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if PLANTED not in ENGINES:
        register_engine(PLANTED, MUTANTS["sign_flip"], summary="planted sign flip")
    root = tmp_path_factory.mktemp("reports")
    assert main(["check", "--engines", f"core,fd,{PLANTED}", "--out", str(root), *SMALL]) == 1
    return root


def test_runs_go_to_timestamped_folders_and_latest_points_at_the_newest(tmp_path: Path) -> None:
    latest = tmp_path / "latest"
    assert main(["check", "--engines", "core,fd", "--out", str(tmp_path), *SMALL]) == 0
    assert latest.is_symlink() and re.fullmatch(r"\d{8}-\d{6}(-\d+)?", os.readlink(latest))
    first = latest.resolve()
    assert main(["check", "--engines", "core,fd", "--out", str(tmp_path), *SMALL]) == 0
    assert latest.resolve() != first and (first / "report.json").exists()  # earlier run kept


def test_json_matches_its_schema(failing_run: Path) -> None:
    schema_text = resources.files("gradcheck.report").joinpath("schemas/report.schema.json")
    schema = json.loads(schema_text.read_text())
    data = json.loads((failing_run / "latest" / "report.json").read_text())
    jsonschema.validate(data, schema)
    assert data["verdict"] == "fail" and data["counterexamples"]
    data["schema_version"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)


def test_junit_has_one_testcase_per_check_and_names_the_failure(failing_run: Path) -> None:
    suite = ET.parse(failing_run / "latest" / "report.junit.xml").getroot()
    cases = suite.findall("testcase")
    cells, pairs = 2, 3  # tanh and relu × mse × float64; core-fd, core-planted, fd-planted
    assert len(cases) == cells * pairs == int(suite.get("tests", "0"))
    failed = [c for c in cases if c.find("failure") is not None]
    assert failed and all(PLANTED in c.get("name", "") for c in failed)
    assert int(suite.get("failures", "0")) == len(failed)
    message = failed[0].find("failure").get("message", "")  # type: ignore[union-attr]
    assert re.search(r"\w+\[[\d,]*\] core=\S+ " + PLANTED + r"=\S+", message)


class _Checker(HTMLParser):
    VOID: ClassVar[set[str]] = {"meta", "img", "br", "hr", "link", "input"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.urls: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.urls += [v for _, v in attrs if v and re.match(r"(https?:)?//", v)]
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1:]}>"
        self.stack.pop()


def test_html_is_well_formed_and_fetches_nothing(failing_run: Path) -> None:
    text = (failing_run / "latest" / "report.html").read_text()
    checker = _Checker()
    checker.feed(text)
    assert not checker.stack and not checker.urls
    assert {"table", "pre", "h1"} <= checker.tags
    assert "http://" not in text and "https://" not in text
    assert "@example(case=Case.load(" in text


def test_pictures_are_saved_beside_the_report_and_embedded(failing_run: Path) -> None:
    pytest.importorskip("matplotlib")
    latest = failing_run / "latest"
    names = {p.name for p in latest.glob("*.png")}
    assert {
        "step_size_float64.png",
        "layer_norms.png",
        "error_bars.png",
        "trajectories.png",
    } <= names
    data = json.loads((latest / "report.json").read_text())
    assert {i["filename"] for i in data["images"]} == names
    assert (latest / "report.html").read_text().count('src="data:image/png;base64,') == len(names)


def test_markdown_tables_have_a_constant_width(failing_run: Path) -> None:
    text = (failing_run / "latest" / "report.md").read_text()
    tables = re.findall(r"((?:^\|.*\|\n)+)", text, flags=re.M)
    assert len(tables) >= 4
    for table in tables:
        widths = {len(re.findall(r"(?<!\\)\|", row)) for row in table.splitlines()}
        assert len(widths) == 1, table


def test_the_example_line_loads_the_saved_minimal_case(failing_run: Path) -> None:
    data = json.loads((failing_run / "latest" / "report.json").read_text())
    entry = data["counterexamples"][0]
    line = entry["example"]
    call = line.removeprefix("@example(case=").removesuffix(")")
    case = eval(call, {"Case": Case})  # the line's own expression, as a user would paste it
    saved = Case.load(entry["case_file"])
    assert case.spec == saved.spec and np.array_equal(case.X, saved.X)
    assert main(["check", "--case", entry["case_file"], "--engines", f"core,{PLANTED}"]) == 1


def test_github_step_summary_is_appended(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert main(["check", "--engines", "core,fd", "--out", str(tmp_path / "r"), *SMALL]) == 0
    text = summary.read_text()
    assert text.startswith("earlier step\n") and "# gradcheck report" in text
