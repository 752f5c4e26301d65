"""Golden-gradient baselines: the file format, drift detection and fixed cases."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import gradcheck.baseline.store as store
import gradcheck.io
from gradcheck.baseline import Baseline, BaselineEntry, compare_to_baseline, fingerprint
from gradcheck.baseline.cases import check_cases, check_entry, fixed_case, record_cases
from gradcheck.baseline.store import stem_of
from gradcheck.case import Case
from gradcheck.check import check_case
from gradcheck.engines import get_engine
from gradcheck.errors import GradcheckError
from gradcheck.nn.init import INITIALISERS
from gradcheck.nn.losses import LOSSES
from gradcheck.nn.spec import NetworkSpec

Array = np.ndarray
BATCH = 4
SPEC = NetworkSpec.parse("3-4-2 hidden=tanh loss=mse")


def _inputs_of(case: Case) -> str:
    """The fingerprint of the inputs a case's gradients are taken at (params, X and y)."""
    return fingerprint({**case.params, "X": case.X, "y": case.y})


def _entry(key: str, grads: dict[str, Array], loss: float = 1.25) -> BaselineEntry:
    return BaselineEntry(
        key=key,
        source={"kind": "test", "node": key, "numbers": [1, 2]},
        loss=loss,
        grads=grads,
        inputs="0123456789abcdef",
    )


def _grads(dtype: str, seed: int) -> dict[str, Array]:
    rng = np.random.default_rng(seed)
    return {
        "W1": rng.standard_normal((3, 2)).astype(dtype),
        "b1": rng.standard_normal(3).astype(dtype),
        "W2": rng.standard_normal((2, 3)).astype(dtype),
    }


def _recorded(path: Path, specs: list[NetworkSpec] | None = None) -> Baseline:
    baseline = Baseline()
    baseline.update(record_cases(specs or [SPEC], [0], batch=BATCH))
    baseline.save(path)
    return baseline


# Saving and loading --------------------------------------------------------------------------


def _assert_bitwise_equal(a: BaselineEntry, b: BaselineEntry) -> None:
    assert (a.key, a.loss, a.inputs) == (b.key, b.loss, b.inputs)
    assert list(a.grads) == list(b.grads)
    for name in a.grads:
        x, y = np.asarray(a.grads[name]), np.asarray(b.grads[name])
        assert (x.dtype, x.shape) == (y.dtype, y.shape), name
        assert x.tobytes() == y.tobytes(), name


def test_save_and_load_round_trip_is_bitwise_for_every_dtype(tmp_path: Path) -> None:
    mixed = {**_grads("float64", 3), "b2": np.array([0.1, -0.2], dtype=np.float32)}
    edge = {
        "scalar": np.array(-0.0),
        "empty": np.zeros((0, 3)),
        "odd": np.array([5e-324, -0.0, np.inf, -np.finfo(np.float64).max, 1 / 3]),
        "cube": np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 7,
    }
    entries = [
        _entry("test_a.py::test_one::float64", _grads("float64", 1), loss=0.1 + 0.2),
        _entry("test_a.py::test_one::float32", _grads("float32", 2), loss=np.pi),
        _entry("mixed", mixed, loss=-1e-300),
        _entry("edge", edge, loss=float(np.float32(1 / 3))),
    ]
    baseline = Baseline(meta={"versions": {"numpy": np.__version__}})
    baseline.update(entries)
    npz, index = baseline.save(tmp_path / "golden")
    assert (npz, index) == (tmp_path / "golden.npz", tmp_path / "golden.json")

    loaded = Baseline.load(tmp_path / "golden")
    assert set(loaded.entries) == {e.key for e in entries}
    assert len(loaded) == 4
    for entry in entries:
        got = loaded.get(entry.key)
        assert got is not None
        _assert_bitwise_equal(entry, got)
        assert dict(got.source) == dict(entry.source)
    assert loaded.meta == {"versions": {"numpy": np.__version__}}
    dtypes = {key: loaded.entries[key].dtype for key in loaded.entries}
    assert dtypes["test_a.py::test_one::float64"] == "float64"
    assert dtypes["test_a.py::test_one::float32"] == "float32"
    assert dtypes["mixed"] == dtypes["edge"] == "mixed"


