"""The child process that runs one submission. Run as a script (``python -I child.py``),
never imported: it uses only the standard library, NumPy and ``protocol.py`` (loaded by
path), so the gradcheck package is not in ``sys.modules`` and the forbidden-import hook
sees every attempt to import it.

It reads requests from stdin and answers on a private copy of stdout; the submission's own
prints go to a capped buffer, and file descriptors 1 and 2 lead to files in the working
directory. Requests: ``load``, ``call``, ``setattr`` and ``exit`` (see ``sandbox``).
"""

from __future__ import annotations

import ast
import ctypes
import importlib.abc
import importlib.machinery
import importlib.util
import inspect
import io
import os
import resource
import socket
import sys
import time
import traceback
import types
from pathlib import Path
from typing import Any, BinaryIO

# Under bubblewrap, NumPy alone is bound in a folder of its own (``isolation``), and the
# child's stderr is the parent's memory file: both are named in the environment.
_SITE = os.environ.get("GRADCHECK_SANDBOX_SITE")
if _SITE:
    sys.path.insert(0, _SITE)
_KEEP_STDERR = os.environ.get("GRADCHECK_SANDBOX_STDERR") == "inherit"

_HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("_gradcheck_protocol", _HERE / "protocol.py")
assert _spec is not None and _spec.loader is not None
protocol = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(protocol)

import numpy as np  # noqa: E402  (after the protocol module, which needs nothing else)

OUTPUT_LIMIT = 64 * 1024
SUBMISSION = "submission"


class ForbiddenImport(ImportError):
    pass


class _CappedText(io.TextIOBase):
    """A text stream that keeps the first OUTPUT_LIMIT characters and counts the rest."""

    def __init__(self) -> None:
        self.kept: list[str] = []
        self.size = 0
        self.total = 0
        self.sent = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        text = str(text)
        self.total += len(text)
        room = OUTPUT_LIMIT - self.size
        if room > 0:
            self.kept.append(text[:room])
            self.size += min(room, len(text))
        return len(text)

    def take(self) -> str:
        new = "".join(self.kept)[self.sent :]
        self.sent += len(new)
        return new


_forbidden: set[str] = set()
_attempts: list[str] = []
_stub_names: set[str] = set()
_stubbed: list[str] = []


