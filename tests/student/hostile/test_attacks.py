"""The hostile corpus: submissions that try to fool, escape, stop, crash, leak through or flood
the grader, each judged by what the grader does with it.

Every file in ``attacks/`` is one submission against the ``two-layer`` contract, named
``<kind>_<name>.py`` and headed by the lines::

    # attack: <kind>      escape, cheat, signal, hang, crash, leak or flood
    # expect: <verdict>   pass, fail, error, not-pass or any
    # must: <what the grader must do with it>

Two more (a syntax error, a source with NUL and invalid UTF-8) are written at test time,
since ruff checks every ``.py`` file in this folder.

One ``gradcheck grade`` runs over the whole corpus (fixture ``run``), with a planted secret: a
0600 file ``secret.txt`` in the run's folder and ``GRADCHECK_TEST_SECRET`` in the grader's
environment. The attacks are told neither; they guess, scan the environment and read every
file they can find. A few of the nastiest are also run alone with ``gradcheck validate``.

What is checked, per attack: the grader answered once (one record in results.jsonl) and
did not fail on it (no record of an exception of the grader's own); the verdict is the one
the header expects (a cheat never passes); its record and its output files hold no secret
and no ``HOSTILE-SUCCESS`` (what an attack raises when something it tried worked), and are
bounded in size. For the run: it ended in time, without a traceback; no file outside the
sandbox changed; no process outlived it; summary.csv has a row per record; every file under
OUT is clean UTF-8 text.

The working tree is shared with other people editing gradcheck/ and tests/, so a change
there counts against the run only when it is the run's doing: a file named or filled with
this run's nonce, or owned by a uid other than the test's (each sandbox has a uid of its
own). Likewise in the host's /tmp: a new entry counts when a sandbox's uid owns it or it is
named like a planted file, and a ``gradcheck-submission-*`` folder when it holds this run's
nonce. The run's own folder, OUT and the validate reports aside, is compared strictly.

The whole module is skipped without bubblewrap: the weak fallback promises much less.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from gradcheck.student.isolation import probe

pytestmark = [
    pytest.mark.skipif(
        not probe().strong,
        reason=f"the hostile corpus needs bubblewrap's strong isolation ({probe().reason}); "
        "the weak fallback promises less",
    ),
    # One pytest-xdist worker runs the whole module (`--dist loadgroup`), so the corpus is
    # graded once (the module fixture ``run``), not once per worker.
    pytest.mark.xdist_group("hostile-corpus"),
]

ATTACKS = Path(__file__).resolve().parent / "attacks"
REPO = Path(__file__).resolve().parents[3]
SHARED_TREES = (REPO / "gradcheck", REPO / "tests")
KINDS = ("escape", "cheat", "signal", "hang", "crash", "leak", "flood")
EXPECTS = ("pass", "fail", "error", "not-pass", "any")
TIMEOUT = 10.0
JOBS = 2
MARKER = "gradcheck-hostile-marker"  # attacks put it in the argv of what they leave running
SUCCESS = "HOSTILE-SUCCESS"  # what an attack raises when something it tried worked
NUL = b"\0"
RECORD_BYTES = 1 << 20  # a record, or a file of one submission's, larger than this is a flood
# The validate runs: the grader's parent trusting its child, a daemon, signals, a leak.
NASTIEST = (
    "crash_forged_reply_bad_label",
    "crash_forged_load_info",
    "flood_npz_declares_terabytes",
    "hang_setsid_daemon_holds_pipe",
    "signal_kill_every_pid",
    "leak_files_in_output",
)

GENERATED = {
    "crash_syntax_error": (
        b"# attack: crash\n# expect: error\n"
        b"# must: report the syntax error without running anything\n"
        b'"""does not parse: a Python 2 print and an unclosed bracket"""\n\n'
        b'def backprop(X, y, weights, biases):\n    print "hello"\n    return {(\n'
    ),
    "crash_source_nul_and_bad_utf8": (
        b"# attack: crash\n# expect: error\n"
        b"# must: report a source that cannot be read as Python, quoting none of its bytes\n"
        b'"""holds a NUL byte, invalid UTF-8 and an escape sequence"""\n\n'
        b"def backprop(X, y, weights, biases):\n    return {}\n\x00\xff\xfe\x1b[2J\n"
    ),
}

_HEADER = re.compile(r"^#\s*(attack|expect|must|timeout):\s*(.*?)\s*$")


@dataclass(frozen=True)
class Attack:
    id: str
    kind: str
    expect: str
    must: str
    timeout: float
    source: bytes = field(repr=False)


def _attack(ident: str, source: bytes) -> Attack:
    header: dict[str, str] = {}
    for line in source.decode("utf-8", "replace").splitlines()[:6]:
        match = _HEADER.match(line)
        if match:
            header[match.group(1)] = match.group(2)
    return Attack(
        ident,
        header.get("attack", "?"),
        header.get("expect", "?"),
        header.get("must", ""),
        float(header.get("timeout", TIMEOUT)),
        source,
    )


def _corpus() -> list[Attack]:
    files = [_attack(p.stem, p.read_bytes()) for p in sorted(ATTACKS.glob("*.py"))]
    return sorted(files + [_attack(k, v) for k, v in GENERATED.items()], key=lambda a: a.id)


CORPUS = _corpus()
BY_ID = {attack.id: attack for attack in CORPUS}


# The run -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Finished:
    """One grader command: its exit status, its output, its time."""

    command: list[str]
    returncode: int | None
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool

    def tail(self, lines: int = 25) -> str:
        return "\n".join(self.stderr.splitlines()[-lines:])


@dataclass
class Run:
    root: Path
    out: Path
    validate_out: Path
    nonce: str
    secrets: dict[str, str]
    grade: Finished
    limit: float
    records: dict[str, list[dict[str, Any]]]
    torn_lines: int
    validated: dict[str, Finished]
    changed_here: list[str] = field(default_factory=list)
    changed_shared: list[str] = field(default_factory=list)
    new_in_tmp: list[str] = field(default_factory=list)
    survivors: list[str] = field(default_factory=list)

    def context(self) -> str:
        """What a failing per-attack test shows of the run as a whole."""
        return (
            f"the grade run exited {self.grade.returncode} after {self.grade.seconds:.0f} s "
            f"({'killed at the limit' if self.grade.timed_out else 'on its own'}); "
            f"its stderr ends:\n{self.grade.tail()}"
        )


def _execute(command: list[str], env: dict[str, str], cwd: Path, limit: float) -> Finished:
    """Run ``command`` in a session of its own; past ``limit`` seconds, kill the session."""
    start = time.monotonic()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    timed_out = False
    try:
        stdout, stderr = process.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
    return Finished(
        command,
        process.returncode,
        stdout.decode("utf-8", "replace"),
        stderr.decode("utf-8", "replace"),
        time.monotonic() - start,
        timed_out,
    )


def _tree(root: Path, skip: tuple[Path, ...] = ()) -> dict[str, tuple[int, int, int]]:
    """path → (size, mtime_ns, owner uid) of every file and link under ``root``."""
    found = {}
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = [d for d in dirs if here / d not in skip]
        for name in files + [d for d in dirs if (here / d).is_symlink()]:
            path = here / name
            try:
                st = path.lstat()
            except OSError:
                continue
            found[str(path)] = (st.st_size, st.st_mtime_ns, st.st_uid)
    return found


def _tmp_entries() -> dict[str, int]:
    entries = {}
    for entry in Path("/tmp").iterdir():
        try:
            entries[entry.name] = entry.lstat().st_uid
        except OSError:
            continue
    return entries


def _holds(path: Path, needles: tuple[str, ...]) -> bool:
    try:
        data = path.read_bytes()[: 1 << 20]
    except OSError:
        return False
    return any(n.encode() in data for n in needles)


def _ours(change: str, after: dict[str, tuple[int, int, int]], needles: tuple[str, ...]) -> bool:
    """Whether a change in the shared tree is this run's doing: its name, its owner (each
    sandbox has a uid of its own) or its contents say so."""
    path = change.split(" ", 1)[1]
    if "hostile-planted" in path or any(n in path for n in needles):
        return True
    if path not in after:  # removed: only its name could tell
        return False
    return after[path][2] != os.geteuid() or _holds(Path(path), needles)


def _diff(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    changed = [f"new {p}" for p in after.keys() - before.keys()]
    changed += [f"removed {p}" for p in before.keys() - after.keys()]
    changed += [f"changed {p}" for p in before.keys() & after.keys() if before[p] != after[p]]
    return sorted(changed)


def _processes_with(needle: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and entry.name != str(os.getpid()):
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if needle.encode() in cmdline:
                found.append(f"{entry.name}: {cmdline.replace(NUL, b' ')[:200]!r}")
    return found


def _survivors(needle: str, grace: float = 10.0) -> list[str]:
    """The processes still holding ``needle`` after ``grace`` seconds: a pid namespace being
    torn down may take a moment to reap its last processes."""
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and _processes_with(needle):
        time.sleep(0.2)
    return _processes_with(needle)


def _read_records(path: Path) -> tuple[dict[str, list[dict[str, Any]]], int]:
    records: dict[str, list[dict[str, Any]]] = {}
    torn = 0
    if not path.exists():
        return records, torn
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            torn += 1
            continue
        records.setdefault(str(record.get("id")), []).append(record | {"_bytes": len(line)})
    return records, torn


def _plant(root: Path) -> dict[str, str]:
    token = secrets.token_hex(16)
    secret = root / "secret.txt"
    secret.write_text(f"the planted secret: {token}\n")
    secret.chmod(0o600)
    passwd = Path("/etc/passwd").read_text(errors="replace").splitlines()[:1]
    planted = {"secret.txt": token, "GRADCHECK_TEST_SECRET": secrets.token_hex(16)}
    if passwd and len(passwd[0]) >= 12:
        planted["the host's /etc/passwd"] = passwd[0]
    return planted


def _submissions(root: Path, nonce: str) -> Path:
    """The corpus, with this run's marker in the attacks' argv and its nonce in every file."""
    folder = root / "submissions"
    folder.mkdir()
    for attack in CORPUS:
        text = attack.source.replace(f'"{MARKER}"'.encode(), f'"{MARKER}-{nonce}"'.encode())
        (folder / f"{attack.id}.py").write_bytes(text + f"\n# run {nonce}\n".encode())
    return folder


def _new_in_tmp(before: dict[str, int], needles: tuple[str, ...]) -> list[str]:
    """New entries of the host's /tmp that are this run's doing: a sandbox's uid, a planted
    name, or a weak-isolation folder left behind with this run's submission in it."""
    found = []
    for name, uid in sorted(_tmp_entries().items()):
        left = name.startswith("gradcheck-submission-") and _holds(
            Path("/tmp", name, "submission.py"), needles
        )
        new = name not in before and (
            "hostile" in name or any(n in name for n in needles) or uid != os.geteuid()
        )
        if left or new:
            found.append(f"/tmp/{name} (uid {uid})")
    return found


