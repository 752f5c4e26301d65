"""The command line: exit codes, messages, reports, reproduction, and a light start-up."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from gradcheck.cli import main
from gradcheck.engines import ENGINES, register_engine
from tests.mutants import MUTANTS

SMALL = ["--examples", "2", "--activations", "tanh", "--losses", "mse", "--dtype", "float64",
         "--max-depth", "2", "--max-width", "3", "--no-progress", "--jobs", "1"]  # fmt: skip


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "gradcheck", *args],
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["check", "--help"]])
def test_help_and_version_import_neither_torch_nor_jax(args: list[str]) -> None:
    result = _run(*args)
    assert result.returncode == 0
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines()}
    assert not {"torch", "jax", "hypothesis"} & imported
    assert "gradcheck" in result.stdout


def test_a_passing_sweep_writes_both_reports_and_exits_0(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["check", "--engines", "core,fd", "--out", str(tmp_path), *SMALL]) == 0
    out = capsys.readouterr().out
    assert "PASS" in out and "core vs fd" in out
    data = json.loads((tmp_path / "latest" / "report.json").read_text())
    assert data["verdict"] == "pass" and data["run"]["command"].startswith("gradcheck check")
    markdown = (tmp_path / "latest" / "report.md").read_text()
    assert "## Cells to look at" in markdown and "| core vs fd" in markdown


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "--activations", "tanhh"], "unknown activation 'tanhh'; did you mean 'tanh'?"),
        (["check", "--losses", "mse2"], "unknown loss 'mse2'"),
        (["check", "--engines", "core,troch"], "unknown engine 'troch'"),
        (["check", "--format", "pdf", "--engines", "core,fd"], "unknown report format 'pdf'"),
        (["check", "--case", "missing.npz"], "missing.npz does not exist"),
    ],
)
def test_bad_input_is_a_clear_error_with_exit_2(
    args: list[str],
    message: str,
    tmp_path: Path,
    capsys,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main([*args, "--out", str(tmp_path), "--examples", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize(
    "args",
    [[], ["check", "--examples", "0"], ["check", "--dtype", "float16"], ["check", "--kinks", "x"]],
)
def test_bad_usage_exits_2(args: list[str]) -> None:
    assert _run(*args).returncode == 2


def test_a_named_engine_that_is_not_installed_is_an_error(
    monkeypatch: pytest.MonkeyPatch,
    capsys,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "jax" else real(name, *a)
    )
    assert main(["check", "--engines", "core,jax", "--out", str(tmp_path), *SMALL]) == 2
    assert "pip install 'gradcheck[jax]'" in capsys.readouterr().err


def test_a_planted_bug_fails_with_a_counterexample_that_reproduces(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    if "cli_sign_flip" not in ENGINES:
        register_engine("cli_sign_flip", MUTANTS["sign_flip"], summary="planted sign flip")
    engines = "core,cli_sign_flip"
    assert main(["check", "--engines", engines, "--out", str(tmp_path), *SMALL]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "counterexample" in out
    saved = sorted((tmp_path / "latest" / "counterexamples").glob("*.npz"))
    assert [p.name for p in saved] == ["float64-tanh-mse.npz"]
    assert "gradcheck check --case" in (tmp_path / "latest" / "report.md").read_text()
    # The saved minimal case, re-run alone, fails the same way; with the core alone it passes.
    assert main(["check", "--case", str(saved[0]), "--engines", engines]) == 1
    assert "core vs cli_sign_flip" in capsys.readouterr().out
    assert main(["check", "--case", str(saved[0]), "--engines", "core,fd"]) == 0


def test_worker_processes_give_the_same_report_as_one_process(tmp_path: Path) -> None:
    # Both in fresh interpreters, as users run them: Hypothesis mixes constants from the local
    # modules loaded so far into its draws, so inside a long pytest session an in-process
    # sweep draws other examples than a fresh interpreter does.
    args = ["check", "--engines", "core,fd", *SMALL[:-2], "--activations", "tanh,relu"]
    assert _run(*args, "--jobs", "1", "--out", str(tmp_path / "one")).returncode == 0
    assert _run(*args, "--jobs", "2", "--out", str(tmp_path / "two")).returncode == 0

    def results(folder: str) -> list[object]:
        data = json.loads((tmp_path / folder / "latest" / "report.json").read_text())
        return [(c["hidden"], c["examples"], c["pairs"]) for c in data["sweep"]["cells"]]

    assert results("one") == results("two")


def test_aiming_at_kinks_still_passes_a_correct_core(tmp_path: Path) -> None:
    relu = [*SMALL[:2], "--activations", "relu", *SMALL[4:]]
    args = ["check", "--engines", "core,fd,cs", "--kinks", "aim", "--out", str(tmp_path), *relu]
    assert main(args) == 0
    report = json.loads((tmp_path / "latest" / "report.json").read_text())
    assert report["verdict"] in ("pass", "inconclusive")