def test_a_recorded_case_round_trips_bitwise(tmp_path: Path) -> None:
    specs = [SPEC, SPEC.replace(dtype="float32", loss="softmax_ce")]
    baseline = _recorded(tmp_path / "cases", specs)
    loaded = Baseline.load(tmp_path / "cases.json")
    assert sorted(loaded.entries) == sorted(baseline.entries)
    for key, entry in baseline.entries.items():
        _assert_bitwise_equal(entry, loaded.entries[key])
        assert dict(loaded.entries[key].source) == dict(entry.source)


@pytest.mark.parametrize("suffix", ["", ".npz", ".json"])
def test_any_of_stem_npz_or_json_names_the_baseline(tmp_path: Path, suffix: str) -> None:
    assert stem_of(f"baselines/core{suffix}") == Path("baselines/core")
    assert stem_of(tmp_path / f"core{suffix}") == tmp_path / "core"
    Baseline({"k": _entry("k", _grads("float64", 0))}).save(tmp_path / f"core{suffix}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["core.json", "core.npz"]
    for name in ("core", "core.npz", "core.json"):
        assert list(Baseline.load(tmp_path / name).entries) == ["k"]


def test_update_adds_and_replaces_by_key_and_get_finds_nothing_for_an_unknown_key() -> None:
    baseline = Baseline()
    baseline.update([_entry("a", _grads("float64", 0)), _entry("b", _grads("float64", 1))])
    replacement = _entry("a", _grads("float64", 2), loss=9.0)
    baseline.update([replacement])
    assert sorted(baseline.entries) == ["a", "b"]
    assert baseline.get("a") is replacement
    assert baseline.get("c") is None


def test_the_fingerprint_depends_on_names_dtypes_shapes_and_bytes_but_not_order() -> None:
    a, b = np.arange(6.0).reshape(2, 3), np.ones(2)
    base = fingerprint({"a": a, "b": b})
    assert fingerprint({"b": b, "a": a}) == base
    assert fingerprint({"a": a.copy(), "b": b.copy()}) == base
    variants: list[dict[str, Array]] = [
        {"a": a.astype(np.float32), "b": b},
        {"a": a.reshape(3, 2), "b": b},
        {"a": a.T, "b": b},
        {"a": a, "c": b},
        {"a": a, "b": np.nextafter(b, 2)},
    ]
    assert len({base, *(fingerprint(v) for v in variants)}) == len(variants) + 1


# Fixed cases ----------------------------------------------------------------------------------


def test_a_fixed_case_is_rebuilt_from_spec_seed_and_batch() -> None:
    spec = SPEC.replace(loss="softmax_ce")
    case, again, other = fixed_case(spec, 3, 5), fixed_case(spec, 3, 5), fixed_case(spec, 4, 5)
    assert case.X.shape == (5, 3) and case.y.shape == (5,)
    assert np.issubdtype(case.y.dtype, np.integer) and set(case.y) <= {0, 1}
    assert _inputs_of(case) == _inputs_of(again) != _inputs_of(other)
    assert all(np.all(case.params[b] != 0) for b in ("b1", "b2"))
    with pytest.raises(GradcheckError, match="batch must be >= 1"):
        fixed_case(spec, 0, 0)


def test_record_cases_makes_one_entry_per_spec_and_seed_with_its_source() -> None:
    specs = [SPEC, SPEC.replace(dtype="float32")]
    entries = record_cases(specs, [0, 1], batch=BATCH)
    assert len(entries) == len({e.key for e in entries}) == 4
    for entry in entries:
        source = entry.source
        spec = NetworkSpec.parse(source["spec"])
        assert source["kind"] == "case" and source["engine"] == "core"
        assert source["batch"] == BATCH and spec in specs
        assert entry.key == f"case:core:{spec.to_text()}:seed={source['seed']}:batch={BATCH}"
        case = fixed_case(spec, source["seed"], BATCH)
        assert entry.inputs == _inputs_of(case)
        assert entry.dtype == spec.dtype
        assert [(k, g.shape) for k, g in entry.grads.items()] == list(spec.param_shapes().items())


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_check_cases_passes_right_after_recording(tmp_path: Path, loss: str, dtype: str) -> None:
    spec = SPEC.replace(loss=loss, output=None, dtype=dtype)
    _recorded(tmp_path / "golden", [spec])
    result = check_cases(Baseline.load(tmp_path / "golden"), str(tmp_path / "golden"))
    assert result.verdict == "pass"
    assert result.skipped == 0 and result.failures == ()
    (drift,) = result.drifts
    assert drift.verdict == "pass" and not drift.inputs_changed and drift.problems == ()
    assert [r.tensor for r in drift.records] == ["W1", "b1", "W2", "b2"]
    assert all(r.abs_err == 0 for r in drift.records)  # the same engine, the same inputs
    assert "matches its baseline" in drift.describe()


def test_entries_recorded_by_pytest_are_skipped_and_cannot_be_rechecked() -> None:
    baseline = Baseline()
    baseline.update(record_cases([SPEC], [0], batch=BATCH))
    plugin_entry = _entry("tests/test_x.py::test_y::W", _grads("float64", 0))
    baseline.update([plugin_entry])
    result = check_cases(baseline)
    assert (len(result.drifts), result.skipped, result.verdict) == (1, 1, "pass")
    with pytest.raises(GradcheckError, match="was not recorded from a fixed case"):
        check_entry(plugin_entry)


# Drift that finite differences cannot see ------------------------------------------------------


def test_a_changed_initialiser_is_a_drift_of_the_inputs_that_fd_accepts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    baseline = _recorded(tmp_path / "golden")
    before = fixed_case(SPEC, 0, BATCH)
    original = INITIALISERS["xavier_uniform"]

    def wider(rng: np.random.Generator, shape: tuple[int, int]) -> Array:
        return 1.01 * original(rng, shape)

    monkeypatch.setitem(INITIALISERS, "xavier_uniform", wider)
    after = fixed_case(SPEC, 0, BATCH)
    np.testing.assert_allclose(after.params["W1"], 1.01 * before.params["W1"], rtol=1e-15)

    result = check_cases(Baseline.load(tmp_path / "golden"))
    assert result.verdict == "fail"
    (drift,) = result.failures
    assert drift.key == next(iter(baseline.entries))
    assert drift.inputs_changed
    assert {r.tensor for r in drift.drifted} == {"W1", "b1", "W2", "b2"}
    text = drift.describe()
    assert "gradients drifted from the baseline" in text
    assert "initialisation or data changed" in text
    # Finite differences agree with the new gradients: only the baseline sees the change.
    assert check_case(after, ["core", "fd"]).verdict == "pass"


@pytest.mark.parametrize("loss", ["mse", "softmax_ce"])
def test_a_changed_loss_reduction_drifts_by_one_over_the_batch_and_fd_accepts_it(
    loss: str,
) -> None:
    spec = SPEC.replace(loss=loss)
    (entry,) = record_cases([spec], [0], batch=BATCH)
    changed = spec.replace(reduction="mean")
    assert changed.reduction == "mean" and spec.reduction == "sum"
    case = fixed_case(changed, 0, BATCH)
    assert _inputs_of(case) == entry.inputs  # the reduction does not change the inputs
    result = get_engine("core").run(case)

    drift = compare_to_baseline(entry, result.loss, result.grads, _inputs_of(case))
    assert drift.verdict == "fail"
    assert not drift.inputs_changed
    assert drift.problems == (f"loss is {result.loss:.9g}, recorded {entry.loss:.9g}",)
    assert {r.tensor for r in drift.drifted} == set(entry.grads)
    assert drift.factors == {name: pytest.approx(1 / BATCH, rel=1e-9) for name in entry.grads}
    assert drift.loss[0] == entry.loss
    assert drift.loss[1] == pytest.approx(entry.loss / BATCH, rel=1e-12)
    text = drift.describe()
    assert "the gradient computation changed" in text
    assert f"now {1 / BATCH:g} × the recorded gradient" in text
    assert check_case(case, ["core", "fd"]).verdict == "pass"


def test_gradients_in_float64_against_a_float32_recording_report_the_dtype() -> None:
    (entry32,) = record_cases([SPEC.replace(dtype="float32")], [0], batch=BATCH)
    case64 = fixed_case(SPEC, 0, BATCH)
    result = get_engine("core").run(case64)
    drift = compare_to_baseline(entry32, result.loss, result.grads, _inputs_of(case64))
    assert drift.verdict == "fail"
    assert set(drift.problems) == {
        f"{name} has dtype float64, recorded float32" for name in ("W1", "b1", "W2", "b2")
    }
    assert "W1 has dtype float64, recorded float32" in drift.describe()


def test_the_same_gradients_in_another_dtype_are_still_a_drift() -> None:
    entry = _entry("k", _grads("float64", 0))
    as32 = {k: v.astype(np.float32) for k, v in entry.grads.items()}
    drift = compare_to_baseline(entry, entry.loss, as32, entry.inputs)
    assert drift.verdict == "fail"
    assert "W1 has dtype float32, recorded float64" in drift.problems
    # And the other way round, with values that float32 holds exactly: the dtype alone fails.
    exact = _entry("k", {k: v.astype(np.float32).astype(np.float64) for k, v in as32.items()})
    drift = compare_to_baseline(exact, exact.loss, as32, exact.inputs)
    assert drift.verdict == "fail" and drift.drifted == ()
    assert len(drift.problems) == 3 and "b1 has dtype float32, recorded float64" in drift.problems


# What compare_to_baseline reports ------------------------------------------------------------


def test_identical_gradients_match_and_an_ulp_or_two_is_within_tolerance() -> None:
    entry = _entry("k", _grads("float64", 0))
    same = compare_to_baseline(entry, entry.loss, dict(entry.grads), entry.inputs)
    assert same.verdict == "pass" and same.drifted == () and same.factors == {}
    nudged = {k: np.nextafter(v, np.inf) for k, v in entry.grads.items()}
    assert compare_to_baseline(entry, entry.loss, nudged, entry.inputs).verdict == "pass"


def test_one_changed_entry_is_named_with_both_values() -> None:
    entry = _entry("k", _grads("float64", 0))
    grads = {k: np.array(v) for k, v in entry.grads.items()}
    grads["W2"][1, 0] += 0.5
    drift = compare_to_baseline(entry, entry.loss, grads, entry.inputs)
    assert drift.verdict == "fail" and not drift.inputs_changed
    (record,) = drift.drifted
    assert (record.tensor, record.index) == ("W2", (1, 0))
    assert record.value_a == entry.grads["W2"][1, 0]
    assert record.value_b == grads["W2"][1, 0]
    assert drift.factors == {}  # not a common scale factor
    assert "W2: largest change at W2[1, 0]" in drift.describe()


@pytest.mark.parametrize("factor", [-1.0, 2.0, 1 / 8])
def test_a_scaled_gradient_reports_its_factor(factor: float) -> None:
    entry = _entry("k", _grads("float64", 0))
    scaled = {k: factor * v for k, v in entry.grads.items()}
    drift = compare_to_baseline(entry, entry.loss, scaled, entry.inputs)
    assert drift.factors == {k: pytest.approx(factor, rel=1e-12) for k in entry.grads}


def test_a_small_drift_passes_with_a_looser_rtol() -> None:
    entry = _entry("k", _grads("float64", 0))
    grads = {k: v * (1 + 1e-7) for k, v in entry.grads.items()}
    assert compare_to_baseline(entry, entry.loss, grads).verdict == "fail"
    assert compare_to_baseline(entry, entry.loss, grads, rtol=1e-6).verdict == "pass"


def test_tensors_added_removed_or_reshaped_are_problems() -> None:
    entry = _entry("k", _grads("float64", 0))
    grads = {
        "W1": np.asarray(entry.grads["W1"]).T.copy(),  # (3, 2) → (2, 3)
        "b1": entry.grads["b1"],
        "W3": np.ones((2, 2)),
    }
    drift = compare_to_baseline(entry, entry.loss, grads, entry.inputs)
    assert drift.verdict == "fail"
    assert drift.problems == (
        "tensors not in the baseline: W3",
        "tensors missing since the baseline: W2",
        "W1 has shape (2, 3), recorded (3, 2)",
    )
    assert [r.tensor for r in drift.records] == ["b1"]
    assert all(p in drift.describe() for p in drift.problems)


def test_inputs_changed_needs_both_fingerprints() -> None:
    entry = _entry("k", _grads("float64", 0))
    grads = dict(entry.grads)
    assert compare_to_baseline(entry, 1.0, grads, "ffffffffffffffff").inputs_changed
    assert not compare_to_baseline(entry, 1.0, grads, entry.inputs).inputs_changed
    assert not compare_to_baseline(entry, 1.0, grads, "").inputs_changed


# Damaged files ---------------------------------------------------------------------------------


def _edit_index(stem: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    path = stem.with_suffix(".json")
    index = json.loads(path.read_text())
    edit(index)
    path.write_text(json.dumps(index))


def _set_offset(value: int) -> Callable[[dict[str, Any]], None]:
    def edit(index: dict[str, Any]) -> None:
        index["entries"][0]["tensors"]["W2"]["offset"] = value

    return edit


def _damage(kind: str, stem: Path) -> None:
    json_path, npz_path = stem.with_suffix(".json"), stem.with_suffix(".npz")
    if kind == "missing_npz":
        npz_path.unlink()
    elif kind == "missing_json":
        json_path.unlink()
    elif kind == "json_not_json":
        json_path.write_text('{"format": "gradcheck.baseline/1", "entries": [')
    elif kind == "wrong_format":
        _edit_index(stem, lambda index: index.update(format="gradcheck.case/1"))
    elif kind == "json_is_a_list":
        json_path.write_text("[]")
    elif kind == "npz_of_another_baseline":
        other = stem.with_name("other")
        _recorded(other, [SPEC.replace(hidden="relu")])
        npz_path.write_bytes(other.with_suffix(".npz").read_bytes())
    elif kind == "offset_out_of_range":
        _edit_index(stem, _set_offset(10_000))
    elif kind == "negative_offset":
        _edit_index(stem, _set_offset(-1))
    elif kind == "unknown_array":
        _edit_index(stem, lambda i: i["entries"][0]["tensors"]["W1"].update(array="e7.float64"))
    elif kind == "no_entries":
        _edit_index(stem, lambda index: index.pop("entries"))
    else:
        raise AssertionError(kind)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("missing_npz", r"golden\.npz does not exist"),
        ("missing_json", r"golden\.json does not exist"),
        ("json_not_json", r"golden\.json is not valid JSON"),
        ("wrong_format", r"is not a gradcheck baseline \(expected format 'gradcheck.baseline/1'"),
        ("json_is_a_list", "is not a gradcheck baseline"),
        ("npz_of_another_baseline", r"golden\.npz does not match its index .*record .* again"),
        ("offset_out_of_range", "damaged.*W2 lies outside its array e0.float64"),
        ("negative_offset", "damaged.*W2 lies outside its array"),
        ("unknown_array", "damaged.*e7.float64"),
        ("no_entries", "damaged.*entries"),
    ],
)
def test_a_damaged_baseline_is_a_clear_error(tmp_path: Path, kind: str, message: str) -> None:
    stem = tmp_path / "golden"
    _recorded(stem)
    Baseline.load(stem)  # intact before the damage
    _damage(kind, stem)
    with pytest.raises(GradcheckError, match=message):
        Baseline.load(stem)


