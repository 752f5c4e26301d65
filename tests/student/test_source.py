"""Static checks of a submission: Python 2, forbidden imports, what is loaded and what not."""

from __future__ import annotations

from pathlib import Path

import pytest

from gradcheck.student.labels import Label
from gradcheck.student.loader import SourceFile, Submission
from gradcheck.student.source import analyse_source, analyse_submission, analyse_text


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "submission.py"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text",
    ['print "hello"\n', "def f():\n    for i in xrange(3):\n        pass\n", "x = raw_input()\n"],
    ids=["print-statement", "xrange", "raw_input"],
)
def test_python2_is_a_syntax_error_that_says_so(tmp_path: Path, text: str) -> None:
    report = analyse_source(_write(tmp_path, text))
    assert [f.label for f in report.findings] == [Label.SYNTAX_ERROR]
    assert "Python 2" in report.findings[0].message


@pytest.mark.parametrize(
    "text",
    [
        "import torch\n",
        "from jax import numpy as jnp\n",
        "def f():\n    import tensorflow\n",
        "def f():\n    return __import__('autograd')\n",
        "import importlib\ndef f():\n    return importlib.import_module('gradcheck.nn')\n",
        "from reference_impls import torch_impl\n",
    ],
)
def test_forbidden_imports_are_found_anywhere(tmp_path: Path, text: str) -> None:
    report = analyse_source(_write(tmp_path, text))
    assert Label.FORBIDDEN_IMPORT in {f.label for f in report.findings}


def test_only_definitions_imports_and_constants_are_kept(tmp_path: Path) -> None:
    text = (
        "import numpy as np\n"  # 0 kept
        "EPS = 1e-8\n"  # 1 kept
        "act = lambda z: np.tanh(z)\n"  # 2 kept
        "data = np.load('train.npz')\n"  # 3 skipped: a call
        "def backprop(X):\n    return X\n"  # 4 kept
        "for epoch in range(10):\n    backprop(1)\n"  # 5 skipped
        "if __name__ == '__main__':\n    backprop(2)\n"  # 6 skipped
        "class Net:\n    pass\n"  # 7 kept
    )
    report = analyse_source(_write(tmp_path, text))
    assert report.ok
    assert report.keep == (0, 1, 2, 4, 7)
    assert len(report.skipped) == 3 and "line 4" in report.skipped[0]
    assert {"backprop", "Net", "EPS", "act", "np"} <= report.defined


def test_missing_entry_point_suggests_the_close_name(tmp_path: Path) -> None:
    report = analyse_source(_write(tmp_path, "def back_prop(X):\n    return X\n"))
    (finding,) = report.missing(["backprop"])
    assert finding.label == Label.MISSING_ENTRY_POINT and "back_prop" in finding.message


def test_analyse_text_names_a_helper_by_its_file() -> None:
    helper = SourceFile("utils", "pkg/utils.py", "import numpy as np\nprint(1)\nimport torch\n")
    report = analyse_text(helper, main=False)
    assert report.skipped == ("pkg/utils.py, line 2 (a call)",)
    assert report.findings[0].message.startswith("pkg/utils.py, line 3: imports torch")


def test_analyse_text_names_a_notebook_line_by_its_cell() -> None:
    cells = SourceFile(
        "hw", "hw.ipynb", "x = 1\n\nfor i in y:\n    pass\n", ((1, 1), (1, 2), (3, 1), (3, 2))
    )
    assert analyse_text(cells).skipped == ("cell 3, lines 1-2 (a loop)",)


def test_a_helpers_findings_are_reported_with_the_graded_module() -> None:
    main = SourceFile("hw", "hw.py", "from utils import *\n")
    helper = SourceFile(
        "utils",
        "utils.py",
        "def sigmoid(z):\n    return z\ndef _private():\n    pass\nfor i in range(3):\n    pass\n",
    )
    report, keeps = analyse_submission(Submission(Path("hw"), "hw", main, (helper,)))
    assert "sigmoid" in report.defined and "_private" not in report.defined
    assert report.skipped == ("utils.py, lines 5-6 (a loop)",)
    assert keeps == {"hw": (0,), "utils": (0, 1)}
