"""Every code block of the README runs as written, or is listed here with the reason it is not.

- The quick start runs in a fresh copy of the working tree, where ``make`` builds a fresh
  ``.venv`` from nothing (pip and the package index only), exactly as a newcomer runs it.
- Every other ``python`` block runs with this interpreter, every ``sh``/``bash`` block with
  this environment's ``bin`` first on ``PATH``, in a scratch folder that sees the repository's
  ``tests/`` and ``examples/``.
- Every ``toml`` block is an assignment, loaded by gradcheck's own loader.
- A block marked ``<!-- excerpt: PATH -->`` must be a piece of PATH, and PATH runs instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gradcheck.student.custom import load_assignment
from tests.docs.readme import LANGUAGES, Block, blocks, is_excerpt_of

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BLOCKS = blocks(README)
BIN = Path(sys.executable).parent

# Blocks that do not run here, by Block.name (section: first line), each with its reason.
_BENCH = "a benchmark: timing runs whose figures are the README's tables, not a verdict"
EXCLUDED: dict[str, str] = {
    "Quick start: make report": "test_the_quick_start_runs_in_a_fresh_clone runs it",
    "Two commands: make report": "`make test` is this suite; `make report` is in the quick start",
    "How far the verdicts can be trusted: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "
    "python bench/finite_differences.py --threads 1": _BENCH,
    "How they compare: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python "
    "-m bench.frameworks --out reports/bench/frameworks.json": _BENCH,
    "Speed: cd bench": _BENCH,
    "Golden-gradient baselines: pytest --gradcheck-baseline baselines/golden "
    "--gradcheck-baseline-update": (
        "needs your own test suite; tests/plugin/test_plugin.py runs both commands on one"
    ),
    "Python API: gradcheck check --engine-module mine --engines core,fd,mine": (
        "needs the reader's mine.py; tests/cli/test_engine_module.py runs it with a module of "
        "its own, in forked and spawned workers"
    ),
    'Python API: [project.entry-points."gradcheck.engines"]': (
        "a pyproject.toml excerpt, not an assignment; tests/cli/test_engine_module.py installs "
        "a distribution that declares such an entry point"
    ),
}

# A shell block may show a verdict that is not a pass (exit 1, e.g. `grade` on a class with
# bugs); usage errors (2), crashes and tracebacks fail the test.
_SHELL_PRELUDE = "trap 'rc=$?; [ $rc -le 1 ] || exit $rc' ERR\n"


def _run(command: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=_environment()
    )


def _environment() -> dict[str, str]:
    """This environment's tools first on PATH, and no trace of an activated venv."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def _blocks(*languages: str) -> list[Block]:
    return [b for b in BLOCKS if b.language in languages and b.name not in EXCLUDED]


def _scratch(tmp_path: Path) -> Path:
    """A working folder that sees the repository's tests/ and examples/, and keeps what a
    command writes (reports/, graded/) out of the repository."""
    tmp_path.mkdir(exist_ok=True)
    for name in ("tests", "examples"):
        (tmp_path / name).symlink_to(ROOT / name)
    return tmp_path


def test_every_block_says_what_it_is() -> None:
    unlabelled = [str(b) for b in BLOCKS if b.language not in LANGUAGES]
    assert not unlabelled, f"label each block with one of {sorted(LANGUAGES)}: {unlabelled}"


def test_every_exclusion_names_a_block() -> None:
    keys = [b.name for b in BLOCKS]
    stale = [key for key in EXCLUDED if keys.count(key) != 1]
    assert not stale, f"exclusions that name no block, or several: {stale}"


@pytest.mark.parametrize("block", _blocks("python"), ids=str)
def test_python_block_runs(block: Block, tmp_path: Path) -> None:
    if block.excerpt_of is not None:
        script = ROOT / block.excerpt_of
        assert is_excerpt_of(block, script.read_text()), f"{block} is not a piece of {script}"
    else:
        script = tmp_path / ("test_block.py" if "def test_" in block.text else "block.py")
        script.write_text(block.text)
    if script.name.startswith("test_"):
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(script)]
    else:
        command = [sys.executable, str(script)]
    process = _run(command, cwd=_scratch(tmp_path / "work"))
    assert process.returncode == 0, f"{block}\n{process.stdout}\n{process.stderr}"
    if script.name.startswith("test_"):
        assert " passed" in process.stdout and "failed" not in process.stdout.splitlines()[-1]


@pytest.mark.parametrize("block", _blocks("sh", "bash"), ids=str)
def test_shell_block_runs(block: Block, tmp_path: Path) -> None:
    script = _SHELL_PRELUDE + block.text
    process = _run(["bash", "-uo", "pipefail", "-c", script], cwd=_scratch(tmp_path / "work"))
    assert process.returncode <= 1, f"{block}\n{process.stdout}\n{process.stderr}"
    assert "Traceback" not in process.stdout + process.stderr, f"{block}\n{process.stderr}"


@pytest.mark.parametrize("block", _blocks("toml"), ids=str)
def test_toml_block_is_an_assignment(block: Block, tmp_path: Path) -> None:
    path = tmp_path / "assignment.toml"
    path.write_text(block.text)
    assignment = load_assignment(path)
    assert assignment.name


def test_the_quick_start_runs_in_a_fresh_clone(tmp_path: Path) -> None:
    """The quick start as a newcomer runs it: a copy of the working tree without .venv, the
    shell block line by line, then its Python example, whose output the README shows."""
    section = [b for b in BLOCKS if b.section == "Quick start"]
    shell, python, output = (
        next(b for b in section if b.language == k) for k in ("sh", "python", "text")
    )
    clone = tmp_path / "clone"
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, clone / name)
    assert not (clone / ".venv").exists()
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if Path(p) != BIN)
    process = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", shell.text],
        cwd=clone,
        capture_output=True,
        text=True,
        timeout=1200,
        env=env,
    )
    assert process.returncode == 0, process.stdout[-4000:] + process.stderr[-4000:]
    assert (clone / ".venv" / "bin" / "gradcheck").is_file()
    assert "# gradcheck report" in process.stdout
    assert "PASS" in process.stdout
    # the sweep's own run folder: `gradcheck validate` moved reports/latest to its own since
    (report,) = (clone / "reports").glob("2*/report.md")
    assert report.read_text().startswith("# gradcheck report\n\n**PASS**")
    assert report.stat().st_size <= 15_000, "a passing run's report.md reads at a glance"
    example = clone / "examples" / "quickstart.py"
    assert example.read_text() == python.text, "the README's example is examples/quickstart.py"
    assert output.text in process.stdout, "the README shows the example's output as it prints"