def _grader(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "gradcheck", *arguments]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    root = tmp_path_factory.mktemp("hostile")
    nonce = secrets.token_hex(8)
    planted = _plant(root)
    submissions = _submissions(root, nonce)
    out, validate_out = root / "out", root / "validate-out"
    env = {**os.environ, "GRADCHECK_TEST_SECRET": planted["GRADCHECK_TEST_SECRET"]}
    needles = (nonce,)  # every submission, and the marker of what it leaves running, holds it
    here_before = _tree(root)
    shared_before = {str(t): _tree(t) for t in SHARED_TREES}
    tmp_before = _tmp_entries()

    timeout = max(a.timeout for a in CORPUS)
    limit = math.ceil(len(CORPUS) / JOBS) * (timeout + 10)
    grade = _execute(
        _grader(
            "grade",
            str(submissions),
            "--assignment",
            "two-layer",
            "--out",
            str(out),
            "--timeout",
            f"{timeout:g}",
            "--jobs",
            str(JOBS),
        ),
        env,
        root,
        limit + 30,
    )
    survivors = _survivors(f"{MARKER}-{nonce}")  # what outlived the grade run itself
    validated = {}
    for ident in NASTIEST:
        validated[ident] = _execute(
            _grader(
                "validate",
                str(submissions / f"{ident}.py"),
                "--assignment",
                "two-layer",
                "--timeout",
                f"{BY_ID[ident].timeout:g}",
                "--format",
                "json",
                "--out",
                str(validate_out / ident),
            ),
            env,
            root,
            4 * (BY_ID[ident].timeout + 10),
        )
    records, torn = _read_records(out / "results.jsonl")
    result = Run(root, out, validate_out, nonce, planted, grade, limit, records, torn, validated)

    result.survivors = survivors + _survivors(f"{MARKER}-{nonce}")
    result.changed_here = _diff(here_before, _tree(root, skip=(out, validate_out)))
    for tree in SHARED_TREES:
        after = _tree(tree)
        changes = _diff(shared_before[str(tree)], after)
        result.changed_shared += [c for c in changes if _ours(c, after, needles)]
    result.new_in_tmp = _new_in_tmp(tmp_before, needles)
    return result


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def _found_in(data: bytes, run: Run) -> list[str]:
    """The planted secrets and success markers that ``data`` holds."""
    found = [name for name, value in run.secrets.items() if value.encode() in data]
    return found + ([SUCCESS] if SUCCESS.encode() in data else [])


