"""Batch grading: every output is written, results are appended as they come, and a resumed
batch skips what is done."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from gradcheck.student.grade import RESULTS, Batch, find_submissions, grade_folder, read_results
from gradcheck.student.sandbox import Limits
from tests.student.corpus import CORPUS as CORPUS_DIR

# A budget no busy runner runs out of: these tests are about verdicts and files, not time.
TIMEOUT = 120.0
BATCH = Batch("two-layer", examples=10, seed=0, limits=Limits(timeout=TIMEOUT))


def _class(tmp_path: Path) -> Path:
    folder = tmp_path / "submissions"
    folder.mkdir()
    shutil.copy(CORPUS_DIR / "two-layer" / "correct_vectorised.py", folder / "alice.py")
    shutil.copy(CORPUS_DIR / "two-layer" / "bug_sign_flip_residual.py", folder / "bob.py")
    (folder / "carol").mkdir()
    shutil.copy(CORPUS_DIR / "two-layer" / "hostile_os_exit.py", folder / "carol" / "hw.py")
    return folder


def test_a_class_is_graded_and_every_output_parses(tmp_path: Path) -> None:
    out = tmp_path / "out"
    records = grade_folder(_class(tmp_path), out, BATCH, jobs=2)
    verdicts = {r["id"]: r["verdict"] for r in records}
    assert verdicts == {"alice": "pass", "bob": "fail", "carol": "error"}
    assert [r["id"] for r in read_results(out / RESULTS)].count("bob") == 1
    assert "sign_flip" in next(r for r in records if r["id"] == "bob")["labels"]


def test_resume_skips_finished_submissions_and_ignores_a_torn_line(tmp_path: Path) -> None:
    folder, out = _class(tmp_path), tmp_path / "out"
    out.mkdir()
    done = {"id": "alice", "verdict": "pass", "labels": [], "checks": [], "marker": "kept"}
    (out / RESULTS).write_text(json.dumps(done) + "\n" + '{"id": "bob", "verd')
    records = grade_folder(folder, out, BATCH, jobs=2, resume=True)
    alice = next(r for r in records if r["id"] == "alice")
    assert alice.get("marker") == "kept"  # not graded again
    assert {r["id"] for r in records} == {"alice", "bob", "carol"}


def test_cli_writes_gradescope_csv_and_class_reports(tmp_path: Path) -> None:
    from gradcheck.cli import main

    out = tmp_path / "out"
    code = main(
        [
            "grade",
            str(_class(tmp_path)),
            "--assignment",
            "two-layer",
            "--out",
            str(out),
            "--examples",
            "10",
            "--timeout",
            f"{TIMEOUT:g}",
        ]
    )
    assert code == 1  # not everyone passed
    gradescope = json.loads((out / "bob" / "results.json").read_text())
    assert gradescope["score"] == 0 and gradescope["tests"][0]["status"] == "failed"
    assert json.loads((out / "alice" / "results.json").read_text())["score"] == 1
    with (out / "summary.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert {row["submission"]: row["verdict"] for row in rows} == {
        "alice": "pass",
        "bob": "fail",
        "carol": "error",
    }
    assert "| bob" in (out / "report.md").read_text()
    assert "<table>" in (out / "report.html").read_text()


def test_every_entry_gets_a_record_and_unsupported_files_say_what_is_supported(
    tmp_path: Path,
) -> None:
    folder, out = tmp_path / "submissions", tmp_path / "out"
    folder.mkdir()
    shutil.copy(CORPUS_DIR / "two-layer" / "nb_bug_sign_flip.ipynb", folder / "dave.ipynb")
    shutil.copytree(CORPUS_DIR / "two-layer" / "folder_notebook_helper", folder / "erin")
    for name in ("frank.txt", "gina.zip", "hank.pdf"):
        (folder / name).write_bytes(b"PK\x03\x04 not code")
    (folder / ".DS_Store").write_bytes(b"\0")  # hidden: ignored, as the docstring says
    (folder / "__pycache__").mkdir()
    records = {r["id"]: r for r in grade_folder(folder, out, BATCH, jobs=2)}
    assert set(records) == {"dave", "erin", "frank.txt", "gina.zip", "hank.pdf"}
    assert records["dave"]["verdict"] == "fail" and "sign_flip" in records["dave"]["labels"]
    assert records["erin"]["verdict"] == "pass", records["erin"]["message"]
    for name in ("frank.txt", "gina.zip", "hank.pdf"):
        assert records[name]["verdict"] == "error"
        assert "supported are .py files, .ipynb notebooks and folders" in records[name]["message"]


def test_a_file_and_a_notebook_of_one_name_are_one_ambiguous_record(tmp_path: Path) -> None:
    for name in ("ivy.py", "ivy.ipynb"):
        (tmp_path / name).write_text("x = 1\n")
    (tmp_path / "jo").mkdir()
    (tmp_path / "jo" / ".hidden.py").write_text("x = 1\n")
    found = find_submissions(tmp_path)
    assert found == {
        "ivy": "both ivy.ipynb and ivy.py hold a submission; expected one",
        "jo": "no .py or .ipynb file in jo/",
    }
