"""The corpus of submissions under tests/corpus/<assignment>/: each file states on its first
lines the verdict and the labels the grader must give it."""

from __future__ import annotations

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


def read_expectation(path: Path) -> Expectation:
    lines = path.read_text(errors="replace").splitlines()[:3]
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
    return [read_expectation(p) for p in sorted(CORPUS.glob("*/*.py"))]
