"""The pictures of a check report, when matplotlib is installed (``gradcheck[plots]``)."""

from __future__ import annotations

from gradcheck.report.model import Image
from gradcheck.sweep import SweepResult

__all__ = ["report_images"]


def report_images(sweep: SweepResult) -> tuple[Image, ...]:
    """No pictures yet: filled in once the figures module lands."""
    return ()