def test_a_corrupt_npz_without_a_digest_is_a_gradcheck_error(tmp_path: Path) -> None:
    stem = tmp_path / "golden"
    _recorded(stem)
    _edit_index(stem, lambda index: index.pop("arrays_sha256"))
    npz = stem.with_suffix(".npz")
    data = bytearray(npz.read_bytes())
    # Flip a byte inside the first member's compressed data (after its local file header).
    start = 30 + int.from_bytes(data[26:28], "little") + int.from_bytes(data[28:30], "little")
    data[start + 5] ^= 0xFF
    npz.write_bytes(bytes(data))
    with pytest.raises(GradcheckError, match="damaged"):
        Baseline.load(stem)


# Atomic saves --------------------------------------------------------------------------------


def test_save_writes_both_files_atomically_and_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written: list[str] = []
    real = gradcheck.io.atomic_write_bytes

    def spy(path: str | Path, data: bytes) -> Path:
        written.append(Path(path).name)
        return real(path, data)

    monkeypatch.setattr(store, "atomic_write_bytes", spy)
    monkeypatch.setattr(gradcheck.io, "atomic_write_bytes", spy)  # atomic_write_text's callee
    _recorded(tmp_path / "golden")
    _recorded(tmp_path / "golden")  # and again, over the existing files
    assert written == ["golden.npz", "golden.json"] * 2  # the arrays first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["golden.json", "golden.npz"]


