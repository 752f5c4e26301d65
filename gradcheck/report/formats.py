"""The report formats: one registry of what gradcheck writes, and the writers of each report.

A ``Format`` is a name (``md``), the suffix of the file it writes and what it is for. Each
kind of report (a sweep, a comparison matrix, one submission, a pytest session) declares one
``Writers``: its file stem and a renderer for each format it supports. The command line, the
pytest plugin and ``grade`` validate a user's formats against these, so a new format or a new
writer is one entry here or there, and every front end knows it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from gradcheck.errors import UnknownNameError
from gradcheck.io import atomic_write_text

__all__ = ["FORMATS", "Format", "Writers", "parse_formats"]

T = TypeVar("T")


@dataclass(frozen=True)
class Format:
    name: str
    suffix: str
    purpose: str


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("md", ".md", "Markdown: the summary first, for a CI job summary or a pull request"),
        Format("json", ".json", "JSON with a schema: every number, for tools"),
        Format("html", ".html", "one self-contained page: everything the Markdown has"),
        Format("junit", ".junit.xml", "JUnit XML: one testcase per check, for CI test views"),
        Format("csv", ".csv", "CSV: one row per submission, with its first problem"),
        Format(
            "gradebook",
            ".csv",
            "CSV for an LMS gradebook: one row per student id, score, max_score, percent, "
            "verdict, labels",
        ),
        Format(
            "gradescope",
            ".json",
            "Gradescope autograder results.json: one test per check, with its points and "
            "visibility",
        ),
        Format(
            "prairielearn",
            ".json",
            "PrairieLearn external-grader results: gradable, score 0..1, one test per check",
        ),
    )
}


@dataclass(frozen=True)
class Writers(Generic[T]):
    """The files one kind of report is written as: ``stem + suffix`` for each format."""

    kind: str  # names the report in messages: "report", "session report", …
    stem: str
    render: Mapping[str, Callable[[T], str]]
    filenames: Mapping[str, str] = field(default_factory=dict)  # where not stem + suffix

    @property
    def formats(self) -> tuple[str, ...]:
        return tuple(self.render)

    def filename(self, fmt: str) -> str:
        return self.filenames.get(fmt, self.stem + FORMATS[fmt].suffix)

    def check(self, formats: Sequence[str]) -> None:
        """Raise UnknownNameError naming the first format this report is not written in."""
        for fmt in formats:
            if fmt not in self.render:
                known = ", ".join(self.render)
                raise UnknownNameError(f"unknown {self.kind} format {fmt!r} (known: {known})")

    def files(self, value: T, formats: Sequence[str]) -> dict[str, str]:
        """File name → text for each format, rendered before anything is written."""
        self.check(formats)
        return {self.filename(fmt): self.render[fmt](value) for fmt in formats}

    def write(self, value: T, out_dir: str | Path, formats: Sequence[str]) -> list[Path]:
        """Write each format into ``out_dir``, each file atomically."""
        files = self.files(value, formats)
        return [atomic_write_text(Path(out_dir) / name, text) for name, text in files.items()]


def parse_formats(text: str, writers: Writers[T], *, allow_none: bool = False) -> tuple[str, ...]:
    """``"md,json"`` → ``("md", "json")``, checked against ``writers``; ``"none"`` → ``()``
    where ``allow_none``. Raises UnknownNameError naming a format that is not written."""
    if allow_none and text.strip() == "none":
        return ()
    chosen = tuple(part.strip() for part in text.split(",") if part.strip())
    if not chosen:
        raise UnknownNameError(
            f"no {writers.kind} format given (known: {', '.join(writers.render)})"
        )
    writers.check(chosen)
    return chosen
