"""A submission as handed in, read into text: one ``.py`` file, one ``.ipynb`` notebook, or a
folder of them.

A folder is the graded module plus the local helper modules it imports (``from layers import
*``, ``from .layers import *``, ``from cs231n.layers import *``), found by following its
imports, the helpers' own imports included. The graded module is the file (``.py`` or
``.ipynb``) that defines, by ``def``, ``class`` or assignment, the most of the assignment's
entry points; names it merely imports do not count, so ``layer_utils.py`` doing ``from layers
import *`` never outranks ``layers.py``. Two files that tie at the top (``hw.py`` and the
``hw.ipynb`` it was exported from) make the folder ambiguous, and so does a folder where no
file defines any entry point while several could be graded: both are refused with a message
naming the files, since grading a guess would be a silent wrong answer.

Module names are dotted paths from the folder (``cs231n/layers.py`` is ``cs231n.layers``; a
folder without ``__init__.py`` is an empty package) and, where the graded module sits deeper,
from its own folder too, as Python puts a script's folder first on ``sys.path``. A helper that
has the name of a module the sandbox provides (``numpy.py``, ``math.py``) is not loaded: the
real module is imported, as a note says. Notebooks are never helpers (Python cannot import
them), symbolic links are not followed, and files no graded module imports are listed in a
note and not graded. Hidden files and folders (``.ipynb_checkpoints``) and ``__pycache__``
are ignored.
"""

from __future__ import annotations

import ast
import re
import sys
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePath

from gradcheck.student.labels import Label
from gradcheck.student.notebook import NotebookError, notebook_text

__all__ = [
    "MAIN_MODULE",
    "MAX_FILES",
    "SUPPORTED",
    "SourceFile",
    "Submission",
    "Unloadable",
    "load_submission",
    "location",
    "read_python",
    "span",
    "star_imports",
]

SUPPORTED = (".py", ".ipynb")
MAX_FILES = 200  # .py and .ipynb files in one student's folder
MAIN_MODULE = "submission"  # the name of a graded module whose file name is not importable
_PROVIDED = frozenset(sys.stdlib_module_names) | {"numpy"}  # what the sandbox imports itself


class Unloadable(Exception):
    """The submission cannot be read into a module to grade; ``label`` says how to count it."""

    def __init__(self, label: Label, message: str) -> None:
        super().__init__(message)
        self.label, self.message = label, message


@dataclass(frozen=True)
class SourceFile:
    """One module: its import ``name``, where it came from (``display``, relative to the
    submission), its Python ``text``, and for a notebook the ``(cell, line)`` of each line."""

    name: str
    display: str
    text: str
    lines: tuple[tuple[int, int], ...] = ()
    package: bool = False


