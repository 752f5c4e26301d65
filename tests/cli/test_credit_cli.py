"""`gradcheck validate --format gradescope|prairielearn` and `gradcheck grade --format`:
the platforms' documents on stdout, a partial score exits 1, an unknown format exits 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.student.corpus import CORPUS

PARTIAL = CORPUS / "layers" / "correct_partial.py"
ROOT = Path(__file__).resolve().parents[2]


def _gradcheck(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI of this checkout, run in a scratch folder (its default reports stay there)."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "gradcheck", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tempfile.mkdtemp(prefix="gradcheck-cli-"),
        env={**os.environ, "PYTHONPATH": path},
    )


def test_a_partial_submission_exits_one_with_the_platforms_documents() -> None:
    common = ["validate", str(PARTIAL), "--assignment", "layers", "--examples", "5"]
    gradescope = _gradcheck(*common, "--format", "gradescope", "--reports", "none")
    assert gradescope.returncode == 1, gradescope.stderr
    document = json.loads(gradescope.stdout)
    assert (document["score"], document["max_score"]) == (2.0, 6.0)
    assert document["output"].startswith("PARTIAL 2/6: correct_partial.py")
    text = _gradcheck(*common, "--reports", "none")
    assert text.returncode == 1 and text.stdout.startswith("PARTIAL 2/6: correct_partial.py")


def test_validate_writes_the_platform_reports_on_request(tmp_path: Path) -> None:
    done = _gradcheck(
        "validate", str(PARTIAL), "--assignment", "layers", "--examples", "5",
        "--format", "prairielearn", "--reports", "gradescope,prairielearn",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["score"] == 2 / 6
    latest = tmp_path / "latest"
    assert json.loads((latest / "results.json").read_text())["max_score"] == 6.0
    assert json.loads((latest / "prairielearn.json").read_text())["gradable"] is True


def test_an_unknown_grading_format_exits_two_before_grading(tmp_path: Path) -> None:
    folder = tmp_path / "subs"
    folder.mkdir()
    (folder / "a.py").write_text("x = 1\n")
    done = _gradcheck(
        "grade", str(folder), "--assignment", "layers", "--out", str(tmp_path / "out"),
        "--format", "gradebook,moodle",
    )  # fmt: skip
    assert done.returncode == 2 and "unknown grading format 'moodle'" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "out").exists()
