"""Every bad command-line value gets exit 2 and one line that names it: never a traceback,
never a silent wrong answer, and (almost always) before any work starts.

Each case is ``(argv, needle)``: the invocation, and a string that the last line of stderr
must hold (the option or the value at fault). ``{name}`` in an argument is replaced by the
path of that name in the scratch world built by ``world``. The cases run in-process through
``gradcheck.cli.main``; a few run again as real subprocesses for the real exit code.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest

from gradcheck.cli import main
from tests.student.corpus import CORPUS

REPO = Path(__file__).resolve().parents[2]
GOOD = CORPUS / "two-layer" / "correct_looped.py"
BASELINE = REPO / "tests" / "baselines" / "core"
HUGE_INT = str(10**30)
ROOT = os.geteuid() == 0

# Small settings placed before the option under test (argparse keeps the last value given),
# so that a case which wrongly starts work ends soon.
CHECK = ["check", "--examples", "1", "--engines", "core,fd", "--activations", "tanh", "--losses",
         "mse", "--dtype", "float64", "--max-depth", "1", "--max-width", "2", "--no-progress",
         "--jobs", "1", "--out", "{tmp}/reports"]  # fmt: skip
COMPARE = ["compare", "--engines", "core", "--dtypes", "float64", "--devices", "cpu",
           "--examples", "1", "--out", "{tmp}/reports"]  # fmt: skip
RECORD = ["baseline", "record", "{tmp}/base", "--spec", "3-2 hidden=tanh loss=mse"]
BCHECK = ["baseline", "check", str(BASELINE)]
VALIDATE = ["validate", str(GOOD), "--assignment", "two-layer", "--examples", "1",
            "--reports", "none"]  # fmt: skip
VALIDATE_OUT = ["validate", str(GOOD), "--assignment", "two-layer", "--examples", "1"]
GRADE = ["grade", "{subs}", "--out", "{tmp}/graded", "--assignment", "two-layer",
         "--examples", "1", "--jobs", "1"]  # fmt: skip


def _numbers(prefix: list[str], option: str, values: list[str]) -> list[tuple[list[str], str]]:
    return [([*prefix, option, value], option) for value in values]


COUNTS = ["0", "-1", "nan", "inf", "1.5", "abc", "", HUGE_INT]
SEEDS = ["-1", "nan", "inf", "1.5", "abc", "", HUGE_INT]
SECONDS = ["0", "-1", "nan", "inf", "-inf", "1e308", "abc", "", "1e-9"]
TOLERANCES = ["-1", "nan", "inf", "1e308", "abc", ""]

CASES: list[tuple[list[str], str]] = [
    # the top level
    (["nope"], "nope"),
    (["--bogus"], "--bogus"),
    (["assignments", "extra"], "extra"),
    # check: numbers
    *_numbers(CHECK, "--seed", SEEDS),
    *_numbers(CHECK, "--examples", COUNTS),
    *_numbers(CHECK, "--max-depth", ["0", "-3", "nan", "abc", HUGE_INT, "100000"]),
    *_numbers(CHECK, "--max-width", ["0", "-3", "inf", "abc", HUGE_INT, "10000000"]),
    *_numbers(CHECK, "--jobs", ["0", "-2", "nan", "abc", HUGE_INT, "100000"]),
    # check: names and lists
    ([*CHECK, "--engines", ""], "--engines"),
    ([*CHECK, "--engines", ","], "--engines"),
    ([*CHECK, "--engines", "core,core"], "core"),
    ([*CHECK, "--engines", "core"], "core"),
    ([*CHECK, "--engines", "core,troch"], "troch"),
    ([*CHECK, "--activations", ""], "--activations"),
    ([*CHECK, "--activations", "tanhh"], "tanhh"),
    ([*CHECK, "--activations", "tanh,tanh"], "tanh"),
    ([*CHECK, "--losses", ""], "--losses"),
    ([*CHECK, "--losses", "mse2"], "mse2"),
    ([*CHECK, "--losses", "mse,mse"], "mse"),
    ([*CHECK, "--dtype", "float16"], "--dtype"),
    ([*CHECK, "--kinks", "sometimes"], "--kinks"),
    ([*CHECK, "--format", "pdf"], "pdf"),
    ([*CHECK, "--format", ""], "--format"),
    ([*CHECK, "--format", "md,md"], "md"),
    # check: paths
    ([*CHECK, "--out", "{file}"], "{file}"),
    ([*CHECK, "--out", "{file}/sub"], "{file}"),
    ([*CHECK, "--out", "/proc/gradcheck-x"], "/proc/gradcheck-x"),
    ([*CHECK, "--out", ""], "--out"),
    ([*CHECK, "--out", "{stale}"], "{stale}/latest"),
    ([*CHECK, "--case", "{tmp}/missing.npz"], "missing.npz"),
    ([*CHECK, "--case", "{dir}"], "{dir}"),
    ([*CHECK, "--case", "{bad_npz}"], "{bad_npz}"),
    ([*CHECK, "--case", "{file}"], "{file}"),
    ([*CHECK, "--case", "{empty_npz}"], "{empty_npz}"),
    ([*CHECK, "--case", "{other_npz}"], "{other_npz}"),
    # compare
    *_numbers(COMPARE, "--examples", COUNTS),
    *_numbers(COMPARE, "--seed", SEEDS),
    ([*COMPARE, "--engines", ""], "--engines"),
    ([*COMPARE, "--engines", "core,troch"], "troch"),
    ([*COMPARE, "--engines", "fd"], "fd"),
    ([*COMPARE, "--dtypes", ""], "--dtypes"),
    ([*COMPARE, "--dtypes", "float16"], "float16"),
    ([*COMPARE, "--dtypes", "float64,float64"], "float64"),
    ([*COMPARE, "--devices", ""], "--devices"),
    ([*COMPARE, "--devices", "tpu"], "tpu"),
    ([*COMPARE, "--reference", "exact"], "exact"),
    ([*COMPARE, "--reference", ""], "--reference"),
    ([*COMPARE, "--format", "pdf"], "pdf"),
    ([*COMPARE, "--format", ""], "--format"),
    ([*COMPARE, "--out", "{file}"], "{file}"),
    ([*COMPARE, "--out", "{file}/sub"], "{file}"),
    ([*COMPARE, "--out", "/proc/gradcheck-x"], "/proc/gradcheck-x"),
    ([*COMPARE, "--out", "{stale}"], "{stale}/latest"),
    # baseline record
    ([*RECORD, "--seeds", "-1"], "--seeds"),
    ([*RECORD, "--seeds", "5-2"], "--seeds"),
    ([*RECORD, "--seeds", ""], "--seeds"),
    ([*RECORD, "--seeds", "0,0"], "0"),
    ([*RECORD, "--seeds", "abc"], "--seeds"),
    ([*RECORD, "--seeds", f"0-{HUGE_INT}"], "--seeds"),
    ([*RECORD, "--seeds", HUGE_INT], "--seeds"),
    ([*RECORD, "--dtypes", ""], "--dtypes"),
    ([*RECORD, "--dtypes", "float16"], "float16"),
    ([*RECORD, "--dtypes", "float64,float64"], "float64"),
    ([*RECORD, "--engine", "troch"], "troch"),
    ([*RECORD, "--engine", ""], "--engine"),
    *_numbers(RECORD, "--batch", ["0", "-1", "nan", "abc", HUGE_INT, "100000000"]),
    ([*RECORD, "--spec", "nonsense"], "nonsense"),
    ([*RECORD, "--spec", ""], "--spec"),
    ([*RECORD, "--spec", "3-2 hidden=tanhh loss=mse"], "tanhh"),
    ([*RECORD, "--preset", "everything"], "--preset"),
    (["baseline", "record", "{tmp}/base"], "--spec"),
    (["baseline", "record", "{dir}", "--spec", "3-2 hidden=tanh loss=mse"], "{dir}"),
    (["baseline", "record", "{npz_dir}", "--spec", "3-2 hidden=tanh loss=mse"], "{npz_dir}"),
    (["baseline", "record", "{file}/base", "--spec", "3-2 hidden=tanh loss=mse"], "{file}"),
    (
        ["baseline", "record", "/proc/gradcheck-x", "--spec", "3-2 hidden=tanh loss=mse"],
        "/proc/gradcheck-x",
    ),
    (["baseline", "record", "{bad_base}", "--spec", "3-2 hidden=tanh loss=mse"], "{bad_base}"),
    (["baseline", "record", "", "--spec", "3-2 hidden=tanh loss=mse"], "path"),
    (["baseline", "nope"], "nope"),
    (["baseline"], "ACTION"),
    # baseline check
    *_numbers(BCHECK, "--rtol", TOLERANCES),
    *_numbers(BCHECK, "--atol", TOLERANCES),
    ([*BCHECK, "--engine", "troch"], "troch"),
    ([*BCHECK, "--engine", ""], "--engine"),
    ([*BCHECK, "--format", "xml"], "--format"),
    (["baseline", "check", "{tmp}/missing"], "missing"),
    (["baseline", "check", "{dir}"], "{dir}"),
    (["baseline", "check", "{bad_base}"], "{bad_base}"),
    (["baseline", "check", ""], "path"),
    # validate: numbers
    *_numbers(VALIDATE, "--timeout", SECONDS),
    *_numbers(VALIDATE, "--memory", ["0", "1", "100", "-5", "nan", "abc", HUGE_INT, "1e9"]),
    *_numbers(VALIDATE, "--examples", COUNTS),
    *_numbers(VALIDATE, "--seed", SEEDS),
    # validate: names, files, paths
    ([*VALIDATE, "--assignment", "two-lyer"], "two-lyer"),
    ([*VALIDATE, "--assignment", ""], "--assignment"),
    ([*VALIDATE, "--assignment", "{tmp}/missing.toml"], "missing.toml"),
    ([*VALIDATE, "--assignment", "{dir}"], "{dir}"),
    ([*VALIDATE, "--assignment", "{bad_toml}"], "{bad_toml}"),
    ([*VALIDATE, "--assignment", "{badkey_toml}"], "activation"),
    ([*VALIDATE, "--assignment", "{badconv_toml}"], "lstm"),
    ([*VALIDATE, "--assignment", "{badact_toml}"], "tanhh"),
    ([*VALIDATE, "--assignment", "{baddepth_toml}"], "depth"),
    ([*VALIDATE, "--assignment", "{badtype_toml}"], "max_depth"),
    ([*VALIDATE, "--assignment", "{bad_py_spec}"], "{bad_py_spec}"),
    ([*VALIDATE, "--format", "xml"], "--format"),
    ([*VALIDATE, "--reports", "pdf"], "pdf"),
    ([*VALIDATE, "--reports", ""], "--reports"),
    ([*VALIDATE, "--reports", "md,md"], "md"),
    ([*VALIDATE, "--reports", "none,md"], "none"),
    (["validate", "{tmp}/missing.py", "--assignment", "two-layer"], "missing.py"),
    (["validate", "{dir}", "--assignment", "two-layer"], "{dir}"),
    (["validate", "", "--assignment", "two-layer"], "file"),
    (["validate", str(GOOD)], "--assignment"),
    ([*VALIDATE_OUT, "--out", "{file}"], "{file}"),
    ([*VALIDATE_OUT, "--out", "{file}/sub"], "{file}"),
    ([*VALIDATE_OUT, "--out", "/proc/gradcheck-x"], "/proc/gradcheck-x"),
    ([*VALIDATE_OUT, "--out", ""], "--out"),
    # grade
    *_numbers(GRADE, "--timeout", ["0", "nan", "inf", "1e308"]),
    *_numbers(GRADE, "--memory", ["1", "0", HUGE_INT]),
    *_numbers(GRADE, "--examples", ["0", HUGE_INT]),
    *_numbers(GRADE, "--seed", ["-1", HUGE_INT]),
    *_numbers(GRADE, "--jobs", ["0", "-1", "abc", HUGE_INT, "100000"]),
    ([*GRADE, "--assignment", "two-lyer"], "two-lyer"),
    ([*GRADE, "--assignment", "{bad_toml}"], "{bad_toml}"),
    ([*GRADE, "--out", "{file}"], "{file}"),
    ([*GRADE, "--out", "{file}/sub"], "{file}"),
    ([*GRADE, "--out", "/proc/gradcheck-x"], "/proc/gradcheck-x"),
    ([*GRADE, "--out", "{subs}"], "--out"),
    ([*GRADE, "--out", "{subs}/graded"], "--out"),
    ([*GRADE, "--out", ""], "--out"),
    (["grade", "{empty}", "--out", "{tmp}/graded", "--assignment", "two-layer"], "{empty}"),
    (
        ["grade", "{tmp}/missing", "--out", "{tmp}/graded", "--assignment", "two-layer"],
        "missing",
    ),
    (["grade", "{file}", "--out", "{tmp}/graded", "--assignment", "two-layer"], "{file}"),
    (["grade", "", "--out", "{tmp}/graded", "--assignment", "two-layer"], "folder"),
    (["grade", "{subs}", "--assignment", "two-layer"], "--out"),
]


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The scratch world, with the cwd moved there so that default report folders stay out of
    the repository."""
    monkeypatch.chdir(tmp_path)
    return build_world(tmp_path)