class _Guard(importlib.abc.MetaPathFinder):
    """First on sys.meta_path: refuses forbidden modules and remembers the attempt."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name.partition(".")[0] in _forbidden:
            if name not in _attempts:
                _attempts.append(name)
            raise ForbiddenImport(f"importing {name} is not allowed in this assignment")
        return None


class _Stub(types.ModuleType):
    """Stands in for a module the submission imports but the grader does not have; any use
    raises, so that only actual use is reported."""

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return _StubValue(f"{self.__name__}.{attr}", self.__name__)


class _StubValue:
    def __init__(self, name: str, module: str) -> None:
        self._name, self._module = name, module

    def __getattr__(self, attr: str) -> _StubValue:
        return _StubValue(f"{self._name}.{attr}", self._module)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise ModuleNotFoundError(
            f"the submission used {self._name}, but {self._module.partition('.')[0]} is not "
            "installed where it is graded"
        )


class _StubLoader(importlib.abc.Loader):
    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = _Stub(spec.name)
        module.__path__ = []  # a package, so that submodules can be stubbed too
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        if module.__name__ not in _stubbed:
            _stubbed.append(module.__name__)


class _StubFinder(importlib.abc.MetaPathFinder):
    """Last on sys.meta_path: stubs the modules the submission's top-level imports name and
    that no other finder found."""

    def find_spec(
        self, name: str, path: Any = None, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        parts = name.split(".")
        if any(".".join(parts[:i]) in _stub_names for i in range(1, len(parts) + 1)):
            return importlib.machinery.ModuleSpec(name, _StubLoader(), is_package=True)
        return None


def _no_network(*args: Any, **kwargs: Any) -> Any:
    raise PermissionError("network access is disabled while grading")


def _isolate_network() -> str:
    """A private network namespace where the kernel allows it; the socket guard always."""
    socket.socket = _no_network  # type: ignore[misc,assignment]
    socket.create_connection = _no_network
    if _SITE:  # under bubblewrap, which gave the child a network namespace of its own
        return "namespace (bubblewrap)"
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(0x10000000 | 0x40000000) == 0:  # CLONE_NEWUSER | CLONE_NEWNET
            return "namespace"
    except (OSError, AttributeError):
        pass
    return "socket guard"


# Loading ---------------------------------------------------------------------------------
def _imported_names(body: list[ast.stmt]) -> set[str]:
    """The modules ``body`` imports absolutely, by their dotted names as written."""
    names: set[str] = set()
    for node in ast.walk(ast.Module(body=body, type_ignores=[])):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def _where(entry: dict[str, Any], line: int) -> str:
    """``line 12`` in the graded file, ``cell 4, line 2`` in a notebook, ``layers.py, line
    12`` in a helper (as ``loader.location`` names them in the parent)."""
    lines = entry.get("lines") or []
    if 1 <= line <= len(lines):
        return f"cell {lines[line - 1][0]}, line {lines[line - 1][1]}"
    return f"line {line}" if entry.get("main") else f"{entry.get('display')}, line {line}"


def _run_body(module: types.ModuleType, entry: dict[str, Any], dropped: list[str]) -> None:
    """Execute the kept top-level statements of ``entry`` (one module) in ``module``."""
    path = entry["path"]
    tree = ast.parse(Path(path).read_bytes(), filename=path)
    for index in entry["keep"]:
        node = tree.body[index]
        code = compile(ast.Module(body=[node], type_ignores=[]), path, "exec")
        try:
            exec(code, module.__dict__)
        except Exception as error:
            # A constant that needs what was skipped (data read at import time) is dropped;
            # a failing import, definition or class body is the submission's crash.
            if not isinstance(node, ast.Assign | ast.AnnAssign) or isinstance(error, ImportError):
                raise
            dropped.append(f"{_where(entry, node.lineno)} ({type(error).__name__}: {error})")


class _Modules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Second on sys.meta_path, after the guard: the submission's own modules (the graded
    one and its helpers), by name, from the files the parent put in the sandbox."""

    def __init__(self, entries: list[dict[str, Any]]) -> None:
        self.entries = {entry["name"]: entry for entry in entries}
        self.dropped: list[str] = []

    def find_spec(
        self, name: str, path: Any = None, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        entry = self.entries.get(name)
        if entry is None:
            return None
        spec = importlib.machinery.ModuleSpec(name, self, is_package=bool(entry["package"]))
        spec.origin = entry["path"]
        spec.has_location = True
        return spec

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        _run_body(module, self.entries[module.__name__], self.dropped)


def _load(request: dict[str, Any]) -> tuple[dict[str, Any], types.ModuleType]:
    """Import the graded module (``request["main"]``) through ``_Modules``; it is also
    ``sys.modules["submission"]``. The modules that no finder has and that a kept top-level
    import names are stubbed while loading."""
    entries = request["modules"]
    modules = _Modules(entries)
    sys.meta_path.insert(1, modules)
    imported: set[str] = set()
    for entry in entries:
        if entry["keep"]:
            tree = ast.parse(Path(entry["path"]).read_bytes(), filename=entry["path"])
            imported |= _imported_names([tree.body[i] for i in entry["keep"]])
    tops = {name.partition(".")[0] for name in imported}
    installed = {name for name in tops if importlib.util.find_spec(name) is None}
    # A module missing from one of the submission's own packages (cs231n/ handed in without
    # its data_utils.py) is stubbed too; the package itself is the submission's.
    missing = {n for n in imported if n.partition(".")[0] in modules.entries}
    _stub_names.update((installed - _forbidden) | (missing - set(modules.entries)))
    module = importlib.import_module(request["main"])
    sys.modules[SUBMISSION] = module
    _stub_names.clear()  # later imports (inside functions) fail normally
    defined = sorted(name for name in vars(module) if not name.startswith("__"))
    return {"defined": defined, "stubbed": list(_stubbed), "dropped": modules.dropped}, module


# Calls -----------------------------------------------------------------------------------
def _snapshot(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return ("array", value, value.copy())
    if isinstance(value, dict):
        return ("dict", value, {key: _snapshot(item) for key, item in value.items()})
    if isinstance(value, list):
        return ("list", value, [_snapshot(item) for item in value])
    return ("other", value, None)


def _changes(snapshot: Any, where: str) -> list[str]:
    kind, value, saved = snapshot
    if kind == "array":
        same = (
            value.shape == saved.shape
            and value.dtype == saved.dtype
            and np.array_equal(value, saved, equal_nan=True)
        )
        return [] if same else [where]
    if kind == "dict":
        if set(value) != set(saved):
            return [where]
        changed = []
        for key, item in saved.items():
            if value[key] is not item[1]:
                changed.append(f"{where}[{key!r}]")
            else:
                changed.extend(_changes(item, f"{where}[{key!r}]"))
        return changed
    if kind == "list":
        if len(value) != len(saved):
            return [where]
        changed = []
        for index, item in enumerate(saved):
            if value[index] is not item[1]:
                changed.append(f"{where}[{index}]")
            else:
                changed.extend(_changes(item, f"{where}[{index}]"))
        return changed
    return []


def _parameter_names(fn: Any, count: int) -> list[str]:
    try:
        names = [p.name for p in inspect.signature(fn).parameters.values()]
    except (TypeError, ValueError):
        names = []
    return [names[i] if i < len(names) else f"argument {i + 1}" for i in range(count)]


def _failure(error: BaseException, files: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A failure reply; the traceback is cut down to the submission's own frames, each
    named as ``_where`` names it (``cell 4, line 2``)."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename in files]
    place = [_where(files[f.filename], f.lineno or 0) for f in frames]
    where = f" ({place[-1]}: {frames[-1].line})" if frames else ""
    if isinstance(error, MemoryError):
        label = "memory_limit"
    elif isinstance(error, ForbiddenImport):
        label = "forbidden_import"
    elif isinstance(error, SystemExit):
        label = "process_died"
    else:
        label = "crash"
    message = f"{type(error).__name__}: {error}"[:2000] + where
    trace = "".join(
        f"  {at}, in {f.name}\n" + (f"    {f.line}\n" if f.line else "")
        for at, f in zip(place[-8:], frames[-8:], strict=True)
    )[-4000:]
    return {"ok": False, "label": label, "message": message, "traceback": trace}


def _limit(memory: int, cpu: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 2))
    resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024 * 1024,) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # Under bubblewrap run by root the child has a uid of its own, so the per-uid process
    # count is a per-sandbox one: it stops a fork bomb at a few dozen processes.
    processes = os.environ.get("GRADCHECK_SANDBOX_NPROC")
    if processes:
        resource.setrlimit(resource.RLIMIT_NPROC, (int(processes), int(processes)))


# The request loop ------------------------------------------------------------------------
class _Session:
    """What the child keeps between requests: the submission's module, the values stored for
    the parent to refer to (``slots``) and the path that tracebacks are cut down to."""

    def __init__(self, network: str) -> None:
        self.network = network
        self.slots: dict[str, Any] = {}
        self.module: types.ModuleType | None = None
        self.files: dict[str, dict[str, Any]] = {}  # file in the sandbox → its module's entry

    def resolve(self, slot: str, route: list[Any]) -> Any:
        value = self.slots[slot]
        for step in route:
            value = value[step]
        return value

    def load(self, request: dict[str, Any]) -> dict[str, Any]:
        _forbidden.update(request.get("forbidden", []))
        self.files = {entry["path"]: entry for entry in request["modules"]}
        info, self.module = _load(request)
        return {"ok": True, "network": self.network, **info}

    def set_attribute(self, request: dict[str, Any], arrays: dict[str, Any]) -> dict[str, Any]:
        value = protocol.decode(request["value"], arrays, self.resolve)
        setattr(self.slots[request["on"]], request["name"], value)
        return {"ok": True}

    def call(
        self, request: dict[str, Any], arrays: dict[str, Any], out: dict[str, np.ndarray]
    ) -> dict[str, Any]:
        """Call the function, watching the arguments the parent still holds for mutation."""
        assert self.module is not None
        owner = self.slots[request["on"]] if request.get("on") else self.module
        fn = getattr(owner, request["fn"])
        args = protocol.decode(request["args"], arrays, self.resolve)
        watched = request.get("watch", list(range(len(args))))
        saved = {i: _snapshot(args[i]) for i in watched}
        result = fn(*args)
        names = _parameter_names(fn, len(args))
        mutated = [m for i, s in saved.items() for m in _changes(s, names[i])]
        if request.get("store"):
            self.slots[request["store"]] = result
        reply = {"ok": True, "result": protocol.encode(result, out), "mutated": mutated}
        if request.get("report"):  # arguments the call is meant to update (running statistics)
            reply["reported"] = protocol.encode([args[i] for i in request["report"]], out)
        return reply


def _answer(
    session: _Session, request: dict[str, Any], arrays: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, np.ndarray]] | None:
    """The reply to one request and the arrays that go with it; None for ``exit``. Whatever
    the submission raises, SystemExit included, becomes a failure reply."""
    op = request.get("op")
    out: dict[str, np.ndarray] = {}
    try:
        if op == "exit":
            return None
        if op == "load":
            reply = session.load(request)
        elif op == "setattr":
            reply = session.set_attribute(request, arrays)
        elif op == "call":
            reply = session.call(request, arrays, out)
        else:
            reply = {"ok": False, "label": "crash", "message": f"unknown request {op!r}"}
    except BaseException as error:
        return _failure(error, session.files), {}
    return reply, out


