"""Sweeps and compare on Dask (``--executor dask``), on a loopback ``LocalCluster(n_workers=2,
processes=True)``: the same seed gives the same cells as the local pool, a worker killed
mid-run loses nothing, and a missing extra or an unreachable scheduler is a one-line usage
error for every command that takes ``--executor``. Grading on Dask is in
``tests/student/test_dask_grading.py``."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gradcheck.cli import main
from gradcheck.errors import GradcheckError
from gradcheck.report.json import _plain
from gradcheck.runs.executors import SCHEDULER_VARIABLE
from gradcheck.runs.matrix import MatrixConfig, MatrixResult, run_matrix
from gradcheck.runs.sweep import SweepConfig, SweepResult, run_sweep
from tests.helpers import local_cluster

distributed = pytest.importorskip("distributed", reason="the dask extra (make test installs it)")

# Dask's own sockets, closed by its event loop after a test has moved on.
pytestmark = pytest.mark.filterwarnings("ignore:unclosed <socket:ResourceWarning")

ROOT = Path(__file__).resolve().parents[2]
CONFIG = SweepConfig(
    engines=("core", "fd"), examples=3, dtypes=("float64", "float32"),
    activations=("tanh", "relu"), losses=("mse", "huber"), max_depth=3, max_width=5,
)  # fmt: skip


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with local_cluster() as running:
        yield running


def _cells(sweep: SweepResult) -> list[Any]:
    """The cells as data, without the timings, which differ from run to run."""
    return [
        _plain(dataclasses.replace(cell, engine_seconds={}, engine_meta={})) for cell in sweep.cells
    ]


def _prefixes(cluster: Any) -> set[str]:
    with distributed.Client(cluster) as client:
        return set(
            client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.task_prefixes))
        )


def test_a_seeded_sweep_on_dask_equals_the_local_pool(
    cluster: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SCHEDULER_VARIABLE, cluster.scheduler_address)
    local = run_sweep(CONFIG, jobs=2)
    on_dask = run_sweep(CONFIG, jobs=2, executor="dask")
    assert _cells(on_dask) == _cells(local)
    assert len(on_dask.cells) == 8 and on_dask.verdict == "pass"
    assert "set_up_then" in _prefixes(cluster)  # the tasks ran on this cluster


def test_a_worker_killed_mid_sweep_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first worker to run a tanh cell dies (``tests/cli/dying_engines.py``); Dask runs
    that task again on a live worker, and the sweep is the one computed without a death.
    A cluster of its own, whose workers start with the marker's path in their environment."""
    config = dataclasses.replace(
        CONFIG, engines=("core", "dies_once"), engine_modules=("tests.cli.dying_engines",)
    )
    marker = tmp_path / "died"
    monkeypatch.setenv("GRADCHECK_TEST_DIE_MARKER", str(marker))
    monkeypatch.setenv("PYTHONPATH", f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    with local_cluster() as dying:
        on_dask = run_sweep(config, jobs=2, executor="dask", scheduler=dying.scheduler_address)
    assert marker.exists(), "no worker died: the test tested nothing"
    undisturbed = run_sweep(config, jobs=1)  # the marker exists now: nothing dies
    assert _cells(on_dask) == _cells(undisturbed)
    assert all(cell.examples == CONFIG.examples for cell in on_dask.cells)


def test_check_runs_on_the_scheduler_named_on_the_command_line(
    cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["check", "--engines", "core,fd", "--activations", "tanh", "--losses", "mse",
            "--examples", "2", "--dtype", "float64", "--no-progress", "--format", "json",
            "--executor", "dask", "--scheduler", cluster.scheduler_address,
            "--out", str(tmp_path)]  # fmt: skip
    assert main(argv) == 0
    assert capsys.readouterr().out.count("PASS: 2 examples, 1 cells") == 1


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (
            ["--executor", "dask", "--scheduler", "tcp://127.0.0.1:9"],
            "cannot reach the Dask scheduler at tcp://127.0.0.1:9",
        ),
        (["--scheduler", "tcp://127.0.0.1:9"], "--scheduler names a Dask scheduler"),
        (["--executor", "spark"], "invalid choice: 'spark'"),
    ],
)
def test_a_bad_executor_or_scheduler_is_a_one_line_usage_error(
    argv: list[str], problem: str, tmp_path: Path
) -> None:
    process = _gradcheck(["check", "--examples", "1", "--out", str(tmp_path), *argv])
    assert process.returncode == 2
    last = process.stderr.strip().splitlines()[-1]  # argparse prints its usage lines first
    assert problem in last and "error:" in last and "Traceback" not in process.stderr


