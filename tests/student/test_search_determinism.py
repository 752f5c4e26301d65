"""The grader's search explores the same inputs for a seed whatever else the process has
imported (Hypothesis otherwise mixes in constants harvested from loaded modules' source)."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import strategies as st

import gradcheck.student.search as search_module


class _Floats:
    """Just enough of a Check for search(): its inputs."""

    def cases(self) -> st.SearchStrategy[Any]:
        return st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=4)


def _explored(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    seen: list[Any] = []

    def passing_trial(check: object, sandbox: object, case: Any) -> SimpleNamespace:
        seen.append(case)
        return SimpleNamespace(failed=False, kind=frozenset())

    monkeypatch.setattr(search_module, "run_trial", passing_trial)
    search_module.search(_Floats(), None, examples=150, seed=3)  # type: ignore[arg-type]
    return seen


def test_the_inputs_of_a_seed_do_not_depend_on_imported_modules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _explored(monkeypatch)
    values = ", ".join(f"{n}.{n + 1}e{n % 6}" for n in range(1, 200))
    (tmp_path / "gradcheck_test_constants.py").write_text(f"VALUES = [{values}]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("gradcheck_test_constants")
    after = _explored(monkeypatch)
    assert len(before) == 150
    assert after == before