def test_a_save_interrupted_before_the_index_is_caught_on_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stem = tmp_path / "golden"
    _recorded(stem)

    def crash(path: str | Path, text: str) -> Path:
        raise OSError("disk full")

    monkeypatch.setattr(store, "atomic_write_text", crash)
    with pytest.raises(OSError, match="disk full"):
        _recorded(stem, [SPEC.replace(hidden="sigmoid")])
    with pytest.raises(GradcheckError, match="does not match its index"):
        Baseline.load(stem)


def test_a_failed_write_keeps_the_previous_baseline_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stem = tmp_path / "golden"
    first = _recorded(stem)

    def failing_replace(src: str, dst: str) -> None:
        raise OSError("rename failed")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="rename failed"):
        _recorded(stem, [SPEC.replace(hidden="sigmoid")])
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["golden.json", "golden.npz"]
    assert sorted(Baseline.load(stem).entries) == sorted(first.entries)


# Known bugs --------------------------------------------------------------------------------------


def test_baselines_whose_names_differ_after_a_dot_do_not_overwrite_each_other(
    tmp_path: Path,
) -> None:
    Baseline({"one": _entry("one", _grads("float64", 1))}).save(tmp_path / "core.v1")
    Baseline({"two": _entry("two", _grads("float64", 2))}).save(tmp_path / "core.v2")
    assert list(Baseline.load(tmp_path / "core.v1").entries) == ["one"]
    assert list(Baseline.load(tmp_path / "core.v2").entries) == ["two"]


@pytest.mark.parametrize("keywords", [{"rtol": float("nan")}, {"atol": float("nan")}])
def test_a_nan_tolerance_is_refused(keywords: dict[str, float]) -> None:
    entry = _entry("k", _grads("float64", 0))
    tenfold = {k: 10 * v for k, v in entry.grads.items()}
    (name,) = keywords
    with pytest.raises(GradcheckError, match=f"{name} must be a finite number >= 0, not nan"):
        compare_to_baseline(entry, entry.loss, tenfold, entry.inputs, **keywords)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_loss_that_moved_is_drift_even_when_the_gradients_did_not(dtype: str) -> None:
    entry = _entry("k", _grads(dtype, 0), loss=1.25)
    same = compare_to_baseline(entry, 1.25, entry.grads, entry.inputs)
    assert (same.verdict, same.problems) == ("pass", ())
    shifted = compare_to_baseline(entry, 1.25 + 1.0, entry.grads, entry.inputs)
    assert shifted.verdict == "fail" and not shifted.drifted
    assert shifted.problems == ("loss is 2.25, recorded 1.25",)