def _verdict_ok(expect: str, verdict: str) -> bool:
    return {
        "pass": verdict == "pass",
        "fail": verdict == "fail",
        "error": verdict == "error",
        "not-pass": verdict != "pass",
        "any": True,
    }[expect]


def _describe(record: dict[str, Any]) -> str:
    message = str(record.get("message", ""))
    return (
        f"verdict {record.get('verdict')!r}, labels {record.get('labels')}, "
        f"message: {message[:600]!r}{' …' if len(message) > 600 else ''}"
    )


def _record(run: Run, attack: Attack) -> dict[str, Any]:
    found = run.records.get(attack.id, [])
    if len(found) != 1:
        pytest.fail(
            f"{attack.id}: {len(found)} records in results.jsonl, expected exactly one "
            f"(the grader must: {attack.must}). {run.context()}"
        )
    return found[0]


# The corpus itself -----------------------------------------------------------------------
def test_the_corpus_covers_every_kind_with_well_formed_headers() -> None:
    assert len(CORPUS) >= 45
    for attack in CORPUS:
        assert attack.kind in KINDS and attack.id.startswith(f"{attack.kind}_"), attack.id
        assert attack.expect in EXPECTS, f"{attack.id}: expect {attack.expect!r}"
        assert attack.must, f"{attack.id}: the header says nothing the grader must do"
        assert attack.kind != "cheat" or attack.expect != "pass", attack.id
    counts = {kind: sum(a.kind == kind for a in CORPUS) for kind in KINDS}
    assert min(counts.values()) >= 3, counts


