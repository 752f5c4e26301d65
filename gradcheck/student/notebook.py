"""A Jupyter notebook as Python text: its code cells in order, IPython-only lines dropped.

Read with ``nbformat`` (``nbformat.read(..., as_version=4)``, then validated), never as
hand-parsed JSON. What Python cannot run is dropped, and each drop is listed with its place:

- line magics (``%matplotlib inline``, ``%load_ext autoreload``), shell escapes
  (``!pip install x``), their assigned forms (``files = !ls``, ``t = %timeit -o f()``), help
  lines (``np.dot?``) and any line that calls ``get_ipython()``;
- a cell magic's first line; the body is kept when the magic runs Python (``%%time``,
  ``%%timeit``, ``%%capture``), and the whole cell is dropped otherwise (``%%bash``,
  ``%%writefile``, ``%%html``).

Lines are read one by one, as IPython's own line transforms do, so a continuation line of a
bracketed expression that starts with ``%`` (``(a\n % b)``) is taken for a magic too.

A dropped line becomes an empty line (``pass`` where it was indented, so that a block stays
a block), so line numbers inside a cell never move. Cells are numbered from 1 counting every
cell, markdown included, the way one counts them scrolling down the notebook; ``lines`` maps
each line of the text to its ``(cell, line)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["NotebookError", "NotebookText", "notebook_text"]

_PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun"})
_IPYTHON_LINE = re.compile(
    r"""^\s*(?:[%!]                    # %magic, !shell
    |[\w.,\s\[\]]+=\s*[%!](?!=)         # name = !shell, name = %magic
    |.*\bget_ipython\s*\(              # get_ipython().run_line_magic(...)
    |[\w.\[\]()]+\?\??\s*$)            # obj? and obj?? help
    """,
    re.X,
)


class NotebookError(ValueError):
    """The file is not a notebook nbformat can read and validate."""


@dataclass(frozen=True)
class NotebookText:
    """``text``: the code cells joined; ``lines[i]`` is the ``(cell, line)`` of line i + 1;
    ``dropped``: the places and texts of what was dropped (``cell 2, line 1: %time``)."""

    text: str
    lines: tuple[tuple[int, int], ...]
    dropped: tuple[str, ...]


def _read(path: Path) -> list[tuple[int, str]]:
    """(cell number, source) of each code cell. Raises NotebookError or OSError."""
    import nbformat

    invalid: dict[str, Exception] = {}  # nbformat puts its error here instead of logging it
    try:
        notebook = nbformat.read(  # type: ignore[no-untyped-call]
            path, as_version=4, capture_validation_error=invalid
        )
        if "ValidationError" in invalid:
            raise invalid["ValidationError"]
    except OSError:
        raise
    except Exception as error:  # nbformat's NotJSONError, ValidationError, KeyError, …
        detail = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
        raise NotebookError(
            f"{path.name} is not a valid Jupyter notebook ({type(error).__name__}"
            + (f": {detail}" if detail else "")
            + ")"
        ) from None
    return [
        (number, str(cell.get("source", "")))
        for number, cell in enumerate(notebook.cells, start=1)
        if cell.get("cell_type") == "code"
    ]


def _cell_lines(number: int, source: str, dropped: list[str]) -> list[str]:
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].lstrip()[2:].split(maxsplit=1)[0] if lines[0].strip() != "%%" else ""
        if magic not in _PYTHON_CELL_MAGICS:
            dropped.append(f"cell {number} (a %%{magic} cell)")
            return [""] * len(lines)
        dropped.append(f"cell {number}, line 1 ({lines[0].strip()[:60]})")
        lines[0] = ""
    for index, line in enumerate(lines):
        if _IPYTHON_LINE.match(line):
            dropped.append(f"cell {number}, line {index + 1} ({line.strip()[:60]})")
            indent = line[: len(line) - len(line.lstrip())]
            lines[index] = f"{indent}pass" if indent else ""
    return lines


def notebook_text(path: Path) -> NotebookText:
    """The Python text of the notebook at ``path``. Raises NotebookError or OSError."""
    text: list[str] = []
    where: list[tuple[int, int]] = []
    dropped: list[str] = []
    for number, source in _read(path):
        lines = _cell_lines(number, source, dropped)
        text += [*lines, ""]  # an empty line between cells
        where += [(number, i) for i in range(1, len(lines) + 2)]
    return NotebookText("\n".join(text) + "\n", tuple(where), tuple(dropped))
