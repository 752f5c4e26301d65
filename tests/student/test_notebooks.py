"""Notebooks and folders, end to end: IPython-only lines are dropped and listed, and every
error points to the cell (``cell 4, line 2``) or the helper file it comes from, never to a
line of the text the cells were joined into."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from gradcheck.student.assignment import get_assignment
from gradcheck.student.isolation import Isolation
from gradcheck.student.loader import load_submission
from gradcheck.student.notebook import notebook_text
from gradcheck.student.result import SubmissionResult
from gradcheck.student.sandbox import Limits
from gradcheck.student.source import analyse_submission
from gradcheck.student.validate import validate_submission
from tests.student.corpus import CORPUS

LIMITS = Limits(timeout=120.0)  # no busy runner runs out of it: these tests are about places
WEAK = Isolation(False, "test: a plain child process")
BACKPROP = """
def backprop(X, y, weights, biases):
    a1 = sigmoid(X @ weights["w1"] + biases["b1"])
    d2 = a1 @ weights["w2"] + biases["b2"] - y
    d1 = (d2 @ weights["w2"].T) * a1 * (1 - a1)
    return {"w1": X.T @ d1, "b1": d1.sum(0), "w2": a1.T @ d2, "b2": d2.sum(0)}
""".strip()


def _notebook(path: Path, *cells: str) -> Path:
    """Cells given as source; one starting with ``md:`` is a markdown cell."""
    made = [new_markdown_cell(c[3:]) if c.startswith("md:") else new_code_cell(c) for c in cells]
    nbformat.write(new_notebook(cells=made), path)
    return path


def _validate(path: Path, isolation: Isolation | None = None) -> SubmissionResult:
    return validate_submission(
        path, get_assignment("two-layer"), examples=5, limits=LIMITS, isolation=isolation
    )


def test_magics_and_shell_escapes_are_dropped_where_they_were(tmp_path: Path) -> None:
    path = _notebook(
        tmp_path / "hw.ipynb",
        "md:# Homework",
        "%matplotlib inline\nimport numpy as np\n!pip install tqdm",
        "files = !ls\nfor f in files:\n    !echo $f\nnp.dot?",
        "%%time\nx = np.ones(3)",
        "%%bash\nls\nexit 1",
        "get_ipython().run_line_magic('load_ext', 'autoreload')\ny = 2",
    )
    text = notebook_text(path)
    assert text.dropped == (
        "cell 2, line 1 (%matplotlib inline)",
        "cell 2, line 3 (!pip install tqdm)",
        "cell 3, line 1 (files = !ls)",
        "cell 3, line 3 (!echo $f)",
        "cell 3, line 4 (np.dot?)",
        "cell 4, line 1 (%%time)",
        "cell 5 (a %%bash cell)",
        "cell 6, line 1 (get_ipython().run_line_magic('load_ext', 'autoreload'))",
    )
    lines = text.text.splitlines()
    assert "import numpy as np" in lines and "x = np.ones(3)" in lines and "y = 2" in lines
    assert "    pass" in lines  # the indented escape keeps its loop a loop
    assert not any(line.lstrip().startswith(("%", "!", "ls")) for line in lines)
    numbered = dict(zip(lines, text.lines, strict=False))
    assert numbered["x = np.ones(3)"] == (4, 2) and numbered["y = 2"] == (6, 2)


def test_a_syntax_error_names_its_cell(tmp_path: Path) -> None:
    report, _ = analyse_submission(load_submission(CORPUS / "two-layer" / "nb_syntax_error.ipynb"))
    (finding,) = report.findings
    assert finding.message.startswith("cell 4, line 3:"), finding.message


def test_skipped_top_level_code_is_named_by_cell(tmp_path: Path) -> None:
    path = _notebook(tmp_path / "hw.ipynb", "import numpy as np", "md:text", "print(1)\nprint(2)")
    report, _ = analyse_submission(load_submission(path))
    assert report.skipped == ("cell 3, line 1 (a call)", "cell 3, line 2 (a call)")


def test_a_forbidden_import_names_its_cell() -> None:
    loaded = load_submission(CORPUS / "two-layer" / "nb_hostile_import_torch.ipynb")
    report, _ = analyse_submission(loaded, ("torch",))
    assert [f.message.split(":")[0] for f in report.findings] == ["cell 4, line 1"]


def test_a_crash_at_call_time_names_the_cell() -> None:
    result = _validate(CORPUS / "two-layer" / "nb_crash_at_call.ipynb")
    assert "KeyError: 'b_2' (cell 4, line 3:" in result.checks[0].message, result.message


def test_a_crash_at_load_time_names_the_cell(tmp_path: Path) -> None:
    path = _notebook(
        tmp_path / "hw.ipynb",
        "import numpy as np",
        "md:## model",
        "class Config:\n    width = 4\n    depth = width // 0",
        BACKPROP,
    )
    result = _validate(path)
    assert result.verdict == "fail" and "crash" in result.labels
    assert "ZeroDivisionError: integer division or modulo by zero (cell 3, line 3:" in (
        result.message
    )


@pytest.mark.parametrize("isolation", [None, WEAK], ids=["strong", "weak"])
def test_a_helper_is_imported_in_the_sandbox_and_named_when_it_crashes(
    tmp_path: Path, isolation: Isolation | None
) -> None:
    (tmp_path / "utils.py").write_text(
        "import numpy as np\n"
        "data = np.load('train.npz')  # skipped: a call at import time\n"
        "for epoch in range(3):\n    raise SystemExit('the training loop ran')\n\n"
        "def sigmoid(z):\n    if z.shape[0] > 0:\n        raise ValueError('not yet')\n"
    )
    (tmp_path / "hw.py").write_text("from utils import sigmoid\n\n" + BACKPROP + "\n")
    result = _validate(tmp_path, isolation)
    assert "ValueError: not yet (utils.py, line 8:" in result.checks[0].message, result.message
    assert "utils.py, lines 3-4 (a loop)" in " ".join(result.notes)  # it never ran


def test_a_notebook_in_a_folder_imports_its_helper_under_weak_isolation_too() -> None:
    result = _validate(CORPUS / "two-layer" / "folder_notebook_helper", WEAK)
    assert result.verdict == "pass", result.message
    assert result.meta["module"] == "hw2"


def test_the_graded_module_is_loaded_under_its_file_stem() -> None:
    result = _validate(CORPUS / "two-layer" / "nb_bug_sign_flip.ipynb")
    assert result.meta["module"] == "nb_bug_sign_flip"


def test_a_module_missing_from_the_students_own_package_is_stubbed(tmp_path: Path) -> None:
    (tmp_path / "cs231n").mkdir()
    (tmp_path / "cs231n" / "__init__.py").write_text("")
    (tmp_path / "cs231n" / "utils.py").write_text(
        "import numpy as np\n" + "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))\n"
    )
    (tmp_path / "cs231n" / "model.py").write_text(
        "from cs231n.data_utils import load_CIFAR10  # not handed in\n"
        "from .utils import sigmoid\n\n" + BACKPROP + "\n"
    )
    result = _validate(tmp_path)
    assert result.verdict == "pass", result.message
    assert "replaced by stubs: cs231n.data_utils" in " ".join(result.notes)


def test_python_that_looks_a_little_like_a_magic_is_kept(tmp_path: Path) -> None:
    kept = [
        "x = y % 2",
        "if a != b:\n    s = '%s!' % a",
        "w -= 0.1 * g",
        "x %= 3",
        "d = {'!': 1}",
        "print('!ls')",
    ]
    path = _notebook(tmp_path / "hw.ipynb", *kept)
    text = notebook_text(path)
    assert text.dropped == ()
    assert text.text == "".join(f"{cell}\n\n" for cell in kept)
