"""Running a submission in a child process: the parent's side of ``child.py``.

The child runs in a new session (its own process group), in a fresh temporary folder, with
a scrubbed environment, an address-space limit, a CPU-time limit and a file-size limit, and
without network (a private network namespace where the kernel allows it, and a socket guard
always). The wall-clock budget counts the time the parent waits on the child, so the
grader's own work (references, Hypothesis) never counts against a submission.

Every exchange is plain data (``protocol``); nothing from the child is ever unpickled.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gradcheck.student import protocol
from gradcheck.student.isolation import SANDBOX_DIR, Isolation, bwrap_command, probe
from gradcheck.student.labels import Label
from gradcheck.student.loader import SourceFile, Submission, load_submission

__all__ = ["CallFailed", "Limits", "Ref", "Sandbox", "SandboxDied"]

_CHILD = Path(__file__).with_name("child.py")
_PASSED_THROUGH = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "SYSTEMROOT")
OUTPUT_KEPT = 16 * 1024
SANDBOX_PROCESSES = 32  # processes and threads of one sandbox (when it has a uid of its own)


@dataclass(frozen=True)
class Limits:
    """``timeout``: seconds of wall clock the submission may use in all (default 20);
    ``memory_mb``: its address-space limit (default 2048)."""

    timeout: float = 20.0
    memory_mb: int = 2048


@dataclass(frozen=True)
class Ref:
    """A value kept in the child (a cache, an object), passed back by reference."""

    slot: str
    path: tuple[Any, ...] = ()

    def __getitem__(self, step: Any) -> Ref:
        return Ref(self.slot, (*self.path, step))


class SandboxDied(Exception):
    """The child cannot go on: it timed out, ran out of memory or died."""

    def __init__(self, label: Label, message: str) -> None:
        super().__init__(message)
        self.label, self.message = label, message


class CallFailed(Exception):
    """The submission raised (or broke the contract) during one call; the child lives on."""

    def __init__(self, label: Label, message: str, trace: str = "") -> None:
        super().__init__(message)
        self.label, self.message, self.trace = label, message, trace


@dataclass
class CallResult:
    value: Any
    mutated: tuple[str, ...]
    seconds: float
    reported: list[Any] = field(default_factory=list)  # the ``report`` arguments after the call


@dataclass
class _Output:
    text: list[str] = field(default_factory=list)
    size: int = 0
    total: int = 0

    def add(self, text: str, total: int) -> None:
        self.total = total
        room = OUTPUT_KEPT - self.size
        if room > 0 and text:
            self.text.append(text[:room])
            self.size += min(room, len(text))


def _encode_args(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(value, Ref):
        return {"$r": value.slot, "path": list(value.path)}
    if isinstance(value, list):
        return [_encode_args(v, arrays) for v in value]
    if isinstance(value, tuple):
        return {"$t": [_encode_args(v, arrays) for v in value]}
    if isinstance(value, dict):
        return {"$d": [[k, _encode_args(v, arrays)] for k, v in value.items()]}
    return protocol.encode(value, arrays)


def _text(value: Any) -> str:
    """A string from the child's reply, whatever it sent (already cleaned and capped)."""
    return value if isinstance(value, str) else ""


def _load_info(reply: Any) -> dict[str, Any]:
    """What the child says it loaded, as strings and lists of strings only."""
    info = {"network": _text(reply.get("network")) or "unknown"}
    for key in ("stubbed", "dropped", "defined"):
        value = reply.get(key)
        info[key] = [_text(v) for v in value] if isinstance(value, list) else []  # type: ignore[assignment]
    return info


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _environment(home: str) -> dict[str, str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
    }
    # Hardware settings only, never credentials: OpenBLAS needs them on some machines.
    env.update({k: os.environ[k] for k in _PASSED_THROUGH if k in os.environ})
    return env


