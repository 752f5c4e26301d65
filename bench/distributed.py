"""Dask against the local process pool, measured in one run (issue 20): grading a batch of
submissions, a sweep of 10^4 examples, and a worker killed mid-grade.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python bench/distributed.py \\
        [--submissions 200] [--examples 10000] [--rounds 2]

Both executors have 2 workers (this machine has 2 cores), one thread each (OpenBLAS, torch
and XLA pinned to 1 here and in every worker). The Dask runs start their ``LocalCluster``
inside the timed call, as ``--executor dask`` does; the time to start it is printed apart.
Grading alternates local and Dask for ``--rounds`` rounds and compares the medians.

Targets: grading on Dask <= 1.2x the local wall time; the sweep on Dask >= 0.9x the local
pool's examples per second; a worker killed mid-grade: 0 submissions lost, 0 recorded twice.
The batch is the two-layer corpus's correct and buggy files, cycled (the hostile ones spend
their timeouts, which would measure the timeout, not the executor).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

# The repository, not bench/, first on the path: bench/distributed.py would shadow Dask's
# own ``distributed``.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench._threads import pin_threads  # noqa: E402

pin_threads(1)

import distributed  # noqa: E402

from gradcheck.runs.sweep import SweepConfig, run_sweep  # noqa: E402
from gradcheck.student.grade import RESULTS, Batch, grade_folder  # noqa: E402
from gradcheck.student.sandbox import Limits  # noqa: E402
from tests.student.corpus import CORPUS  # noqa: E402

BATCH = Batch("two-layer", examples=40, seed=0, limits=Limits(timeout=20.0))
WORKERS = 2


def _class(folder: Path, count: int) -> list[str]:
    sources = sorted(
        p for p in (CORPUS / "two-layer").glob("*.py") if p.stem.startswith(("correct", "bug"))
    )
    folder.mkdir(parents=True)
    idents = []
    for i in range(count):
        source = sources[i % len(sources)]
        idents.append(f"s{i:04d}_{source.stem}")
        shutil.copy(source, folder / f"{idents[-1]}.py")
    return idents


def _cluster() -> distributed.LocalCluster:
    return distributed.LocalCluster(
        n_workers=WORKERS, threads_per_worker=1, processes=True, dashboard_address=":0"
    )


def _grade(folder: Path, out: Path, **executor: str) -> tuple[float, list[dict[str, object]]]:
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    records = grade_folder(folder, out, BATCH, jobs=WORKERS, **executor)
    return time.perf_counter() - start, records


def _timeless(records: list[dict[str, object]]) -> list[dict[str, object]]:
    return [{k: v for k, v in r.items() if k != "seconds"} for r in records]


def grading(root: Path, count: int, rounds: int) -> None:
    folder = root / "class"
    _class(folder, count)
    start = time.perf_counter()
    with _cluster():
        started = time.perf_counter() - start
    times: dict[str, list[float]] = {"local": [], "dask": []}
    locals_, dasks = [], []
    for _ in range(rounds):
        local, local_records = _grade(folder, root / "local")
        on_dask, dask_records = _grade(folder, root / "dask", executor="dask")
        times["local"].append(local)
        times["dask"].append(on_dask)
        locals_.append(_timeless(local_records))
        dasks.append(_timeless(dask_records))
    # Records that differ between two local runs come from code that is random on purpose
    # (the corpus's bug_nondeterministic_noise); any other difference is the executor's.
    unstable = {
        a["id"] for run in locals_[1:] for a, b in zip(locals_[0], run, strict=True) if a != b
    }
    differing = {
        a["id"] for run in dasks for a, b in zip(locals_[0], run, strict=True) if a != b
    } - unstable
    local, on_dask = statistics.median(times["local"]), statistics.median(times["dask"])
    print(f"grading {count} submissions, {WORKERS} workers, {rounds} rounds (median):")
    print(f"  local pool        {local:7.1f} s   {count / local:5.2f} submissions/s")
    print(
        f"  Dask LocalCluster {on_dask:7.1f} s   {count / on_dask:5.2f} submissions/s   "
        f"{on_dask / local:.2f}x the local time (target <= 1.2x); starting the cluster alone "
        f"takes {started:.1f} s"
    )
    print(
        f"  records that differ between Dask and local, timings aside: {len(differing)} "
        f"{sorted(differing)}; between two local runs (random code): {sorted(unstable)}"
    )


def sweep(examples: int, rounds: int) -> None:
    cells = len(SweepConfig().cells())
    config = SweepConfig(examples=max(1, examples // cells))
    total = config.examples * cells
    times: dict[str, list[float]] = {"local": [], "dask": []}
    same = True
    for _ in range(rounds):
        start = time.perf_counter()
        local = run_sweep(config, jobs=WORKERS)
        times["local"].append(time.perf_counter() - start)
        start = time.perf_counter()
        on_dask = run_sweep(config, jobs=WORKERS, executor="dask")
        times["dask"].append(time.perf_counter() - start)
        same = same and [c.pairs for c in local.cells] == [c.pairs for c in on_dask.cells]
    local_s, dask_s = statistics.median(times["local"]), statistics.median(times["dask"])
    print(
        f"sweep of {total} examples ({cells} cells x {config.examples}, shards of "
        f"{config.shard_examples}; engines {', '.join(local.engines)}), {rounds} rounds "
        "(median):"
    )
    print(f"  local pool        {local_s:7.1f} s   {total / local_s:6.1f} examples/s")
    print(
        f"  Dask LocalCluster {dask_s:7.1f} s   {total / dask_s:6.1f} examples/s   "
        f"{local_s / dask_s:.2f}x the local rate (target >= 0.9x)"
    )
    print(f"  pair summaries identical: {same}")


def _lines(out: Path) -> list[str]:
    path = out / RESULTS
    return (
        [json.loads(line)["id"] for line in path.read_text().splitlines()] if path.exists() else []
    )


def _grading(pids: list[int]) -> list[int]:
    """The workers running a sandbox (a child process) now."""
    parents = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents.add(int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]))
            except OSError:
                continue
    return [pid for pid in pids if pid in parents]


def killed_worker(root: Path, count: int) -> None:
    folder = root / "kill"
    idents = _class(folder, count)
    out = root / "kill-out"
    with _cluster() as cluster, distributed.Client(cluster) as client:
        pids = list(client.run(os.getpid).values())
        records: list[dict[str, object]] = []

        def run() -> None:
            records.extend(
                grade_folder(
                    folder, out, BATCH, executor="dask", scheduler=cluster.scheduler_address
                )
            )

        grader = threading.Thread(target=run)
        grader.start()
        while len(_lines(out)) < count // 3 or not _grading(pids):
            time.sleep(0.05)
        os.kill(_grading(pids)[0], signal.SIGKILL)
        grader.join()
    ids = _lines(out)
    lost = sorted(set(idents) - set(ids))
    died = [r["id"] for r in records if "process_died" in r.get("labels", [])]  # type: ignore[operator]
    print(
        f"a Dask worker killed after {count // 3} of {count} submissions: {len(lost)} lost, "
        f"{len(ids) - len(set(ids))} recorded twice, {len(died)} recorded as process_died "
        "(target 0, 0)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--parts", default="grading,kill,sweep", help="comma-separated: grading, kill, sweep"
    )
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    print(
        f"threads: 1 per worker (OMP/OPENBLAS/MKL/XLA/torch); dask {distributed.__version__}; "
        f"OPENBLAS_CORETYPE {'unset' if 'OPENBLAS_CORETYPE' not in os.environ else 'SET'}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        if "grading" in parts:
            grading(Path(tmp), args.submissions, args.rounds)
        if "kill" in parts:
            killed_worker(Path(tmp), 60)
    if "sweep" in parts:
        sweep(args.examples, args.rounds)


if __name__ == "__main__":
    main()