@dataclass(frozen=True)
class Submission:
    """What is graded: the ``main`` module, the ``helpers`` it imports, and ``notes`` on what
    was dropped or left out. ``module`` is the name the graded module is loaded under."""

    path: Path
    display: str
    main: SourceFile
    helpers: tuple[SourceFile, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def module(self) -> str:
        return self.main.name

    @property
    def reproduce_as(self) -> str:
        """The file a reproduction imports from: the notebook itself (whose cells it runs
        after), or the graded module by the name it is loaded under (``cs231n.layers.py``)."""
        if self.main.display.endswith(".ipynb"):
            return PurePath(self.main.display).name
        return f"{self.module}.py"

    @property
    def modules(self) -> tuple[SourceFile, ...]:
        return (self.main, *self.helpers)


def location(source: SourceFile, line: int, *, main: bool = True) -> str:
    """``line 12``, ``cell 4, line 2`` (a notebook) or ``layers.py, line 12`` (a helper)."""
    if source.lines and 1 <= line <= len(source.lines):
        cell, within = source.lines[line - 1]
        return f"cell {cell}, line {within}"
    return f"line {line}" if main else f"{source.display}, line {line}"


def span(source: SourceFile, first: int, last: int, *, main: bool = True) -> str:
    """``lines 3-5``, ``cell 4, lines 2-4``: a statement's lines, as ``location`` names one."""
    if first == last:
        return location(source, first, main=main)
    if source.lines and 1 <= first <= last <= len(source.lines):
        (cell, start), (end_cell, end) = source.lines[first - 1], source.lines[last - 1]
        if cell == end_cell:
            return f"cell {cell}, lines {start}-{end}"
        return f"cell {cell}, line {start} to cell {end_cell}, line {end}"
    return f"lines {first}-{last}" if main else f"{source.display}, lines {first}-{last}"


def _text(path: Path) -> tuple[str, tuple[tuple[int, int], ...], tuple[str, ...]]:
    """The Python text of a .py or .ipynb file, its line map and what was dropped."""
    if path.suffix == ".ipynb":
        try:
            notebook = notebook_text(path)
        except NotebookError as error:
            raise Unloadable(Label.SYNTAX_ERROR, str(error)) from None
        return notebook.text, notebook.lines, notebook.dropped
    return read_python(path), (), ()


def read_python(path: Path) -> str:
    """A .py file's text: UTF-8 (a byte-order mark dropped), undecodable bytes replaced."""
    return path.read_bytes().decode("utf-8-sig", errors="replace")


def _main_name(stem: str) -> str:
    ok = stem.isidentifier() and stem not in _PROVIDED and stem != MAIN_MODULE
    return stem if ok else MAIN_MODULE


def _dropped_note(display: str, dropped: tuple[str, ...]) -> tuple[str, ...]:
    if not dropped:
        return ()
    listed = "; ".join(dropped[:12]) + (" …" if len(dropped) > 12 else "")
    return (f"IPython-only lines of {display} were dropped (not Python): {listed}",)


def _unsupported(path: Path) -> Unloadable:
    kind = f"a {path.suffix} file" if path.suffix else "a file without an extension"
    return Unloadable(
        Label.MISSING_ENTRY_POINT,
        f"{path.name} is {kind}, which cannot be graded: a submission is a .py file, a "
        ".ipynb notebook, or a folder of them",
    )


def load_submission(path: Path, entry_points: Iterable[str] = ()) -> Submission:
    """Read the submission at ``path`` (a file or a folder). Raises Unloadable for what cannot
    be graded (a bad notebook, an unsupported file type, an ambiguous folder) and OSError for
    what cannot be read."""
    path = Path(path)
    if path.is_dir():
        return _load_folder(path, tuple(entry_points))
    if path.suffix not in SUPPORTED:
        raise _unsupported(path)
    text, lines, dropped = _text(path)
    main = SourceFile(_main_name(path.stem), path.name, text, lines)
    return Submission(path, path.name, main, (), _dropped_note(path.name, dropped))


# Folders ---------------------------------------------------------------------------------
def _files(folder: Path) -> tuple[list[Path], list[str]]:
    """The .py and .ipynb files of ``folder``, and notes on the links left alone."""
    found, links = [], []
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if any(p.startswith(".") or p == "__pycache__" for p in parts):
            continue
        if path.suffix in SUPPORTED and path.is_symlink():
            links.append("/".join(parts))
        elif path.suffix in SUPPORTED and path.is_file():
            found.append(path)
    notes = [f"symbolic links were not followed: {', '.join(links)}"] if links else []
    return found, notes


def _own_names(text: str) -> set[str]:
    """Names the module defines itself at its top level (not those it imports). A file that
    does not parse is read line by line for ``def`` and ``class`` at column 0."""
    try:
        body = ast.parse(text).body
    except (SyntaxError, ValueError):
        return set(re.findall(r"^(?:def|class)\s+(\w+)", text, re.M))
    names: set[str] = set()
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def _choose(folder: Path, texts: dict[Path, str], entry_points: tuple[str, ...]) -> Path:
    """The file that defines the most entry points; Unloadable when that is not one file."""
    if len(texts) == 1:
        return next(iter(texts))
    wanted = set(entry_points)
    score = {path: len(_own_names(text) & wanted) for path, text in texts.items()}
    best = max(score.values(), default=0)
    top = [path for path, n in score.items() if n == best]
    names = ", ".join(str(p.relative_to(folder)) for p in (top if best else texts))
    if best == 0:
        raise Unloadable(
            Label.MISSING_ENTRY_POINT,
            f"no file in {folder.name}/ defines any of {', '.join(entry_points) or '?'} "
            f"(files: {names})",
        )
    if len(top) > 1:
        raise Unloadable(
            Label.MISSING_ENTRY_POINT,
            f"{folder.name}/ is ambiguous: {names} each define {best} of the "
            f"{len(wanted)} functions to grade; keep the one to grade and remove the others",
        )
    return top[0]


def _dotted(relative: Path) -> tuple[str, bool] | None:
    """``a/b.py`` → ``("a.b", False)``, ``a/__init__.py`` → ``("a", True)``; None when a
    part is no identifier."""
    parts = list(relative.with_suffix("").parts)
    package = parts[-1] == "__init__"
    if package:
        parts.pop()
    if not parts or not all(p.isidentifier() for p in parts):
        return None
    return ".".join(parts), package


def _table(roots: list[Path], files: list[Path]) -> dict[str, tuple[Path | None, bool]]:
    """Import name → (file, is a package), from each root in turn (the first root wins);
    a folder holding modules but no ``__init__.py`` is a package without a file."""
    table: dict[str, tuple[Path | None, bool]] = {}
    for root in roots:
        for path in files:
            if path.suffix != ".py" or root not in path.parents:
                continue
            named = _dotted(path.relative_to(root))
            if named is None:
                continue
            name, package = named
            table.setdefault(name, (path, package))
            parents = name.split(".")[:-1]
            for i in range(1, len(parents) + 1):
                table.setdefault(".".join(parents[:i]), (None, True))
    return table


def _absolute(node: ast.ImportFrom, name: str, package: bool) -> str:
    """The module an ``import from`` names, a relative one resolved against ``name``."""
    base = name.split(".") if package else name.split(".")[:-1]
    stem = base[: len(base) - node.level + 1] if node.level else []
    return ".".join([*stem, *([node.module] if node.module else [])])


def star_imports(source: SourceFile) -> list[str]:
    """The modules ``source`` imports ``*`` from at its top level, relative ones resolved."""
    try:
        body = ast.parse(source.text).body
    except (SyntaxError, ValueError):
        return []
    return [
        _absolute(node, source.name, source.package)
        for node in body
        if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names)
    ]


