"""Argument types shared by the command-line front ends (argparse ``type=`` callables), and
the checks of paths that the commands run before any work.

A type raises ``argparse.ArgumentTypeError``; argparse then prints ``argument --seed: …`` and
exits 2, so every message here names the value and the option is named by argparse. Every
number has a floor and a ceiling: past them a value is a typo (or NaN, or inf), and letting
it through costs a traceback deep inside, hours of work, or a verdict that blames a student.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gradcheck.errors import GradcheckError

__all__ = [
    "EXAMPLES_MAX",
    "JOBS_MAX",
    "MEMORY_MB_MIN",
    "SEED_MAX",
    "TIMEOUT_MIN",
    "LazyEpilogParser",
    "add_executor_arguments",
    "check_output_file",
    "check_output_folder",
    "count",
    "executor_options",
    "items",
    "megabytes",
    "names",
    "nonempty",
    "nonnegative",
    "output_folder",
    "path",
    "positive",
    "seconds",
    "seed",
    "seeds",
    "tolerance",
]

# Seeds land in reports, JSON and reproduction commands; 32 bits is what NumPy's legacy
# seeding, torch and most tools take, and what a reader parses exactly.
SEED_MAX = 2**32 - 1
# Ceilings on counts: past them a run takes days (examples, seeds), allocates more than any
# machine has (batch, width) or forks more workers than a machine can hold (jobs).
EXAMPLES_MAX = 100_000
SEEDS_MAX = 10_000
JOBS_MAX = 256
DEPTH_MAX = 64
WIDTH_MAX = 1024
BATCH_MAX = 65_536
# A submission's child is Python plus NumPy before it runs a line of the student's code: its
# address space needs ~100 MB (measured: 64 MB fails to import NumPy, 128 MB passes), and
# OpenBLAS reserves a buffer per thread on bigger machines. Below 256 MB a correct file
# would be reported as `memory_limit` or `process_died`, blaming the student for our limit.
MEMORY_MB_MIN = 256
MEMORY_MB_MAX = 1 << 20  # 1 TiB: more limits nothing, and 10**30 MB overflows setrlimit
# Starting the child (bubblewrap, Python, NumPy) takes a few tenths of a second, so a shorter
# budget times out a correct file; more than a day per submission is a typo, and inf or
# 1e308 s overflow the time arithmetic of the sandbox.
TIMEOUT_MIN = 1.0
TIMEOUT_MAX = 86_400.0
# Pseudo file systems: writable-looking to root, yet nothing can be created in them.
_PSEUDO = ("/proc", "/sys")


def items(text: str) -> tuple[str, ...]:
    """``"core, torch"`` → ``("core", "torch")``, empty items dropped; the command checks what
    is left (an empty list included)."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def names(text: str) -> tuple[str, ...]:
    """``"core, torch"`` → ``("core", "torch")``. Empty items are dropped; an empty list or a
    name given twice is refused (``--engines ""`` would otherwise mean "all", silently)."""
    chosen = items(text)
    if not chosen:
        raise argparse.ArgumentTypeError(f"an empty list: {text!r}")
    seen: set[str] = set()
    for name in chosen:
        if name in seen:
            raise argparse.ArgumentTypeError(f"{name!r} is given twice in {text!r}")
        seen.add(name)
    return chosen


def nonempty(text: str) -> str:
    """A name or a spec that must not be blank (an unset shell variable, ``--engine ""``)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"must not be empty, got {text!r}")
    return text.strip()


def path(text: str) -> Path:
    """A path that must not be blank: ``Path("")`` is ``.``, which nobody means."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"an empty path: {text!r}")
    return Path(text)


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None


