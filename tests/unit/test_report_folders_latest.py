"""``publish_latest`` refuses to replace a real folder or file named ``latest``: the reports
already written stay where they are, and the message says where."""

from __future__ import annotations

from pathlib import Path

import pytest

from gradcheck.errors import GradcheckError
from gradcheck.report.folders import publish_latest, publish_run


@pytest.mark.parametrize("kind", ["folder", "file"])
def test_a_real_latest_is_refused_naming_where_the_reports_are(tmp_path: Path, kind: str) -> None:
    latest = tmp_path / "latest"
    if kind == "folder":
        latest.mkdir()
        (latest / "keep.txt").write_text("mine")
    else:
        latest.write_text("mine")
    with pytest.raises(GradcheckError, match=f"is a real {kind}") as raised:
        publish_run(tmp_path, {"report.md": "# hi\n"})
    folder = Path(str(raised.value).rsplit("the reports are in ", 1)[1])
    assert (folder / "report.md").read_text() == "# hi\n"
    assert latest.is_dir() == (kind == "folder") and not latest.is_symlink()


def test_latest_is_a_relative_link_moved_atomically(tmp_path: Path) -> None:
    first = publish_run(tmp_path, {"a.md": "1"}).folder
    second = publish_run(tmp_path, {"a.md": "2"}).folder
    link = tmp_path / "latest"
    assert link.is_symlink() and not Path(link.readlink()).is_absolute()
    assert link.resolve() == second.resolve() != first.resolve()
    publish_latest(tmp_path, first)
    assert (link / "a.md").read_text() == "1"
