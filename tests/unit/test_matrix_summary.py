"""The written summary and the writers of the comparison matrix, on hand-built results
(NumPy only: nothing here runs an engine)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from gradcheck.report.matrix import (
    render_matrix_html_fragment,
    render_matrix_json,
    render_matrix_markdown,
    sci,
    summarise,
)
from gradcheck.runs.matrix import MatrixCell, MatrixConfig, MatrixResult

CONFIG = MatrixConfig(engines=("core", "torch", "jax"), devices=("cpu", "cuda"))


def cell(
    engine: str,
    setting: str,
    dtype: str,
    worst: float,
    *,
    median: float | None = None,
    device: str = "cpu",
    over_bar: float | None = None,
) -> MatrixCell:
    median = worst / 100 if median is None else median
    return MatrixCell(engine, dtype, setting, device, 5, median, worst, 0.01, None, over_bar)


def skipped(engine: str, setting: str, dtype: str, device: str, reason: str) -> MatrixCell:
    return MatrixCell(engine, dtype, setting, device, 0, None, None, 0.0, reason)


def result(*cells: MatrixCell) -> MatrixResult:
    return MatrixResult(CONFIG, cells)


def test_tf32_that_moves_gradients_names_both_numbers() -> None:
    lines = summarise(
        result(
            cell("torch", "tf32=off", "float32", 4.6e-7, device="cuda"),
            cell("torch", "tf32=on", "float32", 6.5e-4, device="cuda"),
        )
    )
    sentence = next(line for line in lines if "TF32 on" in line)
    assert sentence.startswith("torch float32 on cuda:")
    assert "moves gradients by 6.5e-4" in sentence and "4.6e-7 with TF32 off" in sentence


def test_identical_cells_say_no_effect() -> None:
    lines = summarise(
        result(
            cell("torch", "tf32=off", "float32", 8.9e-5, median=1.4e-7),
            cell("torch", "tf32=on", "float32", 8.9e-5, median=1.4e-7),
        )
    )
    sentence = next(line for line in lines if "TF32 on" in line)
    assert "no effect" in sentence and "8.9e-5" in sentence and "moves" not in sentence


def test_nearly_equal_cells_are_no_measurable_difference() -> None:
    lines = summarise(
        result(
            cell("jax", "precision=highest", "float32", 1.0e-4),
            cell("jax", "precision=default", "float32", 1.2e-4),
        )
    )
    sentence = next(line for line in lines if "matmul precision default" in line)
    assert "no measurable difference" in sentence
    assert "1.2e-4" in sentence and "1.0e-4 with matmul precision highest" in sentence


def test_only_cells_differing_in_one_setting_are_compared() -> None:
    lines = summarise(
        result(
            cell("torch", "tf32=off", "float32", 4.6e-7, device="cpu"),
            cell("torch", "tf32=on", "float32", 6.5e-4, device="cuda"),  # another device
            cell("torch", "tf32=off", "float64", 1e-9, device="cuda"),  # another dtype
            cell("jax", "precision=highest", "float32", 4.6e-7, device="cuda"),  # another engine
        )
    )
    assert not any("TF32 on" in line for line in lines)


def test_skipped_baseline_gives_no_sentence_but_a_reason() -> None:
    lines = summarise(
        result(
            skipped("torch", "tf32=off", "float32", "cuda", "no CUDA device here"),
            cell("torch", "tf32=on", "float32", 6.5e-4, device="cuda"),
        )
    )
    assert not any("TF32 on" in line for line in lines)
    assert "torch on cuda not measured: no CUDA device here" in lines


def test_dtype_line_says_whether_the_reference_limits_it() -> None:
    lines = summarise(
        result(
            cell("core", "-", "float64", 3.9e-7, over_bar=0.4),
            cell("torch", "tf32=off", "float64", 3.9e-7, over_bar=0.4),
            cell("core", "-", "float32", 1.2e-4, over_bar=180.0),
            cell("torch", "tf32=off", "float32", 8.9e-5, over_bar=170.0),
        )
    )
    float64 = next(line for line in lines if line.startswith("float64:"))
    float32 = next(line for line in lines if line.startswith("float32:"))
    assert "within the fd reference's error bar" in float64
    assert "8.9e-5 (torch tf32=off, cpu)" in float32 and "1.2e-4 (core, cpu)" in float32
    assert "180×" in float32


@pytest.mark.parametrize(
    ("value", "text"),
    [(6.5e-4, "6.5e-4"), (4.56e-7, "4.6e-7"), (12345.0, "1.2e4"), (0.0, "0"), (None, "-")],
)
def test_sci(value: float | None, text: str) -> None:
    assert sci(value) == text


def test_writers_handle_skipped_and_infinite_cells() -> None:
    data = result(
        cell("core", "-", "float64", float("inf")),
        skipped("torch", "tf32=on", "float32", "cuda", "a <reason> & more"),
    )
    as_json = json.dumps(render_matrix_json(data), allow_nan=False)
    assert '"inf"' in as_json
    table = ET.fromstring(render_matrix_html_fragment(data))
    assert "a <reason> & more" in " ".join(td.get("title") or "" for td in table.iter("td"))
    markdown = render_matrix_markdown(data)
    assert "skipped" in markdown and "a <reason> & more" in markdown
