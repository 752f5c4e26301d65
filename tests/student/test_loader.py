"""Reading a submission: which module is graded, which helpers travel with it, and what is
refused. No sandbox here; tests/student/test_notebooks.py runs loaded submissions."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from gradcheck.student.labels import Label
from gradcheck.student.loader import MAIN_MODULE, Unloadable, load_submission
from gradcheck.student.source import analyse_submission
from tests.student.corpus import CORPUS

LAYERS = ("affine_forward", "affine_backward", "relu_forward", "relu_backward")


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_a_py_file_is_loaded_under_its_own_name(tmp_path: Path) -> None:
    path = _tree(tmp_path, {"bob.py": "def f():\n    return 1\n"}) / "bob.py"
    loaded = load_submission(path)
    assert (loaded.module, loaded.display, loaded.helpers) == ("bob", "bob.py", ())
    assert loaded.main.text == "def f():\n    return 1\n"


@pytest.mark.parametrize("stem", ["alice-hw1", "math", "numpy", "2nd_try", MAIN_MODULE])
def test_a_file_name_that_cannot_be_a_module_name_is_loaded_as_submission(
    tmp_path: Path, stem: str
) -> None:
    path = _tree(tmp_path, {f"{stem}.py": "x = 1\n"}) / f"{stem}.py"
    assert load_submission(path).module == MAIN_MODULE


@pytest.mark.parametrize("name", ["notes.txt", "hw.zip", "report.pdf", "Makefile"])
def test_an_unsupported_file_is_refused_saying_what_is_supported(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text("x")
    with pytest.raises(Unloadable) as caught:
        load_submission(tmp_path / name)
    assert name in caught.value.message and ".ipynb notebook" in caught.value.message


def test_the_module_defining_the_entry_points_is_graded_and_its_helpers_follow(
    tmp_path: Path,
) -> None:
    loaded = load_submission(CORPUS / "layers" / "folder_helpers", LAYERS)
    assert loaded.main.display == "layers.py"
    assert [h.name for h in loaded.helpers] == ["activations"]
    assert any("layer_utils.py" in note for note in loaded.notes)  # not imported: not graded


def test_a_package_with_relative_and_absolute_imports(tmp_path: Path) -> None:
    loaded = load_submission(CORPUS / "layers" / "folder_package", LAYERS)
    assert loaded.module == "cs231n.layers"
    helpers = {h.name: h.package for h in loaded.helpers}
    assert helpers == {"cs231n": True, "cs231n.activations": False}


def test_a_package_folder_without_init_is_an_empty_package(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "pkg/layers.py": "from .utils import helper\n\ndef affine_forward():\n    pass\n",
            "pkg/utils.py": "def helper():\n    pass\n",
        },
    )
    loaded = load_submission(tmp_path, LAYERS)
    assert {h.name: (h.package, h.text) for h in loaded.helpers}["pkg"] == (True, "")


def test_a_helper_beside_a_main_module_deeper_in_the_folder_is_found(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "hw3/layers.py": "from layer_utils import *\n\ndef affine_forward():\n    pass\n",
            "hw3/layer_utils.py": "def sandwich():\n    pass\n",
        },
    )
    loaded = load_submission(tmp_path, LAYERS)
    assert loaded.module == "hw3.layers"
    assert "layer_utils" in [h.name for h in loaded.helpers]


def test_star_imported_helper_names_count_as_defined() -> None:
    loaded = load_submission(CORPUS / "layers" / "folder_helpers", LAYERS)
    report, keeps = analyse_submission(loaded)
    assert {"sigmoid_forward", "tanh_backward"} <= report.defined
    assert set(keeps) == {"layers", "activations"}


def test_two_files_defining_the_same_entry_points_are_ambiguous() -> None:
    with pytest.raises(Unloadable) as caught:
        load_submission(CORPUS / "two-layer" / "folder_ambiguous", ("backprop",))
    assert caught.value.label == Label.MISSING_ENTRY_POINT
    assert "ambiguous" in caught.value.message and "hw2_old.py" in caught.value.message


def test_a_folder_where_no_file_defines_an_entry_point(tmp_path: Path) -> None:
    _tree(tmp_path, {"a.py": "x = 1\n", "b.py": "y = 2\n"})
    with pytest.raises(Unloadable, match=r"no file in .* defines any of backprop"):
        load_submission(tmp_path, ("backprop",))


def test_a_folder_with_one_file_grades_it_even_without_entry_points(tmp_path: Path) -> None:
    _tree(tmp_path, {"hw.py": "def back_prop():\n    pass\n"})
    assert load_submission(tmp_path, ("backprop",)).main.display == "hw.py"


def test_a_file_that_does_not_parse_can_still_be_chosen(tmp_path: Path) -> None:
    _tree(tmp_path, {"hw.py": "def backprop(X)\n    pass\n", "notes.py": "x = 1\n"})
    assert load_submission(tmp_path, ("backprop",)).main.display == "hw.py"


def test_a_helper_named_like_a_provided_module_is_not_loaded(tmp_path: Path) -> None:
    loaded = load_submission(CORPUS / "two-layer" / "folder_numpy_shadow", ("backprop",))
    assert loaded.helpers == ()
    assert any("numpy.py in the folder was not loaded" in note for note in loaded.notes)
    report, _ = analyse_submission(loaded)
    assert report.ok  # its `import torch` is never looked at, since it never runs


def test_a_forbidden_import_in_a_helper_names_the_helper() -> None:
    loaded = load_submission(CORPUS / "layers" / "folder_forbidden_helper", LAYERS)
    report, _ = analyse_submission(loaded)
    (finding,) = report.findings
    assert finding.label == Label.FORBIDDEN_IMPORT
    assert finding.message.startswith("check.py, line 2: imports torch")


def test_hidden_files_caches_and_links_are_left_alone(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "hw.py": "import secret\n\ndef backprop():\n    pass\n",
            ".ipynb_checkpoints/hw-checkpoint.py": "def backprop():\n    pass\n",
            "__pycache__/hw.py": "def backprop():\n    pass\n",
        },
    )
    outside = _tree(tmp_path.parent / "outside", {"secret.py": "KEY = 'x'\n"}) / "secret.py"
    (tmp_path / "secret.py").symlink_to(outside)
    loaded = load_submission(tmp_path, ("backprop",))
    assert loaded.main.display == "hw.py" and loaded.helpers == ()
    assert any("symbolic links were not followed: secret.py" in n for n in loaded.notes)


def test_a_notebook_is_never_a_helper(tmp_path: Path) -> None:
    _tree(tmp_path, {"hw.py": "import utils\n\ndef backprop():\n    pass\n"})
    nbformat.write(
        new_notebook(cells=[new_code_cell("def f():\n    pass")]), tmp_path / "utils.ipynb"
    )
    assert load_submission(tmp_path, ("backprop",)).helpers == ()


def test_a_broken_notebook_beside_the_graded_file_is_named_in_a_note(tmp_path: Path) -> None:
    _tree(tmp_path, {"hw.py": "def backprop():\n    pass\n"})
    (tmp_path / "draft.ipynb").write_text('{"cells": [], "metadata": {}, "nbformat": 4}')
    loaded = load_submission(tmp_path, ("backprop",))
    assert loaded.main.display == "hw.py"
    assert any("not graded: draft.ipynb is not a valid Jupyter notebook" in n for n in loaded.notes)


def test_a_folder_of_only_a_broken_notebook_is_refused(tmp_path: Path) -> None:
    (tmp_path / "hw.ipynb").write_text("{not json")
    with pytest.raises(Unloadable, match=r"hw\.ipynb is not a valid Jupyter notebook"):
        load_submission(tmp_path, ("backprop",))