def _file_name(index: int) -> str:
    """The graded module is ``submission.py`` in the sandbox, its helpers ``module1.py``, …"""
    return "submission.py" if index == 0 else f"module{index}.py"


class Sandbox:
    """One child process running one submission. Use as a context manager and call
    :meth:`start`; leaving the context kills the child and removes its folder.

    ``submission`` is a loaded submission (``loader``) or the path of a .py file; ``keep``
    holds the top-level statements to run (``source``): of each module by name, or of the
    graded module alone."""

    def __init__(
        self,
        submission: Path | Submission,
        keep: Sequence[int] | Mapping[str, Sequence[int]],
        *,
        forbidden: Sequence[str],
        limits: Limits = Limits(),
        python: str = sys.executable,
        isolation: Isolation | None = None,
    ) -> None:
        if not isinstance(submission, Submission):
            submission = load_submission(Path(submission))
        self.submission = submission
        self.path = submission.path
        self.keep = (
            {name: list(k) for name, k in keep.items()}
            if isinstance(keep, Mapping)
            else {submission.module: list(keep)}
        )
        self.forbidden = list(forbidden)
        self.limits = limits
        self.python = python
        self.isolation = probe() if isolation is None else isolation
        self._memory_files: list[int] = []
        self._stderr_fd: int | None = None
        self.used = 0.0  # seconds of the wall-clock budget spent
        self.output = _Output()
        self.forbidden_attempts: list[str] = []
        self.info: dict[str, Any] = {}
        self._process: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._folder: str | None = None
        self._replies: queue.Queue[tuple[Any, dict[str, np.ndarray]] | BaseException] = (
            queue.Queue()
        )

    # Lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        limits = [str(self.limits.memory_mb * 1024 * 1024), str(int(self.limits.timeout) + 3)]
        start = self._start_isolated if self.isolation.strong else self._start_weak
        folder = start(limits)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        modules = [
            self._entry(index, module, f"{folder}/{_file_name(index)}")
            for index, module in enumerate(self.submission.modules)
        ]
        request = {
            "op": "load",
            "main": self.submission.module,
            "modules": modules,
            "forbidden": self.forbidden,
        }
        self.info = _load_info(self._request(request))

    def _entry(self, index: int, module: SourceFile, path: str) -> dict[str, Any]:
        """What the child needs to import one module of the submission."""
        return {
            "name": module.name,
            "path": path,
            "keep": self.keep.get(module.name, []),
            "package": module.package,
            "display": module.display,
            "lines": [list(pair) for pair in module.lines],
            "main": index == 0,
        }

    def _start_isolated(self, limits: list[str]) -> str:
        """Under bubblewrap (``isolation``): the submission's modules and the child's stderr
        live in memory files, so nothing of the student's is ever written to disk."""
        sources = []
        for module in self.submission.modules:
            source = os.memfd_create("submission")
            os.write(source, module.text.encode("utf-8", "replace"))
            os.lseek(source, 0, os.SEEK_SET)
            sources.append(source)
        self._stderr_fd = os.memfd_create("stderr")
        self._memory_files = [*sources, self._stderr_fd]
        env = {
            **_environment("/tmp"),
            "GRADCHECK_SANDBOX_SITE": f"{SANDBOX_DIR}/site",
            "GRADCHECK_SANDBOX_STDERR": "inherit",
            **({"GRADCHECK_SANDBOX_NPROC": str(SANDBOX_PROCESSES)} if os.geteuid() == 0 else {}),
        }
        command, _ = bwrap_command(
            [f"{SANDBOX_DIR}/child.py", *limits],
            files={"child.py": _CHILD, "protocol.py": _CHILD.with_name("protocol.py")},
            data={_file_name(i): fd for i, fd in enumerate(sources)},
            env=env,
        )
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr_fd,
            cwd="/",
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            start_new_session=True,
            pass_fds=tuple(sources),
        )
        for source in sources:
            os.close(source)
            self._memory_files.remove(source)
        return SANDBOX_DIR

    def _start_weak(self, limits: list[str]) -> str:
        self._folder = tempfile.mkdtemp(prefix="gradcheck-submission-")
        for index, module in enumerate(self.submission.modules):
            copy = Path(self._folder) / _file_name(index)
            copy.write_bytes(module.text.encode("utf-8", "replace"))
        self._process = subprocess.Popen(
            # The child sets its own limits first thing (no preexec_fn: the parent may run
            # threads, torch's among them, and forking with them is only safe up to exec).
            [self.python, "-I", "-B", str(_CHILD), *limits],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=self._folder,
            env=_environment(self._folder),
            start_new_session=True,
            close_fds=True,
        )
        return self._folder

    def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        stream = self._process.stdout
        while True:
            try:
                self._replies.put(protocol.read_frame(stream))  # type: ignore[arg-type]
            except Exception as error:
                self._replies.put(error)
                return

    def close(self) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            with contextlib.suppress(OSError):
                assert process.stdin is not None
                protocol.write_frame(process.stdin, {"op": "exit"}, {})  # type: ignore[arg-type]
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=0.5)
        self._kill()
        if process is not None:
            for stream in (process.stdin, process.stdout):
                with contextlib.suppress(OSError):
                    if stream is not None:
                        stream.close()
        if self._reader is not None:
            self._reader.join(timeout=5)
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None
        for fd in self._memory_files:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._memory_files = []
        self._stderr_fd = None

    def _kill(self) -> None:
        process = self._process
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)

    # Requests --------------------------------------------------------------------------
    @property
    def remaining(self) -> float:
        return max(0.0, self.limits.timeout - self.used)

    def _request(
        self, document: dict[str, Any], arrays: dict[str, np.ndarray] | None = None
    ) -> Any:
        process = self._process
        if process is None or process.poll() is not None:
            raise self._died()
        start = time.perf_counter()
        try:
            assert process.stdin is not None
            protocol.write_frame(process.stdin, document, arrays or {})  # type: ignore[arg-type]
            reply = self._replies.get(timeout=self.remaining)
        except queue.Empty:
            self.used = self.limits.timeout
            self._kill()
            raise SandboxDied(
                Label.TIMEOUT,
                f"the submission used up its {self.limits.timeout:g} s of wall-clock time",
            ) from None
        except OSError:  # a broken pipe: the child is gone
            raise self._died() from None
        finally:
            self.used += time.perf_counter() - start
        if isinstance(reply, protocol.ProtocolError):
            self._kill()
            raise SandboxDied(Label.BAD_RETURN, f"the submission sent a reply it may not: {reply}")
        if isinstance(reply, BaseException):
            raise self._died()
        reply_doc, reply_arrays = reply
        if not isinstance(reply_doc, dict):
            raise SandboxDied(Label.PROCESS_DIED, "the child process sent a malformed reply")
        self.output.add(_text(reply_doc.get("output")), _count(reply_doc.get("output_total")))
        forbidden = reply_doc.get("forbidden")
        self.forbidden_attempts = (
            [_text(n) for n in forbidden] if isinstance(forbidden, list) else []
        )
        if not reply_doc.get("ok"):
            self._fail(reply_doc)
        if document["op"] == "call" and "result" not in reply_doc:
            raise CallFailed(Label.BAD_RETURN, "the reply to a call carried no result")
        return reply_doc if "result" not in reply_doc else (reply_doc, reply_arrays)

    def _fail(self, reply_doc: dict[str, Any]) -> None:
        """Raise what a failure reply says; a label the grader does not know is a crash (the
        child can forge any reply, so nothing in it is taken on trust)."""
        try:
            label = Label(reply_doc.get("label", "crash"))
        except ValueError:
            label = Label.CRASH
        message = _text(reply_doc.get("message", "the submission failed")) or "it failed"
        if label == Label.MEMORY_LIMIT:
            self._kill()
            raise SandboxDied(label, f"{message} (limit {self.limits.memory_mb} MB)")
        if label == Label.PROCESS_DIED:
            self._kill()
            raise SandboxDied(label, f"the submission exited: {message}")
        raise CallFailed(label, message, _text(reply_doc.get("traceback", "")))

    def _died(self) -> SandboxDied:
        process = self._process
        code = None
        if process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = process.wait(timeout=5)
        if code is not None and self.isolation.strong and code > 128:
            code = 128 - code  # bubblewrap exits with 128 + n when its child died of signal n
        stderr = self._stderr_tail()
        if code is not None and code < 0 and -code == signal.SIGXCPU:
            return SandboxDied(Label.TIMEOUT, "the submission used up its CPU-time limit")
        if "MemoryError" in stderr or (
            code is not None and -code == signal.SIGSEGV and "memory" in stderr
        ):
            return SandboxDied(
                Label.MEMORY_LIMIT,
                f"the submission ran out of memory (limit {self.limits.memory_mb} MB)",
            )
        if code is not None and code < 0:
            name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
            return SandboxDied(Label.PROCESS_DIED, f"the submission's process was killed by {name}")
        return SandboxDied(
            Label.PROCESS_DIED, f"the submission's process exited with status {code}"
        )

    def _stderr_tail(self, size: int = 2000) -> str:
        """The last ``size`` bytes the child wrote to its stderr, decoded with replacement."""
        with contextlib.suppress(OSError):
            if self._stderr_fd is not None:
                end = os.fstat(self._stderr_fd).st_size
                data = os.pread(self._stderr_fd, size, max(0, end - size))
                return data.decode("utf-8", "replace")
            if self._folder is not None:
                return (Path(self._folder) / "stderr.txt").read_text(errors="replace")[-size:]
        return ""

    def call(
        self,
        fn: str,
        *args: Any,
        on: str | None = None,
        store: str | None = None,
        report: Sequence[int] = (),
    ) -> CallResult:
        """Call the submission's ``fn`` (a method of stored object ``on`` if given) with
        ``args``; arguments that are not Refs are checked for mutation, except those at the
        positions in ``report``, which the call may update and whose values after the call
        come back as ``reported``. Raises CallFailed when the submission raises,
        SandboxDied when the child is gone."""
        arrays: dict[str, np.ndarray] = {}
        document = {
            "op": "call",
            "fn": fn,
            "on": on,
            "store": store,
            "args": [_encode_args(a, arrays) for a in args],
            "watch": [i for i, a in enumerate(args) if not isinstance(a, Ref) and i not in report],
            "report": list(report),
        }
        reply_doc, reply_arrays = self._request(document, arrays)
        try:
            value = protocol.decode(reply_doc["result"], reply_arrays)
        except protocol.ProtocolError as error:
            raise CallFailed(Label.BAD_RETURN, f"the result could not be read: {error}") from None
        reported: Any = []
        if report:
            try:
                reported = protocol.decode(reply_doc.get("reported"), reply_arrays)
            except protocol.ProtocolError as error:
                raise CallFailed(
                    Label.BAD_RETURN, f"the updated arguments could not be read: {error}"
                ) from None
        mutated = reply_doc.get("mutated")
        seconds = reply_doc.get("seconds")
        return CallResult(
            value,
            tuple(_text(m) for m in mutated) if isinstance(mutated, list) else (),
            float(seconds) if isinstance(seconds, int | float) else 0.0,
            reported if isinstance(reported, list) and len(reported) == len(report) else [],
        )

    def setattr(self, on: str, name: str, value: Any) -> None:
        arrays: dict[str, np.ndarray] = {}
        self._request(
            {"op": "setattr", "on": on, "name": name, "value": _encode_args(value, arrays)}, arrays
        )

    @property
    def captured_output(self) -> str:
        text = "".join(self.output.text)
        if self.output.total > len(text):
            text += f"\n[… {self.output.total - len(text)} more characters not kept]"
        return text
