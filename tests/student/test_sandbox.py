"""The child process: plain-data protocol, scrubbed environment, limits, no pickles."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from gradcheck.student import protocol
from gradcheck.student.labels import Label
from gradcheck.student.sandbox import CallFailed, Limits, Ref, Sandbox, SandboxDied
from gradcheck.student.source import analyse_source


def _sandbox(
    tmp_path: Path, text: str, *, timeout: float = 120.0, memory_mb: int = Limits.memory_mb
) -> Sandbox:
    """A sandbox for ``text``; its budget is generous unless a test is about running out."""
    path = tmp_path / "submission.py"
    path.write_text(text)
    report = analyse_source(path)
    limits = Limits(timeout=timeout, memory_mb=memory_mb)
    return Sandbox(path, report.keep, forbidden=["torch"], limits=limits)


def _start_and_call(sandbox: Sandbox, fn: str) -> None:
    """Start the child and call ``fn`` in it, within one wall-clock budget."""
    sandbox.start()
    sandbox.call(fn)


def test_protocol_round_trip_never_pickles() -> None:
    value = {"a": np.arange(6.0).reshape(2, 3), "t": (1, 2.5, float("nan")), "l": [True, None, "x"]}
    arrays: dict[str, np.ndarray] = {}
    document = protocol.encode(value, arrays)
    stream = io.BytesIO()
    protocol.write_frame(stream, document, arrays)
    stream.seek(0)
    back_doc, back_arrays = protocol.read_frame(stream)
    back = protocol.decode(back_doc, back_arrays)
    np.testing.assert_array_equal(back["a"], value["a"])
    assert back["t"][:2] == (1, 2.5) and np.isnan(back["t"][2]) and back["l"] == [True, None, "x"]
    assert protocol.encode(object(), {}) == {"$o": "object"}
    assert protocol.encode(np.array([object()]), {}) == {"$o": "ndarray[object]"}


def test_a_pickled_array_is_refused() -> None:
    stream = io.BytesIO()
    npz = io.BytesIO()
    np.savez(npz, a0=np.array([{"evil": 1}], dtype=object))
    blob, body = npz.getvalue(), b'{"$a": "a0"}'
    stream.write(len(body).to_bytes(4, "big") + len(blob).to_bytes(4, "big") + body + blob)
    stream.seek(0)
    with pytest.raises(protocol.ProtocolError):
        protocol.read_frame(stream)


def test_child_runs_scrubbed_in_a_fresh_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRADCHECK_TEST_SECRET", "hunter2")
    text = "import os, socket\ndef probe():\n"
    text += "    return {'env': sorted(os.environ), 'cwd': os.getcwd()}\n"
    text += "def net():\n    socket.create_connection(('127.0.0.1', 9))\n"
    with _sandbox(tmp_path, text) as sandbox:
        sandbox.start()
        seen = sandbox.call("probe").value
        assert "GRADCHECK_TEST_SECRET" not in seen["env"]
        if sandbox.isolation.strong:  # bubblewrap: a private tmpfs, the only writable place
            assert seen["cwd"] == "/tmp"
        else:
            assert Path(seen["cwd"]).name.startswith("gradcheck-submission-")
        assert Path(seen["cwd"]) != Path.cwd()
        with pytest.raises(CallFailed) as failure:
            sandbox.call("net")
        assert failure.value.label == Label.CRASH


def test_values_stay_in_the_child_and_come_back_by_reference(tmp_path: Path) -> None:
    text = "class Cache:\n    pass\ndef fwd(x):\n    c = Cache(); c.x = x\n    return x * 2, c\n"
    text += "def bwd(d, cache):\n    return d * cache.x\n"
    with _sandbox(tmp_path, text) as sandbox:
        sandbox.start()
        out = sandbox.call("fwd", np.array([1.0, 2.0]), store="f").value
        assert type(out[1]).__name__ == "Opaque"
        back = sandbox.call("bwd", np.array([3.0, 3.0]), Ref("f")[1]).value
        np.testing.assert_array_equal(back, [3.0, 6.0])


@pytest.mark.parametrize(
    ("body", "label"),
    [
        ("while True:\n        pass", Label.TIMEOUT),
        ("import os\n    os._exit(3)", Label.PROCESS_DIED),
        ("return [0] * (10 ** 10)", Label.MEMORY_LIMIT),
    ],
    ids=["hang", "exit", "memory"],
)
def test_hostile_calls_end_the_child_with_a_label(tmp_path: Path, body: str, label: Label) -> None:
    # Only the hang needs a short budget. It covers the child's start-up too, so on a slow
    # machine the start may be what runs out of it, which is still a timeout.
    timeout = 3.0 if label == Label.TIMEOUT else 120.0
    with _sandbox(tmp_path, f"def f():\n    {body}\n", timeout=timeout, memory_mb=512) as sandbox:
        with pytest.raises(SandboxDied) as died:
            _start_and_call(sandbox, "f")
        assert died.value.label == label
