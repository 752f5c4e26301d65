"""Case: validation at construction, read-only arrays, saving and loading."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gradcheck.case import Case
from gradcheck.errors import GradcheckError, NonFiniteError, ShapeError
from gradcheck.nn.init import init_params
from gradcheck.nn.spec import NetworkSpec


def make_case(loss: str = "softmax_ce") -> Case:
    spec = NetworkSpec((2, 3, 3), hidden="relu", loss=loss, dtype="float32")
    params = init_params(spec, 0)
    X = np.ones((2, 2), dtype=np.float32)
    y = np.array([0, 2]) if loss == "softmax_ce" else np.zeros((2, 3), dtype=np.float32)
    return Case(spec, params, X, y, seed=7)


def test_arrays_are_read_only_copies() -> None:
    case = make_case()
    assert not case.params["W1"].flags.writeable and not case.X.flags.writeable
    with pytest.raises(TypeError):
        case.params["W1"] = np.zeros((3, 2))  # type: ignore[index]


@pytest.mark.parametrize("loss", ["softmax_ce", "mse"])
def test_save_and_load_round_trip(tmp_path: Path, loss: str) -> None:
    case = make_case(loss)
    npz, meta = case.save(tmp_path / "case")
    assert json.loads(meta.read_text())["spec"] == case.spec.to_text()
    for path in (npz, meta, tmp_path / "case"):
        loaded = Case.load(path)
        assert loaded.spec == case.spec and loaded.seed == 7
        for name in case.spec.param_names:
            np.testing.assert_array_equal(loaded.params[name], case.params[name])
            assert loaded.params[name].dtype == np.float32
        np.testing.assert_array_equal(loaded.y, case.y)
    assert not list(tmp_path.glob(".*tmp"))  # atomic writes leave no temporary files


def test_missing_and_broken_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(GradcheckError, match="does not exist"):
        Case.load(tmp_path / "nothing.npz")
    make_case().save(tmp_path / "broken")
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(GradcheckError, match="unreadable"):
        Case.load(tmp_path / "broken")


def test_construction_validates() -> None:
    case = make_case()
    with pytest.raises(ShapeError, match="W1"):
        Case(case.spec, {**case.params, "W1": np.zeros((2, 3), np.float32)}, case.X, case.y)
    X = np.array(case.X)
    X[1, 0] = np.nan
    with pytest.raises(NonFiniteError, match=r"X\[1, 0\]"):
        Case(case.spec, case.params, X, case.y)


def test_with_dtype_is_an_explicit_cast() -> None:
    wide = make_case().with_dtype("float64")
    assert wide.spec.dtype == "float64" and wide.X.dtype == np.float64
    assert wide.y.dtype.kind == "i"  # integer labels stay labels
