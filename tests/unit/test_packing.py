"""A submission packed into bytes (``student/packing.py``) unpacks to what the loader reads:
the files, the links as links that lead nowhere, nothing outside the submission."""

from __future__ import annotations

from pathlib import Path

import pytest

from gradcheck.errors import GradcheckError
from gradcheck.student import packing
from gradcheck.student.loader import load_submission
from gradcheck.student.packing import PackedSubmission, pack, unpack


def _folder(root: Path) -> Path:
    folder = root / "alice"
    (folder / "cs231n" / "__pycache__").mkdir(parents=True)
    (folder / ".ipynb_checkpoints").mkdir()
    (folder / "cs231n" / "layers.py").write_text("def affine_forward(x, w, b):\n    return x\n")
    (folder / "cs231n" / "__pycache__" / "layers.py").write_text("stale\n")
    (folder / ".ipynb_checkpoints" / "hw.py").write_text("old\n")
    (folder / "hw.py").write_text("from cs231n.layers import *\n")
    (folder / "data.npy").write_bytes(b"\x93NUMPY")
    (folder / "secret.py").symlink_to("/etc/hostname")
    return folder


def test_a_folder_unpacks_to_what_the_loader_reads(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "in")
    packed = pack(folder)
    assert [name for name, _ in packed.files] == ["cs231n/layers.py", "hw.py"]
    assert packed.links == ("secret.py",) and packed.path == str(folder)
    (tmp_path / "out").mkdir()
    copy = unpack(packed, tmp_path / "out")
    assert copy.name == "alice" and (copy / "secret.py").is_symlink()
    assert not (copy / "secret.py").exists()  # the link leads nowhere
    original = load_submission(folder, ("affine_forward",))
    again = load_submission(copy, ("affine_forward",))
    assert again.main.text == original.main.text and again.notes == original.notes
    assert [h.text for h in again.helpers] == [h.text for h in original.helpers]


def test_a_file_unpacks_under_its_own_name(tmp_path: Path) -> None:
    source = tmp_path / "bob.ipynb"
    source.write_bytes(b'{"cells": []}')
    (tmp_path / "out").mkdir()
    copy = unpack(pack(source), tmp_path / "out")
    assert copy == tmp_path / "out" / "bob.ipynb" and copy.read_bytes() == source.read_bytes()


@pytest.mark.parametrize("relative", ["../escaped.py", "/etc/escaped.py", "a/../../escaped.py"])
def test_a_packed_path_outside_the_submission_is_refused(tmp_path: Path, relative: str) -> None:
    forged = PackedSubmission("alice", "alice", True, ((relative, b"x = 1\n"),))
    (tmp_path / "out").mkdir()
    with pytest.raises(GradcheckError, match="names a path outside itself"):
        unpack(forged, tmp_path / "out")
    assert not (tmp_path / "escaped.py").exists()


def test_a_submission_over_the_size_limit_is_refused_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(packing, "MAX_BYTES", 10)
    source = tmp_path / "carol.py"
    source.write_text("x = 1\n" * 5)
    with pytest.raises(GradcheckError, match=r"submission carol\.py holds .* at most"):
        pack(source)
