"""``gradcheck baseline record|check``: exit codes, output and files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gradcheck.baseline import Baseline
from gradcheck.cli import main
from gradcheck.nn.init import INITIALISERS
from gradcheck.nn.spec import NetworkSpec

SPEC = "3-4-2 hidden=tanh loss=mse"
OTHER = "2-3-3 hidden=sigmoid loss=softmax_ce"
Capture = pytest.CaptureFixture[str]


def _key(text: str, seed: int, batch: int = 4, dtype: str = "float64") -> str:
    spec = NetworkSpec.parse(text).replace(dtype=dtype)
    return f"case:core:{spec.to_text()}:seed={seed}:batch={batch}"


def _record(path: Path, *args: str) -> int:
    return main(["baseline", "record", str(path), "--batch", "4", *args])


def _widen_the_initialiser(monkeypatch: pytest.MonkeyPatch) -> None:
    original = INITIALISERS["xavier_uniform"]
    monkeypatch.setitem(
        INITIALISERS, "xavier_uniform", lambda rng, shape: 1.01 * original(rng, shape)
    )


def test_record_then_check_passes_and_prints_the_summary(tmp_path: Path, capsys: Capture) -> None:
    stem = tmp_path / "golden"
    args = ("--spec", SPEC, "--seeds", "0-1", "--dtypes", "float64,float32")
    assert _record(stem, *args) == 0
    out = capsys.readouterr().out
    assert out.startswith("recorded 4 cases with core (4 entries in ")
    assert str(stem.with_suffix(".json")) in out and str(stem.with_suffix(".npz")) in out
    assert sorted(Baseline.load(stem).entries) == sorted(
        _key(SPEC, seed, dtype=dtype) for seed in (0, 1) for dtype in ("float64", "float32")
    )
    for path in (stem, stem.with_suffix(".json"), stem.with_suffix(".npz")):
        assert main(["baseline", "check", str(path)]) == 0
        captured = capsys.readouterr()
        assert captured.out == "PASS: 4 cases checked, 0 drifted\n"
        assert captured.err == ""


def test_record_adds_to_an_existing_file_and_replaces_equal_keys(
    tmp_path: Path, capsys: Capture
) -> None:
    stem = tmp_path / "golden"
    assert _record(stem, "--spec", SPEC) == 0
    assert _record(stem.with_suffix(".npz"), "--spec", OTHER, "--seeds", "2") == 0
    assert "recorded 1 cases with core (2 entries" in capsys.readouterr().out.splitlines()[-1]
    before = Baseline.load(stem)
    assert sorted(before.entries) == sorted([_key(SPEC, 0), _key(OTHER, 2)])
    assert _record(stem, "--spec", SPEC) == 0  # the same key again: replaced, not duplicated
    after = Baseline.load(stem)
    assert sorted(after.entries) == sorted(before.entries)
    assert "(2 entries" in capsys.readouterr().out
    assert main(["baseline", "check", str(stem)]) == 0
    assert "PASS: 2 cases checked, 0 drifted" in capsys.readouterr().out


def test_record_stores_the_recording_versions(tmp_path: Path) -> None:
    stem = tmp_path / "golden"
    assert _record(stem, "--spec", SPEC) == 0
    index = json.loads(stem.with_suffix(".json").read_text())
    assert index["format"] == "gradcheck.baseline/1"
    assert index["versions"]["numpy"] == np.__version__


def test_check_in_json_prints_one_object_with_per_tensor_data(
    tmp_path: Path, capsys: Capture
) -> None:
    stem = tmp_path / "golden"
    assert _record(stem, "--spec", SPEC, "--spec", OTHER) == 0
    capsys.readouterr()
    assert main(["baseline", "check", str(stem), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)  # the whole output is one JSON document
    assert data["schema"] == "gradcheck.baseline-check/1"
    assert (data["verdict"], data["checked"], data["skipped"]) == ("pass", 2, 0)
    assert data["path"] == str(stem)
    assert sorted(d["key"] for d in data["drifts"]) == sorted([_key(SPEC, 0), _key(OTHER, 0)])
    for drift in data["drifts"]:
        assert drift["verdict"] == "pass" and drift["inputs_changed"] is False
        assert drift["problems"] == []
        assert drift["loss"]["recorded"] == drift["loss"]["now"]
        assert [t["tensor"] for t in drift["tensors"]] == ["W1", "b1", "W2", "b2"]
        for tensor in drift["tensors"]:
            assert tensor["verdict"] == "pass" and tensor["factor"] is None
            assert tensor["recorded"] == tensor["now"] and tensor["abs_change"] == 0


def test_a_drift_exits_1_and_names_the_drifted_tensors(
    tmp_path: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    stem = tmp_path / "golden"
    assert _record(stem, "--spec", SPEC, "--spec", OTHER) == 0
    capsys.readouterr()
    _widen_the_initialiser(monkeypatch)
    assert main(["baseline", "check", str(stem)]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "FAIL: 2 cases checked, 2 drifted"
    assert out.count("gradients drifted from the baseline") == 2
    for tensor in ("W1", "b1", "W2", "b2"):
        assert f"  {tensor}: largest change at {tensor}[" in out
    assert "initialisation or data changed" in out

    assert main(["baseline", "check", str(stem), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"] == "fail"
    for drift in data["drifts"]:
        assert drift["verdict"] == "fail" and drift["inputs_changed"] is True
        assert {t["tensor"] for t in drift["tensors"] if t["verdict"] == "fail"} == {
            "W1",
            "b1",
            "W2",
            "b2",
        }
        assert all(t["recorded"] != t["now"] for t in drift["tensors"])


def test_a_looser_rtol_accepts_a_small_drift(
    tmp_path: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    stem = tmp_path / "golden"
    assert _record(stem, "--spec", SPEC) == 0
    original = INITIALISERS["xavier_uniform"]
    monkeypatch.setitem(
        INITIALISERS, "xavier_uniform", lambda rng, shape: (1 + 1e-7) * original(rng, shape)
    )
    assert main(["baseline", "check", str(stem)]) == 1
    assert main(["baseline", "check", str(stem), "--rtol", "1e-5", "--atol", "1e-5"]) == 0
    assert "PASS: 1 cases checked" in capsys.readouterr().out


def test_a_core_recorded_baseline_passes_when_checked_with_torch(
    tmp_path: Path, capsys: Capture
) -> None:
    pytest.importorskip("torch")
    stem = tmp_path / "golden"
    assert _record(stem, "--spec", SPEC, "--dtypes", "float64,float32") == 0
    capsys.readouterr()
    assert main(["baseline", "check", str(stem), "--engine", "torch"]) == 0
    assert "PASS: 2 cases checked, 0 drifted" in capsys.readouterr().out


def test_a_baseline_holding_only_pytest_entries_has_nothing_to_check(
    tmp_path: Path, capsys: Capture
) -> None:
    from gradcheck.baseline import BaselineEntry

    stem = tmp_path / "golden"
    entry = BaselineEntry("tests/test_x.py::test_y::W", {"kind": "test"}, 0.5, {"w": np.ones(2)})
    Baseline({entry.key: entry}).save(stem)
    assert main(["baseline", "check", str(stem)]) == 2
    assert "holds no fixed cases (1 entries recorded by pytest" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "{dir}/missing"], "baseline file {dir}/missing.json does not exist"),
        (
            ["record", "{dir}/b", "--spec", "3-4-2 hidden=tanhh"],
            "unknown activation 'tanhh'; did you mean 'tanh'?",
        ),
        (
            ["record", "{dir}/b"],
            "nothing to record: give --spec (repeatable) or --preset registry",
        ),
        (["record", "{dir}/b", "--spec", SPEC, "--engine", "troch"], "unknown engine 'troch'"),
        (["record", "{dir}/b", "--spec", "3-4-2 loss=bce output=identity"], "loss bce needs"),
    ],
    ids=[
        "missing_file",
        "unknown_activation",
        "no_spec_no_preset",
        "unknown_engine",
        "bad_spec",
    ],
)
def test_bad_input_exits_2_with_a_clear_message(
    tmp_path: Path, capsys: Capture, args: list[str], message: str
) -> None:
    argv = ["baseline", *(a.format(dir=tmp_path) for a in args)]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("gradcheck: error: ")
    assert message.format(dir=tmp_path) in captured.err
    assert "Traceback" not in captured.err and captured.out == ""
    assert not (tmp_path / "b.json").exists() and not (tmp_path / "b.npz").exists()


@pytest.mark.parametrize("dtypes", ["float64,float16", "float16", ","])
def test_an_unknown_dtype_exits_2_and_lists_the_known_ones(
    tmp_path: Path, capsys: Capture, dtypes: str
) -> None:
    assert _record(tmp_path / "b", "--spec", SPEC, "--dtypes", dtypes) == 2
    err = capsys.readouterr().err
    assert err.startswith("gradcheck: error: unknown dtype")
    assert "(known: float64, float32)" in err
    assert ("float16" in err) == ("float16" in dtypes)
    assert list(tmp_path.iterdir()) == []


def test_check_with_an_unknown_engine_exits_2(tmp_path: Path, capsys: Capture) -> None:
    assert _record(tmp_path / "golden", "--spec", SPEC) == 0
    assert main(["baseline", "check", str(tmp_path / "golden"), "--engine", "troch"]) == 2
    assert "unknown engine 'troch'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["record", "b", "--spec", SPEC, "--seeds", "a"], "not a seed or a range of seeds: 'a'"),
        (["record", "b", "--spec", SPEC, "--seeds", "3-1"], "seeds must be integers >= 0"),
        (["record", "b", "--spec", SPEC, "--seeds", "-1"], "not a seed or a range of seeds: '-1'"),
        (["record", "b", "--spec", SPEC, "--batch", "0"], "must be a positive integer"),
        (["record", "b", "--preset", "everything"], "invalid choice: 'everything'"),
        (["check", "b", "--format", "xml"], "invalid choice: 'xml'"),
        (["check", "b", "--rtol", "tight"], "not a number: 'tight'"),
        (["frobnicate", "b"], "invalid choice: 'frobnicate'"),
    ],
    ids=[
        "seeds_text",
        "seeds_empty_range",
        "seeds_negative",
        "batch_0",
        "preset",
        "format",
        "rtol",
        "action",
    ],
)
def test_bad_arguments_are_argparse_errors_with_exit_2(
    tmp_path: Path,
    capsys: Capture,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exited:
        main(["baseline", *args])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_the_installed_command_records_checks_and_rejects_bad_seeds(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gradcheck", "baseline", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
        )

    recorded = run("record", "golden", "--spec", SPEC, "--batch", "4")
    assert recorded.returncode == 0, recorded.stderr
    checked = run("check", "golden.json")
    assert (checked.returncode, checked.stdout) == (0, "PASS: 1 cases checked, 0 drifted\n")
    bad = run("record", "golden", "--spec", SPEC, "--seeds", "0,x")
    assert bad.returncode == 2
    assert "argument --seeds: not a seed or a range of seeds: 'x'" in bad.stderr
    missing = run("check", "nowhere")
    assert missing.returncode == 2
    assert missing.stderr == "gradcheck: error: baseline file nowhere.json does not exist\n"


def test_a_nan_rtol_does_not_turn_a_drift_into_a_pass(
    tmp_path: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    stem = tmp_path / "golden"
    assert _record(stem, "--spec", SPEC) == 0
    _widen_the_initialiser(monkeypatch)
    assert main(["baseline", "check", str(stem)]) == 1
    with pytest.raises(SystemExit) as exited:
        main(["baseline", "check", str(stem), "--rtol", "nan"])
    assert exited.value.code == 2
    assert "argument --rtol: must be a finite number >= 0, got 'nan'" in capsys.readouterr().err