@pytest.mark.parametrize("command", ["grade", "compare"])
def test_grade_and_compare_name_an_unreachable_scheduler_in_one_line(
    command: str, tmp_path: Path
) -> None:
    folder = tmp_path / "submissions"
    folder.mkdir()
    (folder / "alice.py").write_text("def backprop(X, y, weights, biases):\n    return {}, {}\n")
    args = {
        "grade": ["grade", str(folder), "--assignment", "two-layer", "--out", str(tmp_path / "o")],
        "compare": ["compare", "--engines", "core", "--out", str(tmp_path / "o")],
    }[command]
    process = _gradcheck([*args, "--executor", "dask", "--scheduler", "tcp://127.0.0.1:9"])
    assert process.returncode == 2, process.stderr
    (line,) = process.stderr.strip().splitlines()  # one line, no traceback
    assert line.startswith("gradcheck: error: cannot reach the Dask scheduler at tcp://127.0.0.1:9")
    assert not (tmp_path / "o" / "results.jsonl").exists()


def _matrix(result: MatrixResult) -> list[Any]:
    """The cells and notes as data, without the timings."""
    cells = [dataclasses.replace(cell, seconds=0.0) for cell in result.cells]
    return [_plain(cells), list(result.notes), _plain(result.resolution)]


def test_compare_on_dask_equals_the_local_pool(cluster: Any) -> None:
    config = MatrixConfig(engines=("core", "torch"), examples=2, widths=(4, 6, 3), batch=4)
    local = run_matrix(config, jobs=2)
    on_dask = run_matrix(config, executor="dask", scheduler=cluster.scheduler_address)
    assert _matrix(on_dask) == _matrix(local)
    assert len(on_dask.cells) == 6 and all(cell.worst_rel is not None for cell in on_dask.cells)
    in_process = run_matrix(config)  # the same cases; the core's errors are the same
    core = [c for c in in_process.cells if c.engine == "core"]
    assert [c.worst_rel for c in core] == [c.worst_rel for c in on_dask.cells if c.engine == "core"]


def test_without_the_extra_dask_names_it(tmp_path: Path) -> None:
    """An interpreter where ``distributed`` cannot be imported, as without the extra."""
    code = (
        "import sys; sys.modules['distributed'] = None\n"
        "from gradcheck.cli import main\n"
        f"raise SystemExit(main(['check', '--executor', 'dask', '--out', {str(tmp_path)!r}]))\n"
    )
    process = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert process.returncode == 2
    assert "pip install 'gradcheck[dask]'" in process.stderr and "Traceback" not in process.stderr


def _gradcheck(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gradcheck", *args],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip


SHARDED = dataclasses.replace(
    CONFIG, examples=7, shard_examples=3, dtypes=("float64",), losses=("mse",)
)  # three shards per cell: 3 + 3 + 1


def test_a_sharded_sweep_is_the_same_in_process_on_the_local_pool_and_on_dask(
    cluster: Any,
) -> None:
    in_process = run_sweep(SHARDED)
    local = run_sweep(SHARDED, jobs=2)
    on_dask = run_sweep(SHARDED, executor="dask", scheduler=cluster.scheduler_address)
    assert _cells(in_process) == _cells(local) == _cells(on_dask)
    for cell in on_dask.cells:
        assert cell.examples == 7 and all(pair.examples == 7 for pair in cell.pairs)


def test_shards_draw_other_cases_than_one_run_of_the_same_size() -> None:
    """Each shard has a seed of its own: a sharded cell is not its first shard three times."""
    sharded = run_sweep(dataclasses.replace(SHARDED, activations=("tanh",)))
    shard = run_sweep(dataclasses.replace(SHARDED, activations=("tanh",), examples=3))
    whole = run_sweep(dataclasses.replace(SHARDED, activations=("tanh",), shard_examples=7))
    ratios = [p.worst.ratio for p in sharded.cells[0].pairs if p.worst is not None]
    assert ratios != [p.worst.ratio for p in whole.cells[0].pairs if p.worst is not None]
    first = [p.worst.ratio for p in shard.cells[0].pairs if p.worst is not None]
    assert all(r >= f for r, f in zip(ratios, first, strict=True))  # the first shard is in it


@pytest.mark.parametrize("bad", [0, -1, True, 2.5])
def test_a_shard_size_that_is_not_a_count_is_refused(bad: Any) -> None:
    with pytest.raises(GradcheckError, match=r"shard_examples must be a whole number"):
        dataclasses.replace(CONFIG, shard_examples=bad)
