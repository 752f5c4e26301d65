"""The comparison matrix (``gradcheck compare``) on small networks, with torch and JAX.

One small matrix (2 examples of a 3-5-4-2 tanh network, both dtypes, cpu and cuda) is run once
per module and shared; the checks read it. On this CPU machine the cuda cells are skipped.
"""

from __future__ import annotations

import argparse
import json
import math
import xml.etree.ElementTree as ET
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from gradcheck.cli.compare import add_compare_command
from gradcheck.errors import GradcheckError
from gradcheck.report.matrix import (
    SCHEMA,
    matrix_table,
    render_matrix_html_fragment,
    render_matrix_html_page,
    render_matrix_json,
    render_matrix_markdown,
)
from gradcheck.runs.matrix import (
    SETTINGS,
    MatrixCell,
    MatrixConfig,
    MatrixResult,
    draw_cases,
    run_matrix,
)

pytest.importorskip("torch")
pytest.importorskip("jax")

pytestmark = pytest.mark.reference

SMALL = MatrixConfig(examples=2, widths=(3, 5, 4, 2), batch=4, devices=("cpu", "cuda"))


@pytest.fixture(scope="module")
def result() -> MatrixResult:
    return run_matrix(SMALL)


def _cuda_visible() -> bool:
    import jax
    import torch

    return bool(torch.cuda.is_available()) or any(d.platform == "gpu" for d in jax.devices())


def _ran(result: MatrixResult, dtype: str | None = None) -> list[MatrixCell]:
    return [c for c in result.cells if c.skipped is None and dtype in (None, c.dtype)]


def test_every_cell_that_ran_has_ordered_finite_errors(result: MatrixResult) -> None:
    ran = _ran(result)
    assert {c.engine for c in ran} == {"core", "torch", "jax"}
    for cell in ran:
        assert cell.examples == 2, cell
        assert cell.median_rel is not None and cell.worst_rel is not None
        assert math.isfinite(cell.worst_rel), cell
        assert 0 <= cell.median_rel <= cell.worst_rel, cell
        assert cell.seconds >= 0 and cell.worst_entry, cell


def test_rows_are_every_engine_setting_and_device(result: MatrixResult) -> None:
    expected = {("core", "-", "cpu")} | {
        (engine, s.label, device)
        for engine in ("torch", "jax")
        for s in SETTINGS[engine]
        for device in ("cpu", "cuda")
    }
    assert set(result.rows()) == expected
    assert len(result.cells) == len(expected) * 2


def test_settings_reach_the_engines(result: MatrixResult) -> None:
    on = result.cell("torch", "tf32=on", "cpu", "float32")
    default = result.cell("jax", "precision=default", "cpu", "float32")
    assert on is not None and on.meta["allow_tf32"] is True
    assert on.meta["float32_matmul_precision"] == "high"
    assert default is not None and default.meta["matmul_precision"] == "default"
    assert {c.meta["device"] for c in _ran(result) if c.engine != "core"} == {"cpu"}


def test_float64_cells_agree_with_fd_within_its_error(result: MatrixResult) -> None:
    ran = _ran(result, "float64")
    assert {c.engine for c in ran} == {"core", "torch", "jax"}
    for cell in ran:
        assert cell.median_rel is not None and cell.median_rel <= 1e-9, cell
        # The worst entry is the fd reference's own error: within its error bar.
        assert cell.worst_over_bar is not None and cell.worst_over_bar <= 1, cell
    assert result.resolution["float64"][1] < 1e-6


def test_float64_cells_agree_with_complex_step_to_1e_9() -> None:
    config = replace(SMALL, reference="cs", dtypes=("float64",), devices=("cpu",))
    cells = run_matrix(config).cells
    assert len(cells) == 5 and all(c.skipped is None for c in cells)
    for cell in cells:
        assert cell.worst_rel is not None and cell.worst_rel <= 1e-9, cell
        assert cell.worst_over_bar is None


def test_float32_error_is_far_larger_and_the_engines_own(result: MatrixResult) -> None:
    for engine, setting, device in result.rows():
        wide = result.cell(engine, setting, device, "float64")
        narrow = result.cell(engine, setting, device, "float32")
        assert wide is not None and narrow is not None
        if wide.skipped is not None:
            continue
        assert wide.worst_rel is not None and narrow.worst_rel is not None
        assert narrow.worst_rel >= 100 * wide.worst_rel, (wide, narrow)
        assert narrow.worst_rel > float(np.finfo(np.float32).eps), narrow
        assert narrow.worst_over_bar is not None and narrow.worst_over_bar > 10, narrow


def test_cuda_cells_are_skipped_with_a_reason(result: MatrixResult) -> None:
    if _cuda_visible():
        pytest.skip("a CUDA device is visible here")
    cuda = [c for c in result.cells if c.device == "cuda"]
    assert len(cuda) == 8  # torch and jax, two settings each, two dtypes
    for cell in cuda:
        assert cell.skipped is not None and ("CUDA" in cell.skipped or "gpu" in cell.skipped)
        assert cell.worst_rel is None and cell.examples == 0
    assert any("cuda" in note for note in result.notes)


