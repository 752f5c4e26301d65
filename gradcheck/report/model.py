"""The report model: a sweep's results plus everything needed to trust and reproduce them.

Writers (``markdown``, ``json``) only format a Report; they compute nothing.
"""

from __future__ import annotations

import base64
import platform
import sys
from dataclasses import dataclass, field
from importlib import metadata

from gradcheck.runs.sweep import SweepResult

__all__ = ["DEFAULT_TOP", "Counterexample", "Image", "Report", "RunInfo", "library_versions"]

SCHEMA_VERSION = 3
# How many passing (cell, engine pair)s closest to their tolerance the Markdown and the HTML
# show, besides every failed and inconclusive one (``gradcheck check --top``).
DEFAULT_TOP = 10


def library_versions() -> dict[str, str]:
    """Installed versions, read from package metadata: torch and jax are not imported."""
    versions = {"python": platform.python_version()}
    for package in ("gradcheck", "numpy", "hypothesis", "torch", "jax", "jaxlib"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


@dataclass(frozen=True)
class RunInfo:
    started: str
    seconds: float
    command: str
    versions: dict[str, str] = field(default_factory=library_versions)
    platform: str = field(default_factory=lambda: f"{platform.system()} {platform.machine()}")
    python: str = field(default_factory=lambda: sys.version.split()[0])


@dataclass(frozen=True)
class Counterexample:
    """Where a cell's minimal failing case was saved, and how to re-run exactly it: a shell
    command, and an ``@example`` line to paste above a ``@given(case=cases(...))`` test."""

    cell: str
    case_file: str
    command: str
    example: str = ""


@dataclass(frozen=True)
class Image:
    """A rendered picture: PNG bytes, saved beside the report and embedded in the HTML."""

    filename: str
    title: str
    caption: str
    png: bytes

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@dataclass(frozen=True)
class Report:
    run: RunInfo
    sweep: SweepResult
    counterexamples: tuple[Counterexample, ...] = ()
    images: tuple[Image, ...] = ()
    top: int = DEFAULT_TOP
    schema_version: int = SCHEMA_VERSION