def build_world(tmp_path: Path) -> dict[str, str]:
    """A scratch folder of good and bad things to point options at."""
    (tmp_path / "a-file.txt").write_text("not a folder\n")
    (tmp_path / "a-dir").mkdir()
    (tmp_path / "empty").mkdir()
    (tmp_path / "a-dir.npz").mkdir()
    (tmp_path / "stale" / "latest").mkdir(parents=True)  # a copied reports tree: no link
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 this is no zip archive")
    (tmp_path / "empty.npz").write_bytes(b"")
    with (tmp_path / "other.npz").open("wb") as handle:
        import numpy as np

        np.savez(handle, weights=np.zeros(3))
    (tmp_path / "bad-base.json").write_text("{not json")
    (tmp_path / "bad-base.npz").write_bytes(b"junk")
    (tmp_path / "bad.toml").write_text("name = [unclosed\n")
    (tmp_path / "badkey.toml").write_text('convention = "deep-mlp"\nactivation = "tanh"\n')
    (tmp_path / "badconv.toml").write_text('convention = "lstm"\n')
    (tmp_path / "badact.toml").write_text('convention = "deep-mlp"\nactivations = ["tanhh"]\n')
    (tmp_path / "baddepth.toml").write_text(
        'convention = "deep-mlp"\nmin_depth = 5\nmax_depth = 2\n'
    )
    (tmp_path / "badtype.toml").write_text('convention = "deep-mlp"\nmax_depth = "deep"\n')
    (tmp_path / "bad-spec.py").write_text("ASSIGNMENT = dict(convention=open('/etc/passwd'))\n")
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(GOOD, subs / "alice.py")
    return {
        "tmp": str(tmp_path),
        "file": str(tmp_path / "a-file.txt"),
        "dir": str(tmp_path / "a-dir"),
        "empty": str(tmp_path / "empty"),
        "npz_dir": str(tmp_path / "a-dir.npz"),
        "stale": str(tmp_path / "stale"),
        "bad_npz": str(tmp_path / "bad.npz"),
        "empty_npz": str(tmp_path / "empty.npz"),
        "other_npz": str(tmp_path / "other.npz"),
        "bad_base": str(tmp_path / "bad-base"),
        "bad_toml": str(tmp_path / "bad.toml"),
        "badkey_toml": str(tmp_path / "badkey.toml"),
        "badconv_toml": str(tmp_path / "badconv.toml"),
        "badact_toml": str(tmp_path / "badact.toml"),
        "baddepth_toml": str(tmp_path / "baddepth.toml"),
        "badtype_toml": str(tmp_path / "badtype.toml"),
        "bad_py_spec": str(tmp_path / "bad-spec.py"),
        "subs": str(subs),
    }


