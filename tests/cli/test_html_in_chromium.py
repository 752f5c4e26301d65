"""The HTML report opened in headless Chromium: the page renders, with its tables and its
images. `.ci/run` installs Debian's chromium when it is missing and then requires this test
(GRADCHECK_REQUIRE_CHROMIUM=1); elsewhere it is skipped when no chromium is installed."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from gradcheck.cli import main

SMALL = ["--examples", "1", "--activations", "tanh", "--losses", "mse", "--dtype", "float64",
         "--max-depth", "2", "--max-width", "3", "--no-progress", "--jobs", "1"]  # fmt: skip


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("GRADCHECK_REQUIRE_CHROMIUM") == "1":
            pytest.fail("chromium is required here but not installed")
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    return found


def _headless(chromium: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-first-run", "--hide-scrollbars", *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_the_report_renders_with_tables_and_images(tmp_path: Path) -> None:
    chromium = _chromium()
    assert main(["check", "--engines", "core,fd", "--out", str(tmp_path), *SMALL]) == 0
    page = (tmp_path / "latest" / "report.html").resolve()
    # The DOM after scripts and layout: the renderer built the tables and decoded the images.
    dom = _headless(chromium, "--virtual-time-budget=2000", "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert dom.stdout.count("<table") >= 3 and "<h1>" in dom.stdout
    expected_images = len(list((tmp_path / "latest").glob("*.png")))
    if importlib.util.find_spec("matplotlib") is not None:
        assert expected_images >= 3  # the pictures of the report
    assert dom.stdout.count("<img") == expected_images
    shot = tmp_path / "shot.png"
    done = _headless(chromium, f"--screenshot={shot}", "--window-size=1200,900", page.as_uri())
    assert done.returncode == 0 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one