# Per attack ------------------------------------------------------------------------------
@pytest.mark.parametrize("attack", CORPUS, ids=[a.id for a in CORPUS])
def test_the_grader_answered_it_once(attack: Attack, run: Run) -> None:
    _record(run, attack)


@pytest.mark.parametrize("attack", CORPUS, ids=[a.id for a in CORPUS])
def test_the_grader_did_not_fail_on_it(attack: Attack, run: Run) -> None:
    record = _record(run, attack)
    trace = str(record.get("traceback") or "")
    errors = re.findall(r"^\w[\w.]*(?:Error|Exception|Interrupt)\b.*$", trace, re.MULTILINE)
    assert not trace and "grader failed" not in str(record.get("message")), (
        f"{attack.id}: the grader failed on it (it must: {attack.must}): "
        f"{record.get('message')!r}; {errors[-1:] or trace[-300:]}"
    )


@pytest.mark.parametrize("attack", CORPUS, ids=[a.id for a in CORPUS])
def test_its_verdict_is_the_one_it_deserves(attack: Attack, run: Run) -> None:
    record = _record(run, attack)
    expect = "not-pass" if attack.kind == "cheat" and attack.expect == "any" else attack.expect
    assert _verdict_ok(expect, str(record.get("verdict"))), (
        f"{attack.id} (expect {expect}; the grader must: {attack.must}): {_describe(record)}"
    )


@pytest.mark.parametrize("attack", CORPUS, ids=[a.id for a in CORPUS])
def test_its_results_hold_no_secret_and_no_success(attack: Attack, run: Run) -> None:
    record = _record(run, attack)
    leaks = {"record": _found_in(json.dumps(record).encode(), run)}
    for path in _files(run.out / attack.id):
        leaks[str(path.relative_to(run.out))] = _found_in(path.read_bytes(), run)
    leaks = {where: found for where, found in leaks.items() if found}
    assert not leaks, f"{attack.id}: {leaks}; {_describe(record)}"