def _send(proto_out: BinaryIO, reply: dict[str, Any], out: dict[str, np.ndarray]) -> None:
    try:
        protocol.write_frame(proto_out, reply, out)
    except (ValueError, TypeError) as error:  # arrays NumPy cannot save without pickle
        reply = {"ok": False, "label": "bad_return", "message": f"cannot send result: {error}"}
        protocol.write_frame(proto_out, reply, {})


def _serve(
    proto_in: BinaryIO, proto_out: BinaryIO, captured: _CappedText, session: _Session
) -> None:
    """Answer requests until ``exit`` or the end of the input; each reply carries what the
    submission printed since the last one and the forbidden imports it has tried."""
    while True:
        try:
            request, arrays = protocol.read_frame(proto_in)
        except EOFError:
            return
        start = time.perf_counter()
        answer = _answer(session, request, arrays)
        if answer is None:
            return
        reply, out = answer
        reply["seconds"] = time.perf_counter() - start
        reply["output"] = captured.take()
        reply["output_total"] = captured.total
        reply["forbidden"] = list(_attempts)
        _send(proto_out, reply, out)


def _take_over_streams() -> tuple[BinaryIO, BinaryIO, _CappedText]:
    """Private copies of fds 0 and 1 for the protocol. The submission reads an empty stdin,
    its fds 1 and 2 lead to files, and sys.stdout and sys.stderr to a capped buffer."""
    proto_in = os.fdopen(os.dup(0), "rb")
    proto_out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(os.open("stdout.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 1)
    if not _KEEP_STDERR:
        os.dup2(os.open("stderr.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 2)
    captured = _CappedText()
    sys.stdout = sys.stderr = captured  # type: ignore[assignment]
    sys.stdin = io.StringIO("")
    return proto_in, proto_out, captured


def main() -> None:
    _limit(int(sys.argv[1]), int(sys.argv[2]))
    proto_in, proto_out, captured = _take_over_streams()
    network = _isolate_network()
    sys.meta_path.insert(0, _Guard())
    sys.meta_path.append(_StubFinder())
    _serve(proto_in, proto_out, captured, _Session(network))


if __name__ == "__main__":
    main()
