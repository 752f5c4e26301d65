# ruff: noqa: E501  (the cells are notebook source, with the long lines students write)
"""Writes the notebook and folder entries of tests/corpus (committed; rerun after editing):

    .venv/bin/python -m tests.student.build_corpus

A notebook states its expectation on the first lines of its first cell, a folder in its
``EXPECT`` file, both as ``# expect: VERDICT LABEL…`` (see ``corpus.read_expectation``).
Every text here is written for this corpus, in the styles students hand in.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from tests.student.corpus import CORPUS

Cell = tuple[str, str]  # ("md" | "code", source)


def _notebook(path: Path, cells: list[Cell]) -> None:
    notebook = new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    for count, (kind, source) in enumerate(cells, start=1):
        source = source.strip("\n")
        if kind == "md":
            notebook.cells.append(new_markdown_cell(source))
        else:
            notebook.cells.append(new_code_cell(source, execution_count=count))
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{index}"  # stable ids: the files do not change on each rebuild
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)


def _folder(path: Path, expect: str, files: dict[str, str]) -> None:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    (path / "EXPECT").write_text(expect + "\n")
    for name, text in files.items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith(".ipynb"):
            _notebook(target, NOTEBOOK_CELLS[text])
        else:
            target.write_text(text.lstrip("\n"))


# Two-layer notebooks ---------------------------------------------------------------------
SIGMOID = """
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))
"""

MESSY = [
    ("code", "# expect: pass\n# correct: a messy homework notebook, magics, plots, a redefinition"),
    ("md", "# Homework 2: backprop by hand\n\nRun all cells in order. **Don't** use autograd!"),
    (
        "code",
        "!pip install numpy matplotlib --quiet\n%matplotlib inline\n%load_ext autoreload\n%autoreload 2",
    ),
    (
        "code",
        "import numpy as np\nimport matplotlib.pyplot as plt\nnp.random.seed(231)\nprint('numpy', np.__version__)",
    ),
    ("md", "## The activation\nWe use $\\sigma(z) = 1/(1+e^{-z})$."),
    (
        "code",
        SIGMOID
        + "\nz = np.linspace(-5, 5, 100)\nplt.plot(z, sigmoid(z))\nplt.title('sigmoid')\nplt.show()",
    ),
    ("md", "## First try (forgot the derivative, fixed below)"),
    (
        "code",
        """
def backprop(X, y, weights, biases):
    a1 = sigmoid(X @ weights["w1"] + biases["b1"])
    y_pred = a1 @ weights["w2"] + biases["b2"]
    d2 = y_pred - y
    d1 = d2 @ weights["w2"].T   # TODO derivative of sigmoid??
    return {"w1": X.T @ d1, "b1": d1.sum(0), "w2": a1.T @ d2, "b2": d2.sum(0)}
""",
    ),
    ("code", "files = !ls\nprint(files)\nnp.dot?"),
    (
        "code",
        """
# fixed version -- this one is the real one
def backprop(X, y, weights, biases):
    w1, w2 = weights["w1"], weights["w2"]
    a1 = sigmoid(X @ w1 + biases["b1"])
    y_pred = a1 @ w2 + biases["b2"]
    delta2 = y_pred - y
    delta1 = (delta2 @ w2.T) * a1 * (1 - a1)
    grads = {}
    grads["w1"] = X.T @ delta1
    grads["b1"] = np.sum(delta1, axis=0)
    grads["w2"] = a1.T @ delta2
    grads["b2"] = np.sum(delta2, axis=0)
    return grads
""",
    ),
    (
        "code",
        """
%%time
X = np.random.randn(64, 3)
y = np.random.randn(64, 2)
weights = {"w1": 0.1 * np.random.randn(3, 5), "w2": 0.1 * np.random.randn(5, 2)}
biases = {"b1": np.zeros(5), "b2": np.zeros(2)}
losses = []
for epoch in range(200):
    g = backprop(X, y, weights, biases)
    for k in weights:
        weights[k] -= 0.01 * g[k]
    for k in biases:
        biases[k] -= 0.01 * g[k]
    a1 = sigmoid(X @ weights["w1"] + biases["b1"])
    losses.append(0.5 * np.sum((a1 @ weights["w2"] + biases["b2"] - y) ** 2))
    if epoch % 50 == 0:
        print(epoch, losses[-1])
""",
    ),
    (
        "code",
        "plt.plot(losses)\nplt.xlabel('epoch')\nget_ipython().run_line_magic('matplotlib', 'inline')",
    ),
    ("code", "%%bash\necho done\nls -la"),
]

SIGN_FLIP = [
    ("code", "# expect: fail sign_flip\n# buggy: the output error has the wrong sign"),
    ("md", "### Q3 backprop"),
    ("code", "import numpy as np\n%precision 4"),
    ("code", SIGMOID),
    (
        "code",
        """
