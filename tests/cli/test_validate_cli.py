"""`gradcheck validate`, `grade` and `assignments` from the command line: one JSON object on
stdout, exit codes 0/1/2, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.student.corpus import CORPUS

TWO_LAYER = CORPUS / "two-layer"


def _gradcheck(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a scratch folder, so the reports it writes by default stay out of the
    repository."""
    return subprocess.run(
        [sys.executable, "-m", "gradcheck", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd or tempfile.mkdtemp(prefix="gradcheck-cli-"),
    )


def test_json_output_is_exactly_one_object_with_the_keys() -> None:
    done = _gradcheck(
        "validate",
        str(TWO_LAYER / "bug_batch_reduction_mean.py"),
        "--assignment",
        "two-layer",
        "--format",
        "json",
        "--examples",
        "20",
    )
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)  # one object, nothing else on stdout
    assert {"verdict", "labels", "counterexample", "checks", "message"} <= set(result)
    assert result["verdict"] == "fail" and "batch_reduction" in result["labels"]
    assert "from bug_batch_reduction_mean import backprop" in result["counterexample"]["reproduce"]


def test_a_passing_submission_exits_zero() -> None:
    done = _gradcheck(
        "validate",
        str(TWO_LAYER / "correct_looped.py"),
        "--assignment",
        "two-layer",
        "--examples",
        "10",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("PASS")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["validate", "missing.py", "--assignment", "two-layer"], "does not exist"),
        (
            ["validate", str(TWO_LAYER / "correct_looped.py"), "--assignment", "two-lyer"],
            "did you mean 'two-layer'",
        ),
        (["grade", "no-such-folder", "--assignment", "two-layer", "--out", "x"], "does not exist"),
        (
            ["validate", str(TWO_LAYER / "correct_looped.py"), "--assignment", "spec.toml"],
            "cannot read assignment spec",
        ),
    ],
    ids=["missing-file", "unknown-assignment", "missing-folder", "missing-spec"],
)
def test_bad_invocations_exit_two_with_a_message(args: list[str], needle: str) -> None:
    done = _gradcheck(*args)
    assert done.returncode == 2 and needle in done.stderr and "Traceback" not in done.stderr


def test_assignments_lists_every_contract() -> None:
    done = _gradcheck("assignments")
    assert done.returncode == 0
    for name in ("two-layer", "deep-mlp", "layers", "coursera", "nielsen"):
        assert f"{name}:" in done.stdout


def test_custom_toml_assignment_renames_the_entry_point(tmp_path: Path) -> None:
    spec = tmp_path / "hw3.toml"
    spec.write_text(
        'name = "hw3"\nconvention = "deep-mlp"\nentry_point = "grads"\n'
        'activations = ["tanh"]\nlosses = ["mse"]\nmax_depth = 2\n'
    )
    source = (CORPUS / "deep-mlp" / "correct_vectorised.py").read_text()
    good = tmp_path / "good.py"
    good.write_text(source + "\ngrads = backprop\n")
    done = _gradcheck("validate", str(good), "--assignment", str(spec), "--examples", "10")
    assert done.returncode == 0, done.stdout + done.stderr
    plain = tmp_path / "plain.py"
    plain.write_text(source)
    done = _gradcheck("validate", str(plain), "--assignment", str(spec), "--format", "json")
    assert json.loads(done.stdout)["labels"] == ["missing_entry_point"]


def test_a_bad_spec_key_is_named(tmp_path: Path) -> None:
    spec = tmp_path / "bad.toml"
    spec.write_text('convention = "deep-mlp"\nactivation = "tanh"\n')
    done = _gradcheck("validate", str(TWO_LAYER / "correct_looped.py"), "--assignment", str(spec))
    assert done.returncode == 2 and "unknown key 'activation'" in done.stderr


def test_printed_output_stays_out_of_the_json_verdict(tmp_path: Path) -> None:
    source = (TWO_LAYER / "correct_vectorised.py").read_text()
    chatty = tmp_path / "chatty.py"
    marker = '{"verdict": "pass", "labels": []} FORGED'
    chatty.write_text(
        source + f"\n\n_backprop = backprop\n\ndef backprop(*args):\n"
        f"    print({marker!r})\n    return _backprop(*args)\n"
    )
    done = _gradcheck(
        "validate", str(chatty), "--assignment", "two-layer", "--format", "json", "--examples", "5"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert "FORGED" not in done.stdout and result["output_chars"] > 0


def test_validate_writes_four_report_formats(tmp_path: Path) -> None:
    done = _gradcheck("validate", str(TWO_LAYER / "bug_sign_flip_residual.py"), "--assignment",
                      "two-layer", "--examples", "10", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 1
    latest = tmp_path / "reports" / "latest"
    data = json.loads((latest / "submission.json").read_text())
    assert data["schema"] == "gradcheck.submission/2" and data["results"]["verdict"] == "fail"
    suite = ET.parse(latest / "submission.junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "1"
    assert "sign_flip" in (latest / "submission.md").read_text()
    assert "<table>" in (latest / "submission.html").read_text()
    quiet = tmp_path / "quiet"
    quiet.mkdir()
    done = _gradcheck("validate", str(TWO_LAYER / "correct_looped.py"), "--assignment",
                      "two-layer", "--examples", "5", "--reports", "none", cwd=quiet)  # fmt: skip
    assert done.returncode == 0 and not (quiet / "reports").exists()