def _imports(text: str, name: str, package: bool) -> set[str]:
    """Every module name an import anywhere in ``text`` may load, relative ones resolved."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node, name, package)
            if module:
                found.add(module)
            found.update(f"{module}.{a.name}" if module else a.name for a in node.names)
    return {".".join(n.split(".")[:i]) for n in found for i in range(1, n.count(".") + 2)}


def _helpers(
    main: SourceFile, table: dict[str, tuple[Path | None, bool]], folder: Path
) -> tuple[list[SourceFile], list[str]]:
    """The helper modules ``main`` imports, directly or through other helpers, and notes on
    the local files that were not loaded because the sandbox provides a module of that name."""
    helpers: dict[str, SourceFile] = {}
    shadowing: set[str] = set()
    todo = deque([main])
    while todo:
        module = todo.popleft()
        parents = {
            ".".join(module.name.split(".")[:i]) for i in range(1, module.name.count(".") + 1)
        }
        for name in sorted(_imports(module.text, module.name, module.package) | parents):
            if name in helpers or name == main.name or name not in table:
                continue
            if name.partition(".")[0] in _PROVIDED:
                shadowing.add(name)
                continue
            path, package = table[name]
            display = str(path.relative_to(folder)) if path else f"{name.replace('.', '/')}/"
            text = read_python(path) if path else ""
            helpers[name] = SourceFile(name, display, text, (), package)
            todo.append(helpers[name])
    notes = [
        f"{name.replace('.', '/')}.py in the folder was not loaded: {name.partition('.')[0]} "
        "is a module the grader provides, and that module is imported instead"
        for name in sorted(shadowing)
    ]
    return list(helpers.values()), notes


def _load_folder(folder: Path, entry_points: tuple[str, ...]) -> Submission:
    files, notes = _files(folder)
    if not files:
        raise Unloadable(Label.MISSING_ENTRY_POINT, f"no .py or .ipynb file in {folder.name}/")
    if len(files) > MAX_FILES:
        raise Unloadable(
            Label.MISSING_ENTRY_POINT,
            f"{folder.name}/ holds {len(files)} .py and .ipynb files; at most {MAX_FILES} are "
            "graded",
        )
    texts, maps, drops, broken = {}, {}, {}, {}
    for path in files:
        try:
            texts[path], maps[path], drops[path] = _text(path)
        except Unloadable as error:
            broken[path] = error
    if not texts:  # nothing but broken notebooks: the first one says why
        raise next(iter(broken.values()))
    chosen = _choose(folder, texts, entry_points)
    notes += [f"not graded: {error.message}" for error in broken.values()]
    display = str(chosen.relative_to(folder))
    roots = [folder] + ([chosen.parent] if chosen.parent != folder else [])
    table = _table(roots, files)
    named = _dotted(chosen.relative_to(folder)) if chosen.suffix == ".py" else None
    name, package = named if named else (_main_name(chosen.stem), False)
    if name.partition(".")[0] in _PROVIDED or name == MAIN_MODULE:
        name, package = MAIN_MODULE, False
    main = SourceFile(name, display, texts[chosen], maps[chosen], package)
    helpers, shadowed = _helpers(main, table, folder)
    used = {chosen} | {p for h in helpers if (p := table[h.name][0]) is not None}
    used |= {p for p in files if p.suffix == ".py" and p.stem in _PROVIDED}  # in a note
    unused = [str(p.relative_to(folder)) for p in files if p not in used and p not in broken]
    notes = [f"graded {display} (it defines the functions to grade)", *notes, *shadowed]
    notes += _dropped_note(display, drops[chosen])
    if unused:
        notes.append(
            f"files the graded module does not import were not graded: {', '.join(unused)}"
        )
    return Submission(folder, folder.name, main, tuple(helpers), tuple(notes))