def forward(X, weights, biases):
    a1 = sigmoid(X @ weights["w1"] + biases["b1"])
    return a1, a1 @ weights["w2"] + biases["b2"]
""",
    ),
    (
        "code",
        """
def backprop(X, y, weights, biases):
    a1, y_pred = forward(X, weights, biases)
    delta2 = y - y_pred
    delta1 = (delta2 @ weights["w2"].T) * a1 * (1.0 - a1)
    return {"w1": X.T @ delta1, "b1": delta1.sum(axis=0),
            "w2": a1.T @ delta2, "b2": delta2.sum(axis=0)}
""",
    ),
    (
        "code",
        "print(backprop(np.ones((2, 3)), np.ones((2, 1)), {'w1': np.ones((3, 4)), 'w2': np.ones((4, 1))}, {'b1': np.zeros(4), 'b2': np.zeros(1)}))",
    ),
]

SYNTAX = [
    ("code", "# expect: error syntax_error\n# broken: cell 4 does not parse"),
    ("code", "import numpy as np"),
    ("md", "the model"),
    ("code", SIGMOID.strip() + "\ndef backprop(X, y, weights, biases)\n    return {}"),
]

TORCH = [
    ("code", "# expect: fail forbidden_import\n# forbidden: one cell reaches for torch"),
    ("code", "import numpy as np\n%matplotlib inline"),
    ("code", SIGMOID),
    (
        "code",
        """
import torch  # just to check my answer

def backprop(X, y, weights, biases):
    return {k: np.zeros_like(v) for k, v in {**weights, **biases}.items()}
""",
    ),
]

CRASH = [
    ("code", "# expect: fail crash\n# crash: a typo in a key, at call time"),
    ("code", "import numpy as np\n!nvidia-smi"),
    ("code", SIGMOID),
    (
        "code",
        """
def backprop(X, y, weights, biases):
    a1 = sigmoid(X @ weights["w1"] + biases["b1"])
    y_pred = a1 @ weights["w2"] + biases["b_2"]
    return {}
""",
    ),
]

# A cs231n-style layers notebook ---------------------------------------------------------
AFFINE = """
def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1).dot(w) + b
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    x, w, b = cache
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T.dot(dout)
    db = np.sum(dout, axis=0)
    return dx, dw, db
"""
RELU = """
def relu_forward(x):
    out = x.copy()
    out[out < 0] = 0
    return out, x


def relu_backward(dout, cache):
    x = cache
    dx = dout.copy()
    dx[x <= 0] = 0
    return dx
"""
SQUASH = """
def sigmoid_forward(x):
    s = 1 / (1 + np.exp(-x))
    return s, s


def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)


def tanh_forward(x):
    t = np.tanh(x)
    return t, t


def tanh_backward(dout, cache):
    return dout * (1 - cache * cache)
"""
LOSSES = """
def softmax_loss(x, y):
    N = x.shape[0]
    p = np.exp(x - np.max(x, axis=1, keepdims=True))
    p /= np.sum(p, axis=1, keepdims=True)
    loss = -np.sum(np.log(p[np.arange(N), y])) / N
    dx = p.copy()
    dx[np.arange(N), y] -= 1
    dx /= N
    return loss, dx


def mse_loss(x, y):
    N = x.shape[0]
    loss = 0.5 * np.sum((x - y) ** 2) / N
    return loss, (x - y) / N
"""

CS231N = [
    ("code", "# expect: pass\n# correct: layers spread over cells, with a gradient-check cell"),
    ("md", "# Fully-connected nets\nImplement the layers below."),
    (
        "code",
        "import numpy as np\nimport matplotlib.pyplot as plt\n%matplotlib inline\n%load_ext autoreload\n%autoreload 2",
    ),
    (
        "code",
        "def rel_error(x, y):\n    return np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y)))",
    ),
    ("code", AFFINE),
    (
        "code",
        "x = np.random.randn(10, 2, 3)\nw = np.random.randn(6, 5)\nb = np.random.randn(5)\nout, _ = affine_forward(x, w, b)\nprint(out.shape)",
    ),
    ("code", RELU),
    ("code", SQUASH),
    ("code", LOSSES),
    ("code", "%%timeit\naffine_forward(x, w, b)"),
]

NOTEBOOK_CELLS = {"cs231n": CS231N, "helper_user": []}

HELPER_USER = [
    (
        "code",
        "# a notebook that keeps its activation in utils.py\nimport numpy as np\nfrom utils import sigmoid, sigmoid_prime\n%matplotlib inline",
    ),
    (
        "code",
        """
