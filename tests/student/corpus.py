"""The corpus of submissions under tests/corpus/<assignment>/: each states on its first lines
the verdict and the labels the grader must give it. A ``.py`` file does so in its first lines,
a ``.ipynb`` notebook in its first cell (or, when it is no valid notebook on purpose, in its
first lines), a folder in its ``EXPECT`` file. The notebooks and folders are written by
``build_corpus``."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
_EXPECT = re.compile(r"^#\s*expect:\s*(pass|partial|fail|error)\b(.*)$")
_OPTION = re.compile(r"^#\s*(timeout|memory):\s*(\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class Expectation:
    path: Path
    assignment: str
    verdict: str
    labels: frozenset[str]
    timeout: float | None = None
    memory_mb: int | None = None

    @property
    def id(self) -> str:
        return f"{self.assignment}/{self.path.stem}"


def _header(path: Path) -> list[str]:
    """The first lines of a submission, where its expectation is written."""
    if path.is_dir():
        return (path / "EXPECT").read_text().splitlines()[:3]
    text = path.read_text(errors="replace")
    if path.suffix == ".ipynb":
        try:
            cells = json.loads(text)["cells"]
            text = "".join(cells[0]["source"])
        except (ValueError, KeyError, IndexError, TypeError):
            pass  # a notebook broken on purpose carries its header as plain text
    return text.splitlines()[:3]


def read_expectation(path: Path) -> Expectation:
    lines = _header(path)
    match = _EXPECT.match(lines[0]) if lines else None
    if match is None:
        raise ValueError(
            f"{path}: the first line must be '# expect: pass|partial|fail|error LABEL…'"
        )
    options = {m.group(1): m.group(2) for line in lines[1:] if (m := _OPTION.match(line))}
    return Expectation(
        path,
        path.parent.name,
        match.group(1),
        frozenset(match.group(2).split()),
        float(options["timeout"]) if "timeout" in options else None,
        int(float(options["memory"])) if "memory" in options else None,
    )


def corpus() -> list[Expectation]:
    """Every submission: .py files, notebooks and folders (those with an EXPECT file)."""
    paths = [*CORPUS.glob("*/*.py"), *CORPUS.glob("*/*.ipynb"), *CORPUS.glob("*/*/EXPECT")]
    return [read_expectation(p.parent if p.name == "EXPECT" else p) for p in sorted(paths)]