@pytest.mark.parametrize("attack", CORPUS, ids=[a.id for a in CORPUS])
def test_what_it_makes_the_grader_keep_is_bounded(attack: Attack, run: Run) -> None:
    record = _record(run, attack)
    sizes = {"its line in results.jsonl": int(record["_bytes"])}
    sizes.update(
        {str(p.relative_to(run.out)): p.stat().st_size for p in _files(run.out / attack.id)}
    )
    large = {where: size for where, size in sizes.items() if size > RECORD_BYTES}
    assert not large, f"{attack.id}: bytes kept {large} (at most {RECORD_BYTES} each)"


# The run as a whole ----------------------------------------------------------------------
def test_the_grade_run_ended_in_time_without_a_traceback(run: Run) -> None:
    grade = run.grade
    assert not grade.timed_out and grade.seconds <= run.limit, (
        f"the grade run took {grade.seconds:.0f} s (limit {run.limit:.0f} s) and was "
        f"{'killed' if grade.timed_out else 'not killed'}. {run.context()}"
    )
    assert grade.returncode in (0, 1), run.context()
    for sign in ("Traceback (most recent call last)", "Exception in thread", "Fatal Python error"):
        assert sign not in grade.stderr, f"{sign!r} on the grader's stderr. {run.context()}"


def test_no_secret_or_success_reached_any_output(run: Run) -> None:
    places = {"grade stdout": run.grade.stdout.encode(), "grade stderr": run.grade.stderr.encode()}
    for path in _files(run.out) + _files(run.validate_out):
        places[str(path.relative_to(run.root))] = path.read_bytes()
    for ident, done in run.validated.items():
        places[f"validate {ident} stdout"] = done.stdout.encode()
        places[f"validate {ident} stderr"] = done.stderr.encode()
    leaks = {where: found for where, data in places.items() if (found := _found_in(data, run))}
    assert not leaks, f"leaked or escaped: {leaks}"


_UNCLEAN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def test_every_output_file_is_clean_text(run: Run) -> None:
    problems = []
    for path in _files(run.out) + _files(run.validate_out):
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as error:
            problems.append(f"{path.relative_to(run.root)}: not UTF-8 ({error})")
            continue
        bad = _UNCLEAN.search(text)
        if bad:
            problems.append(f"{path.relative_to(run.root)}: holds {bad.group()!r}")
    assert not problems, "\n".join(problems)


def test_no_file_outside_the_sandbox_changed(run: Run) -> None:
    assert not run.changed_here, f"in the run's own folder (not OUT): {run.changed_here}"
    assert not run.changed_shared, f"in the working tree, by this run: {run.changed_shared}"
    assert not run.new_in_tmp, f"new in /tmp: {run.new_in_tmp}"


def test_no_process_outlived_the_run(run: Run) -> None:
    assert not run.survivors, f"still running with this run's marker: {run.survivors}"


def test_summary_csv_has_a_row_per_record_and_no_stranger(run: Run) -> None:
    ids = set(run.records)
    assert ids <= set(BY_ID), f"records for no attack: {sorted(ids - set(BY_ID))}"
    assert run.torn_lines == 0, f"{run.torn_lines} lines of results.jsonl do not parse"
    summary = run.out / "summary.csv"
    assert summary.exists(), f"no summary.csv. {run.context()}"
    with summary.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == sum(len(r) for r in run.records.values()) == len(CORPUS), (
        f"{len(rows)} rows, {sum(len(r) for r in run.records.values())} records, "
        f"{len(CORPUS)} attacks"
    )


# The nastiest, alone ---------------------------------------------------------------------
@pytest.mark.parametrize("ident", NASTIEST)
def test_validate_answers_the_nastiest_alone(ident: str, run: Run) -> None:
    attack, done = BY_ID[ident], run.validated[ident]
    where = f"gradcheck validate {ident} exited {done.returncode} after {done.seconds:.0f} s"
    assert not done.timed_out, f"{where}: killed at the limit; stderr:\n{done.tail()}"
    for sign in ("Traceback (most recent call last)", "Exception in thread"):
        assert sign not in done.stderr, f"{where} with {sign!r} on stderr:\n{done.tail()}"
    assert done.returncode in (0, 1), f"{where}; stderr:\n{done.tail()}"
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, f"{where}: {len(lines)} lines on stdout, expected one JSON object"
    record = json.loads(lines[0])
    assert _verdict_ok(attack.expect, str(record.get("verdict"))), (
        f"{where}: expect {attack.expect}; {_describe(record)}"
    )
