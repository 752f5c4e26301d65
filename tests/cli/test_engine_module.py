"""A user's engines on the command line: ``--engine-module`` and the ``gradcheck.engines``
entry-point group, in sweep workers started either way, and in the printed reproduction."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from gradcheck.cli import main
from gradcheck.engines import ENGINES
from gradcheck.nn.activations import ACTIVATIONS
from gradcheck.nn.losses import LOSSES

ROOT = Path(__file__).resolve().parents[2]
MODULE = "tests.cli.plugin_engines"
SMALL = ["--examples", "2", "--activations", "tanh", "--losses", "mse,huber", "--dtype",
         "float64", "--no-progress"]  # fmt: skip


def _gradcheck(args: list[str], cwd: Path, pythonpath: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": pythonpath}
    return subprocess.run(
        [sys.executable, "-m", "gradcheck", *args],
        cwd=cwd, capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_workers_know_the_module_s_engines_however_they_start(
    method: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two cells in two workers: with spawn, only the workers' own import of the module
    registers the engine there. A fresh interpreter, so that fork is safe (no JAX threads
    from other tests)."""
    monkeypatch.setenv("GRADCHECK_START_METHOD", method)
    argv = ["check", "--engine-module", MODULE, "--engines", "core,fd,plugin_correct"]
    process = _gradcheck([*argv, "--jobs", "2", "--out", str(tmp_path), *SMALL], ROOT, str(ROOT))
    assert process.returncode == 0, process.stdout + process.stderr
    assert "plugin_correct" in process.stdout


def test_a_failing_user_engine_prints_a_reproduction_that_reproduces(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["check", "--engine-module", MODULE, "--engines", "core,plugin_sign_flip"]
    assert main([*argv, "--out", str(tmp_path), *SMALL]) == 1
    commands = [
        line.split(": ", 1)[1]
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("counterexample ")
    ]
    assert commands and all(f"--engine-module {MODULE}" in c for c in commands)
    report = (tmp_path / "latest" / "report.md").read_text()
    assert f"--engine-module {MODULE}" in report
    rerun = _gradcheck(shlex.split(commands[0])[1:], cwd=ROOT, pythonpath=str(ROOT))
    assert rerun.returncode == 1, rerun.stdout + rerun.stderr
    assert rerun.stdout.startswith("FAIL")


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        (None, "no module named 'no_such_engines'"),
        ("raise RuntimeError('broken at import')", "RuntimeError: broken at import"),
        ("x = 1", "registers no engine"),
    ],
)
def test_a_bad_engine_module_is_a_usage_error(
    source: str | None,
    problem: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    name = "no_such_engines" if source is None else f"bad_engines_{abs(hash(problem))}"
    if source is not None:
        (tmp_path / f"{name}.py").write_text(source + "\n")
        monkeypatch.syspath_prepend(str(tmp_path))
    argv = ["check", "--engine-module", name, "--engines", "core,fd", "--out", str(tmp_path)]
    assert main([*argv, *SMALL]) == 2
    err = capsys.readouterr().err
    assert f"--engine-module {name}" in err and problem in err
    assert "Traceback" not in err


def _distribution(folder: Path, entry: str, module_source: str) -> None:
    """An installed distribution as importlib.metadata finds it: a module and a
    .dist-info folder with its entry points, on the path."""
    (folder / "userengines.py").write_text(module_source)
    info = folder / "userengines-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: userengines\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[gradcheck.engines]\n{entry}\n")


_USER_ENGINE = """\
from gradcheck.nn.network import loss_and_grads


def mine(spec, params, X, y):
    return loss_and_grads(spec, params, X, y)


def mine_flipped(spec, params, X, y):
    loss, grads = loss_and_grads(spec, params, X, y)
    return loss, {name: -g for name, g in grads.items()}
"""


@pytest.mark.parametrize(("engine", "code"), [("ep_mine", 0), ("ep_flipped", 1)])
def test_an_entry_point_engine_is_found_by_name(engine: str, code: int, tmp_path: Path) -> None:
    target = "mine" if code == 0 else "mine_flipped"
    _distribution(tmp_path, f"{engine} = userengines:{target}", _USER_ENGINE)
    out = tmp_path / "reports"
    argv = ["check", "--engines", f"core,fd,{engine}", "--out", str(out), *SMALL]
    process = _gradcheck(argv, cwd=ROOT, pythonpath=f"{tmp_path}{os.pathsep}{ROOT}")
    assert process.returncode == code, process.stdout + process.stderr
    listed = _gradcheck(["check", "--help"], cwd=ROOT, pythonpath=f"{tmp_path}{os.pathsep}{ROOT}")
    assert engine in listed.stdout.split("engines: ", 1)[1].splitlines()[0]


def test_a_broken_entry_point_is_named(tmp_path: Path) -> None:
    _distribution(tmp_path, "ep_broken = userengines:missing_function", _USER_ENGINE)
    argv = ["check", "--engines", "core,ep_broken", "--out", str(tmp_path / "r"), *SMALL]
    process = _gradcheck(argv, cwd=ROOT, pythonpath=f"{tmp_path}{os.pathsep}{ROOT}")
    assert process.returncode == 2
    assert "entry point ep_broken" in process.stderr and "Traceback" not in process.stderr


def test_check_help_lists_every_registered_name(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    lines = dict(
        line.split(": ", 1) for line in capsys.readouterr().out.splitlines() if ": " in line
    )
    assert lines["activations"].split(", ") == list(ACTIVATIONS)
    assert lines["losses"].split(", ") == list(LOSSES)
    assert set(lines["engines"].split(", ")) >= {"core", "fd", "cs", "torch", "jax"}
    assert set(lines["engines"].split(", ")) <= set(ENGINES)


def test_the_top_level_help_points_to_the_api_and_the_plugin(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "check_gradients" in out and "gradcheck.torch.check" in out
    assert "fixture" in out and "--gradcheck-report" in out and "--engine-module" in out