def count(low: int, high: int) -> Callable[[str], int]:
    """An integer in ``[low, high]``."""
    wanted = f"a positive integer up to {high}" if low == 1 else f"an integer from {low} to {high}"

    def parse(text: str) -> int:
        value = _integer(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {text}")
        return value

    return parse


def positive(text: str) -> int:
    """An integer from 1 to EXAMPLES_MAX (examples, depths and the like)."""
    return count(1, EXAMPLES_MAX)(text)


def seed(text: str) -> int:
    """An integer seed from 0 to SEED_MAX."""
    return count(0, SEED_MAX)(text)


def seeds(text: str) -> tuple[int, ...]:
    """``"0,1,2"`` or a range ``"0-4"`` (inclusive) → the seeds, each in 0..SEED_MAX, none
    twice, at most SEEDS_MAX of them."""
    chosen: list[int] = []
    for part in names(text):
        low, dash, high = part.partition("-")
        try:
            first, last = (int(low), int(high)) if dash else (int(part), int(part))
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a seed or a range of seeds: {part!r}") from None
        if not 0 <= first <= last <= SEED_MAX:
            raise argparse.ArgumentTypeError(
                f"seeds must be integers >= 0 and <= {SEED_MAX}, ranges rising; got {part!r}"
            )
        if len(chosen) + last - first + 1 > SEEDS_MAX:
            raise argparse.ArgumentTypeError(f"more than {SEEDS_MAX} seeds in {text!r}")
        chosen.extend(range(first, last + 1))
    if len(set(chosen)) < len(chosen):
        raise argparse.ArgumentTypeError(f"a seed is given twice in {text!r}")
    return tuple(chosen)


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def nonnegative(text: str) -> float:
    """A finite number ≥ 0 (NaN would let every comparison pass)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


def tolerance(text: str) -> float:
    """A tolerance in ``[0, 1)``: at 1 or more, ``|a - b| <= tol·|b|`` accepts a gradient of
    zero or twice the truth, so the check could never fail."""
    value = nonnegative(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(
            f"must be below 1 (a tolerance that passes anything), got {text!r}"
        )
    return value


def seconds(text: str) -> float:
    """A wall-clock budget from TIMEOUT_MIN to TIMEOUT_MAX seconds."""
    value = _finite(text)
    if not TIMEOUT_MIN <= value <= TIMEOUT_MAX:
        raise argparse.ArgumentTypeError(
            f"must be from {TIMEOUT_MIN:g} to {TIMEOUT_MAX:g} seconds, got {text!r}"
        )
    return value


def megabytes(text: str) -> int:
    """An address-space limit from MEMORY_MB_MIN to MEMORY_MB_MAX MB."""
    value = _integer(text)
    if value < MEMORY_MB_MIN:
        raise argparse.ArgumentTypeError(
            f"{value} MB is too little to start Python and NumPy; give at least {MEMORY_MB_MIN}"
        )
    if value > MEMORY_MB_MAX:
        raise argparse.ArgumentTypeError(f"must be at most {MEMORY_MB_MAX} MB, got {text}")
    return value


def _folder_problem(folder: Path) -> str | None:
    """Why ``folder`` cannot be made (or written in), or None when it can."""
    if folder.exists() and not folder.is_dir():
        return "exists and is not a folder"
    real = Path(os.path.realpath(folder))
    if any(real == Path(p) or Path(p) in real.parents for p in _PSEUDO):
        return f"is in the pseudo file system /{real.parts[1]}, where nothing can be created"
    ancestor = folder.absolute()
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        return f"cannot be made: {ancestor} is not a folder"
    if not os.access(ancestor, os.W_OK | os.X_OK):
        return f"cannot be written: {ancestor} is not writable"
    return None


def check_output_folder(folder: Path, option: str = "--out", *, runs: bool = False) -> None:
    """Raise GradcheckError naming ``option`` when ``folder`` cannot hold reports: an existing
    non-folder, a parent that is a file or unwritable, or a pseudo file system. With ``runs``
    (a reports root of timestamped runs), also a ``latest`` that is a real folder: the run
    would end failing to point the link at itself, after all its work."""
    problem = _folder_problem(folder)
    latest = folder / "latest"
    if problem is None and runs and latest.is_dir() and not latest.is_symlink():
        problem = f"holds a folder {latest} where the link to the latest run goes"
    if problem is not None:
        raise GradcheckError(f"{option} {folder} {problem}")


def check_output_file(file: Path, option: str) -> None:
    """Raise GradcheckError naming ``option`` when ``file`` cannot be written: a folder in
    its place, or a folder of its own that cannot be made or written in."""
    if file.is_dir():
        raise GradcheckError(f"{option} {file} is a folder, not a file")
    problem = _folder_problem(file.parent)
    if problem is not None:
        raise GradcheckError(f"{option} {file} cannot be written: its folder {problem}")


def output_folder(text: str) -> Path:
    """An ``--out`` folder: see check_output_folder."""
    folder = path(text)
    try:
        check_output_folder(folder, "")
    except GradcheckError as error:
        raise argparse.ArgumentTypeError(str(error).strip()) from None
    return folder


def add_engine_module_argument(parser: Any) -> None:
    """``--engine-module pkg.mod[,pkg2.mod]``, repeatable: modules whose import registers
    engines (``gradcheck.engine_plugins``)."""
    parser.add_argument(
        "--engine-module",
        dest="engine_modules",
        type=names,
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE first (comma-separated, or repeat the option): its import calls "
        "gradcheck.register_engine, so that --engines can name its engines; installed "
        "packages can declare a 'gradcheck.engines' entry point instead",
    )


def engine_modules(args: argparse.Namespace) -> tuple[str, ...]:
    """The modules of every ``--engine-module``, in order, each once."""
    return tuple(dict.fromkeys(m for group in args.engine_modules for m in group))


def add_executor_arguments(parser: Any) -> None:
    """``--executor`` and ``--scheduler``: where parallel work runs (``runs.executors``)."""
    parser.add_argument(
        "--executor",
        choices=("local", "dask"),
        default="local",
        help="local: this machine's worker processes (default); dask: a dask.distributed "
        "cluster, the one at --scheduler or $GRADCHECK_DASK_SCHEDULER, else a LocalCluster of "
        "--jobs workers started here (needs the dask extra: pip install 'gradcheck[dask]')",
    )
    parser.add_argument(
        "--scheduler",
        type=nonempty,
        metavar="ADDRESS",
        help="the Dask scheduler, e.g. tcp://host:8786 (default $GRADCHECK_DASK_SCHEDULER); "
        "only with --executor dask",
    )


def executor_options(args: argparse.Namespace) -> tuple[str, str | None]:
    """(executor, scheduler); a scheduler named for the local executor is a usage error."""
    if args.scheduler is not None and args.executor != "dask":
        raise GradcheckError("--scheduler names a Dask scheduler: add --executor dask")
    return args.executor, args.scheduler


class LazyEpilogParser(argparse.ArgumentParser):
    """A parser whose epilog is computed only when its help is printed (``epilog_factory``):
    listing the registries imports them, which every other invocation need not pay for."""

    def __init__(self, *args: Any, epilog_factory: Callable[[], str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._epilog_factory = epilog_factory

    def format_help(self) -> str:
        if self._epilog_factory is not None:
            self.epilog = self._epilog_factory()
        return super().format_help()
