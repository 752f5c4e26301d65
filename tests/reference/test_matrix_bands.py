"""The comparison matrix judges each cell against the error its own dtype is expected to
show: correct engines are "expected" in float32 as in float64, and a gradient 0.1 % off in
one entry is "far" in both. The legend says so, in the terminal and in compare.md."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gradcheck.cli import main
from gradcheck.engines import ENGINES, register_engine
from gradcheck.nn.network import loss_and_grads
from gradcheck.report.matrix import MARKERS, legend
from gradcheck.runs.matrix import MatrixConfig, MatrixResult, run_matrix

pytest.importorskip("torch")
pytest.importorskip("jax")

pytestmark = pytest.mark.reference

OFF = "matrix_one_entry_off"


def _one_entry_off(spec, params, X, y):  # type: ignore[no-untyped-def]
    loss, grads = loss_and_grads(spec, params, X, y)
    grads = dict(grads)
    w = np.array(grads["W1"])
    w.flat[np.argmax(np.abs(w))] *= 1.001  # the largest entry, 0.1 % off
    grads["W1"] = w
    return loss, grads


if OFF not in ENGINES:
    register_engine(OFF, _one_entry_off, summary="W1's largest entry 0.1 % off")


@pytest.fixture(scope="module")
def result() -> MatrixResult:
    config = MatrixConfig(
        engines=("core", "torch", "jax", OFF), examples=2, widths=(3, 5, 4, 2), batch=4
    )
    return run_matrix(config)


def _bands(result: MatrixResult, engine: str) -> dict[str, set[str | None]]:
    bands: dict[str, set[str | None]] = {}
    for cell in result.cells:
        if cell.engine == engine and cell.skipped is None:
            bands.setdefault(cell.dtype, set()).add(cell.band)
    return bands


@pytest.mark.parametrize("engine", ["core", "torch", "jax"])
def test_correct_engines_are_within_their_dtype_s_expected_error(
    result: MatrixResult, engine: str
) -> None:
    assert _bands(result, engine) == {"float64": {"expected"}, "float32": {"expected"}}


def test_one_entry_off_is_far_in_both_dtypes(result: MatrixResult) -> None:
    assert _bands(result, OFF) == {"float64": {"far"}, "float32": {"far"}}


def test_the_legend_names_every_marker_and_the_scale(result: MatrixResult) -> None:
    text = "\n".join(legend(result))
    assert all(marker in text for marker, _, _ in MARKERS.values())
    assert "expected in the cell's own dtype" in text


def test_the_terminal_and_compare_md_carry_the_legend(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    argv = ["compare", "--engines", "core", "--examples", "1", "--devices", "cpu"]
    assert main([*argv, "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    markdown = (tmp_path / "latest" / "compare.md").read_text()
    for text in (printed, markdown):
        assert "🟩 ≤ 1× expected" in text and "🟥 > 10×" in text
