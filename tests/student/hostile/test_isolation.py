"""Attacks on the sandbox itself, each judged by what the submission cannot do.

Every attack runs as a real submission in a real bubblewrap sandbox
(``gradcheck.student.isolation``); the tests skip where bubblewrap cannot run (macOS,
containers without namespaces), since the weak fallback promises none of this.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from gradcheck.student.isolation import probe
from gradcheck.student.sandbox import Limits, Sandbox
from gradcheck.student.source import analyse_source

pytestmark = pytest.mark.skipif(not probe().strong, reason=probe().reason)


def _sandbox(tmp_path: Path, text: str, timeout: float = 120.0) -> Sandbox:
    path = tmp_path / "submission.py"
    path.write_text(text)
    report = analyse_source(path)
    limits = Limits(timeout=timeout)
    return Sandbox(path, report.keep, forbidden=["torch", "jax"], limits=limits)


def _run(tmp_path: Path, text: str, fn: str = "attack") -> object:
    with _sandbox(tmp_path, text) as sandbox:
        sandbox.start()
        return sandbox.call(fn).value


def test_the_host_file_system_is_not_writable(tmp_path: Path) -> None:
    target = tmp_path / "planted.txt"
    text = f"""
def attack():
    results = []
    for path in ({str(target)!r}, {str(Path.cwd() / "planted.txt")!r}, "/usr/planted"):
        try:
            open(path, "w").write("x")
            results.append("wrote " + path)
        except OSError as error:
            results.append(type(error).__name__)
    return results
"""
    results = _run(tmp_path, text)
    assert not any(str(r).startswith("wrote") for r in results)  # type: ignore[union-attr]
    assert not target.exists() and not (Path.cwd() / "planted.txt").exists()


def test_a_root_only_secret_and_the_graders_source_are_not_visible(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("hunter2")
    secret.chmod(0o600)
    import gradcheck

    source = Path(gradcheck.__file__)
    text = f"""
import os
def attack():
    seen = []
    for path in ({str(secret)!r}, {str(source)!r}, "/etc/shadow", "/etc/passwd"):
        try:
            seen.append(open(path).read()[:100])
        except OSError as error:
            seen.append(type(error).__name__)
    return seen
"""
    seen = _run(tmp_path, text)
    assert all(value in ("FileNotFoundError", "PermissionError") for value in seen)  # type: ignore[union-attr]


def test_torch_cannot_be_imported_even_with_the_import_guard_removed(tmp_path: Path) -> None:
    text = """
import sys, importlib
def attack():
    sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ not in ("_Guard",)]
    found = []
    for name in ("to" + "rch", "ja" + "x", "tensorflow", "gradcheck", "hypothesis"):
        try:
            module = importlib.import_module(name)
        except Exception:
            continue
        if getattr(module, "__file__", None):  # a real package, not the loader's stub
            found.append(name)
    return found
"""
    assert _run(tmp_path, text) == []


def test_signals_to_the_parent_reach_nothing(tmp_path: Path) -> None:
    text = """
import os, signal
def attack():
    for sig in (signal.SIGKILL, signal.SIGSTOP):
        for target in (os.getppid(), 1):
            try:
                os.kill(target, sig)
            except OSError:
                pass
        try:
            os.killpg(os.getpgid(os.getppid()), sig)
        except OSError:
            pass
    return os.getpid()
"""
    with _sandbox(tmp_path, text, timeout=30.0) as sandbox:
        sandbox.start()
        # Inside its pid namespace the child's parent is bwrap's init, which ignores them;
        # the grader is outside, out of reach, and gets its answer.
        assert isinstance(sandbox.call("attack").value, int)


def test_a_setsid_daemon_does_not_outlive_its_sandbox(tmp_path: Path) -> None:
    marker = f"gradcheck-daemon-{os.getpid()}-{time.monotonic_ns()}"
    text = f"""
import os, sys, time
def attack():
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            for fd in range(3, 64):
                try:
                    os.close(fd)
                except OSError:
                    pass
            argv = [sys.executable, "-c", "import time; time.sleep(600)", {marker!r}]
            os.execv(sys.executable, argv)
        os._exit(0)
    time.sleep(0.5)
    return "forked"
"""
    assert _run(tmp_path, text) == "forked"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _processes_with(marker):
        time.sleep(0.2)
    assert _processes_with(marker) == []


def _processes_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_nothing_of_the_submission_is_left_on_disk(tmp_path: Path) -> None:
    before = set(Path("/tmp").glob("gradcheck-submission-*"))
    text = "def attack():\n    return 1\n"
    with _sandbox(tmp_path, text) as sandbox:
        sandbox.start()
        assert set(Path("/tmp").glob("gradcheck-submission-*")) == before
        assert sandbox.call("attack").value == 1