def backprop(X, y, weights, biases):
    z1 = X @ weights["w1"] + biases["b1"]
    a1 = sigmoid(z1)
    y_pred = a1 @ weights["w2"] + biases["b2"]
    delta2 = y_pred - y
    delta1 = (delta2 @ weights["w2"].T) * sigmoid_prime(z1)
    return {"w1": X.T @ delta1, "b1": delta1.sum(0), "w2": a1.T @ delta2, "b2": delta2.sum(0)}
""",
    ),
    ("code", "!python -c 'print(1)'\nbackprop"),
]
NOTEBOOK_CELLS["helper_user"] = HELPER_USER

# Folders --------------------------------------------------------------------------------
FOLDERS: dict[str, tuple[str, str, dict[str, str]]] = {
    "folder_helpers": (
        "layers",
        "# expect: pass\n# correct: layers.py imports its activations from activations.py",
        {
            "layers.py": "import numpy as np\nfrom activations import *\n" + AFFINE + RELU + LOSSES,
            "activations.py": "import numpy as np\n" + SQUASH,
            "layer_utils.py": "from layers import *\n\n\ndef affine_relu_forward(x, w, b):\n"
            "    a, fc = affine_forward(x, w, b)\n    out, rc = relu_forward(a)\n"
            "    return out, (fc, rc)\n",
            "notes.txt": "my notes, not code\n",
        },
    ),
    "folder_package": (
        "layers",
        "# expect: pass\n# correct: a cs231n/ package with relative and absolute imports",
        {
            "cs231n/__init__.py": "",
            "cs231n/layers.py": "import numpy as np\nfrom .activations import *\n"
            "from cs231n.activations import tanh_forward\n" + AFFINE + RELU + LOSSES,
            "cs231n/activations.py": "import numpy as np\n" + SQUASH,
            "cs231n/layer_utils.py": "from .layers import *\n",
            "run_me.ipynb": "helper_user",
        },
    ),
    "folder_forbidden_helper": (
        "layers",
        "# expect: fail forbidden_import\n# forbidden: the helper checks answers with torch",
        {
            "layers.py": "import numpy as np\nfrom check import compare\n" + AFFINE + RELU,
            "check.py": "import numpy as np\nimport torch\n\n\ndef compare(a, b):\n"
            "    return torch.allclose(torch.tensor(a), torch.tensor(b))\n",
        },
    ),
    "folder_numpy_shadow": (
        "two-layer",
        "# expect: pass\n# correct: a stray numpy.py beside the homework is not loaded",
        {
            "hw2.py": "import numpy as np\n" + SIGMOID + "\n\n"
            "def backprop(X, y, weights, biases):\n"
            '    a1 = sigmoid(X @ weights["w1"] + biases["b1"])\n'
            '    d2 = a1 @ weights["w2"] + biases["b2"] - y\n'
            '    d1 = (d2 @ weights["w2"].T) * a1 * (1 - a1)\n'
            '    return {"w1": X.T @ d1, "b1": d1.sum(0), "w2": a1.T @ d2, "b2": d2.sum(0)}\n',
            "numpy.py": "# scratch: is my sigmoid the same as torch's?\nimport torch\n"
            "print(torch.sigmoid(torch.zeros(1)))\n",
        },
    ),
    "folder_notebook_helper": (
        "two-layer",
        "# expect: pass\n# correct: a notebook that imports utils.py",
        {
            "hw2.ipynb": "helper_user",
            "utils.py": "import numpy as np\n" + SIGMOID + "\n\ndef sigmoid_prime(z):\n"
            "    s = sigmoid(z)\n    return s * (1 - s)\n",
        },
    ),
    "folder_ambiguous": (
        "two-layer",
        "# expect: fail missing_entry_point\n# ambiguous: two copies of the homework",
        {
            "hw2.py": "def backprop(X, y, weights, biases):\n    return {}\n",
            "hw2_old.py": "def backprop(X, y, weights, biases):\n    return None\n",
        },
    ),
}

NOTEBOOKS = {
    "two-layer/nb_correct_messy.ipynb": MESSY,
    "two-layer/nb_bug_sign_flip.ipynb": SIGN_FLIP,
    "two-layer/nb_syntax_error.ipynb": SYNTAX,
    "two-layer/nb_hostile_import_torch.ipynb": TORCH,
    "two-layer/nb_crash_at_call.ipynb": CRASH,
    "layers/nb_correct_cs231n.ipynb": CS231N,
}
NOT_A_NOTEBOOK = ("two-layer/nb_not_json.ipynb", '# expect: error syntax_error\n{"cells": [\n')


def main() -> None:
    for name, cells in NOTEBOOKS.items():
        _notebook(CORPUS / name, cells)
    path, text = NOT_A_NOTEBOOK
    (CORPUS / path).write_text(text)
    for name, (assignment, expect, files) in FOLDERS.items():
        _folder(CORPUS / assignment / name, expect, files)


if __name__ == "__main__":
    main()
