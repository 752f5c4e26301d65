"""Static checks of a submission: Python 2, forbidden imports, what is loaded and what not."""

from __future__ import annotations

from pathlib import Path

import pytest

from gradcheck.student.labels import Label
from gradcheck.student.source import analyse_source


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