def _ident(argv: list[str]) -> str:
    """``validate --memory 1``: the command and the last option, for a readable test id."""
    head = argv[:2] if argv[0] == "baseline" else argv[:1]
    tail = argv[max(len(head), len(argv) - 2) :]
    return " ".join(repr(a) if not a else a.replace(str(10**30), "1e30") for a in head + tail)


def _fill(text: str, world: dict[str, str]) -> str:
    for name in sorted(world, key=len, reverse=True):  # {tmp} last: other names hold it
        text = text.replace("{" + name + "}", world[name])
    return text


class _Hung(BaseException):
    """Raised by the alarm: a bad value that started work instead of failing fast. A
    BaseException, so neither Hypothesis nor an engine's ``except Exception`` swallows it."""


@pytest.fixture
def alarm() -> Iterator[None]:
    def ring(signum: int, frame: FrameType | None) -> None:
        raise _Hung("the command was still running after 30 s")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.alarm(30)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _invoke(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exit:  # argparse's usage errors
        code = exit.code if isinstance(exit.code, int) else 2
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _assert_refused(code: int, out: str, err: str, needle: str) -> None:
    lines = err.strip().splitlines()
    last = lines[-1] if lines else ""
    assert "Traceback" not in out + err, err
    assert code == 2, f"exit {code}; stderr: {err[-2000:]}"
    assert needle in last, f"{needle!r} not in the last line {last!r}"
    assert last.startswith("gradcheck"), last


@pytest.mark.usefixtures("alarm")
@pytest.mark.parametrize(("argv", "needle"), CASES, ids=[_ident(argv) for argv, _ in CASES])
def test_a_bad_invocation_exits_2_naming_the_culprit(
    argv: list[str], needle: str, world: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [_fill(a, world) for a in argv]
    _assert_refused(*_invoke(argv, capsys), _fill(needle, world))


def _weak(monkeypatch: pytest.MonkeyPatch) -> None:
    from gradcheck.student import isolation

    weak = isolation.Isolation(False, "bwrap is not installed (test)")
    monkeypatch.setattr(isolation, "probe", lambda: weak)


@pytest.mark.usefixtures("alarm")
@pytest.mark.parametrize("command", [VALIDATE, GRADE], ids=["validate", "grade"])
def test_require_isolation_refuses_weak_isolation_before_grading(
    command: list[str],
    world: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _weak(monkeypatch)
    argv = [_fill(a, world) for a in [*command, "--require-isolation"]]
    _assert_refused(*_invoke(argv, capsys), "bwrap is not installed (test)")
    assert not Path(world["tmp"], "graded").exists()


@pytest.mark.usefixtures("alarm")
def test_weak_isolation_is_warned_about_before_grading(
    world: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _weak(monkeypatch)
    code, _, err = _invoke(VALIDATE, capsys)
    assert code == 0, err
    first = err.splitlines()[0]
    assert first == "gradcheck: warning: isolation is weak: bwrap is not installed (test)"


@pytest.mark.usefixtures("alarm")
def test_a_good_out_still_works_after_the_checks(
    world: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """The path checks refuse only what is bad: a new nested folder is fine."""
    out = Path(world["tmp"], "new", "nested")
    code, stdout, err = _invoke([*VALIDATE_OUT, "--out", str(out)], capsys)
    assert code == 0, err
    assert (out / "latest" / "submission.json").is_file() and stdout.startswith("PASS")


SUBPROCESS_CASES = [
    ([*CHECK, "--seed", "-1"], "--seed"),
    ([*VALIDATE, "--timeout", "inf"], "--timeout"),
    ([*VALIDATE, "--memory", "1"], "--memory"),
    ([*VALIDATE_OUT, "--out", "{file}"], "{file}"),
    ([*COMPARE, "--out", "/proc/gradcheck-x"], "/proc/gradcheck-x"),
    ([*COMPARE, "--out", "{stale}"], "{stale}/latest"),
    (["grade", "{empty}", "--out", "{tmp}/graded", "--assignment", "two-layer"], "{empty}"),
    (["baseline", "record", "{dir}", "--spec", "3-2 hidden=tanh loss=mse"], "{dir}"),
]


@pytest.mark.parametrize(
    ("argv", "needle"), SUBPROCESS_CASES, ids=[_ident(argv) for argv, _ in SUBPROCESS_CASES]
)
def test_a_bad_invocation_exits_2_in_a_real_process(
    argv: list[str], needle: str, world: dict[str, str]
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gradcheck", *[_fill(a, world) for a in argv]],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=world["tmp"],
    )
    _assert_refused(done.returncode, done.stdout, done.stderr, _fill(needle, world))


@pytest.mark.skipif(ROOT, reason="root reads and writes through permission bits")
@pytest.mark.usefixtures("alarm")
def test_unreadable_and_unwritable_paths_are_named(
    world: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    locked = Path(world["tmp"], "locked")
    locked.mkdir()
    secret = Path(world["tmp"], "secret.toml")
    secret.write_text('convention = "deep-mlp"\n')
    secret.chmod(0)
    locked.chmod(0o500)
    try:
        for argv, needle in [
            ([*VALIDATE_OUT, "--out", f"{locked}/reports"], str(locked)),
            ([*COMPARE, "--out", f"{locked}/reports"], str(locked)),
            ([*VALIDATE, "--assignment", str(secret)], str(secret)),
        ]:
            _assert_refused(*_invoke([_fill(a, world) for a in argv], capsys), needle)
    finally:
        locked.chmod(0o700)


def test_a_latest_folder_is_refused_only_where_runs_are_published(tmp_path: Path) -> None:
    """`grade --out` holds one folder per student, so a student called ``latest`` is fine
    there; under a reports root, ``latest`` is the link that each run re-points."""
    from gradcheck.cli.args import check_output_folder
    from gradcheck.errors import GradcheckError

    (tmp_path / "latest").mkdir()
    check_output_folder(tmp_path)
    with pytest.raises(GradcheckError, match="latest"):
        check_output_folder(tmp_path, runs=True)
    (tmp_path / "latest").rmdir()
    (tmp_path / "latest").symlink_to(tmp_path)
    check_output_folder(tmp_path, runs=True)