def test_cases_are_drawn_deterministically() -> None:
    first, again = draw_cases(SMALL), draw_cases(SMALL)
    other = draw_cases(replace(SMALL, seed=1))
    for a, b, c in zip(first, again, other, strict=True):
        assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)
        assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)
        assert not np.array_equal(a.X, c.X)


def test_markdown_has_a_row_per_engine_setting_device_and_a_column_per_dtype(
    result: MatrixResult,
) -> None:
    table = matrix_table(result).splitlines()
    header, body = table[0], table[2:]
    assert [h.strip() for h in header.strip("|").split("|")] == [
        "engine",
        "setting",
        "device",
        "float64",
        "float32",
    ]
    assert len(body) == len(result.rows())
    rows = {tuple(part.strip() for part in line.strip("|").split("|")[:3]) for line in body}
    assert rows == set(result.rows())
    document = render_matrix_markdown(result)
    assert matrix_table(result) in document and "## Summary" in document


class _Balance(HTMLParser):
    """Counts open tags; void elements never close."""

    VOID = frozenset({"meta", "br", "img", "link"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack.pop() == tag, f"unbalanced </{tag}>"


def test_html_fragment_is_a_coloured_self_contained_table(result: MatrixResult) -> None:
    fragment = render_matrix_html_fragment(result)
    table = ET.fromstring(fragment)
    assert table.tag == "table"
    body = table.findall("./tbody/tr")
    assert len(body) == len(result.rows())
    shades = {td.get("style") for tr in body for td in tr.findall("td")[3:]}
    assert any(s and "hsl(" in s for s in shades) and any(s and "#eeeeee" in s for s in shades)
    page = render_matrix_html_page(result)
    assert "http" not in fragment and "http" not in page
    parser = _Balance()
    parser.feed(page)
    assert parser.stack == []


def test_json_is_plain_data_with_the_schema(result: MatrixResult) -> None:
    data = render_matrix_json(result)
    assert data["schema"] == SCHEMA == "gradcheck.compare/1"
    again = json.loads(json.dumps(data, allow_nan=False))
    assert len(again["cells"]) == len(result.cells)
    assert again["config"]["widths"] == [3, 5, 4, 2]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("engines", ("core", "numpy")),
        ("dtypes", ("float16",)),
        ("devices", ("tpu",)),
        ("settings", ("tf32=maybe",)),
        ("reference", "autodiff"),
    ],
)
def test_unknown_names_raise(field: str, value: object) -> None:
    with pytest.raises(GradcheckError, match=str(value[-1] if isinstance(value, tuple) else value)):
        replace(SMALL, **{field: value})


def test_an_engine_without_any_chosen_setting_is_refused() -> None:
    with pytest.raises(GradcheckError, match="torch"):
        replace(SMALL, settings=("precision=highest",))


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="gradcheck")
    add_compare_command(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_cli_writes_reports_and_the_step_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = tmp_path / "step.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    out = tmp_path / "reports"
    args = _parse(
        ["compare", "--engines", "core,torch", "--dtypes", "float32", "--examples", "1",
         "--devices", "cpu", "--out", str(out)]
    )  # fmt: skip
    assert args.handler(args) == 0
    latest = out / "latest"
    assert {p.name for p in latest.iterdir()} == {"compare.md", "compare.json", "compare.html"}
    data = json.loads((latest / "compare.json").read_text())
    assert data["schema"] == SCHEMA and data["config"]["engines"] == ["core", "torch"]
    assert "| engine" in summary.read_text()
    printed = capsys.readouterr().out
    assert "tf32=on" in printed and "TF32 on" in printed


def test_cli_refuses_unknown_names(tmp_path: Path) -> None:
    for option, value in (("--engines", "core,mxnet"), ("--format", "md,pdf")):
        args = _parse(["compare", option, value, "--out", str(tmp_path)])
        with pytest.raises(GradcheckError, match=value.split(",")[1]):
            args.handler(args)
    assert not any(tmp_path.iterdir())  # nothing was written


def test_reference_device_keyword_defaults_and_refusal() -> None:
    from reference_impls import jax_impl, torch_impl

    case = draw_cases(SMALL)[0]
    inputs = (case.spec, dict(case.params), case.X, case.y)
    for impl in (torch_impl, jax_impl):
        _, default, meta = impl.loss_and_grads(*inputs)
        _, on_cpu, meta_cpu = impl.loss_and_grads(*inputs, device="cpu")
        assert meta["device"] == meta_cpu["device"] == "cpu"
        assert all(np.array_equal(default[k], on_cpu[k]) for k in default)
    if _cuda_visible():
        return
    with pytest.raises(RuntimeError, match="cuda"):
        torch_impl.loss_and_grads(*inputs, device="cuda")
    with pytest.raises(RuntimeError, match="gpu"):
        jax_impl.loss_and_grads(*inputs, device="gpu")
