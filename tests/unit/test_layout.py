"""The package's layout promises, computed from its source with ``ast``.

- ``gradcheck/`` holds at most 15 Python files at its top level;
- no import circles among its modules: every import counts wherever it sits in a file
  (functions and classes too) except in the body of ``if TYPE_CHECKING:``;
- at most 8 functions run over 50 lines, from ``def`` to the end of the body.

The second half of the file runs the same checks on small packages built in ``tmp_path``,
so that each is seen to fail and to pass.
"""

from __future__ import annotations

import ast
import textwrap
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "gradcheck"
MAX_TOP_LEVEL_FILES = 15
MAX_LONG_FUNCTIONS = 8
LONG_FUNCTION_LINES = 50

Graph = Mapping[str, frozenset[str]]


# The metrics -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Module:
    """One Python file of a package: its dotted name and whether it is a package's
    ``__init__``."""

    name: str
    path: Path
    is_package: bool


@dataclass(frozen=True)
class LongFunction:
    where: str  # "pkg/file.py:LINE name"
    lines: int


def find_modules(root: Path) -> dict[str, Module]:
    """Every ``.py`` file under the package directory ``root``, by dotted name."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        modules[name] = Module(name, path, is_package)
    return modules


def top_level_files(root: Path) -> list[str]:
    """The names of the Python files directly in ``root``."""
    return sorted(path.name for path in root.glob("*.py"))


def _is_type_checking(test: ast.expr) -> bool:
    """``TYPE_CHECKING`` or ``typing.TYPE_CHECKING``."""
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def runtime_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement in ``tree`` that can run: at any depth (functions, classes,
    branches, handlers), except in the body of ``if TYPE_CHECKING:``, whose ``else`` runs."""
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            pending.extend(node.orelse)
        else:
            pending.extend(ast.iter_child_nodes(node))


def _from_base(node: ast.ImportFrom, importer: Module) -> str:
    """The module a ``from … import`` names, with a relative one resolved against
    ``importer`` (level 1 is the importer's own package)."""
    if not node.level:
        return node.module or ""
    package = importer.name.split(".")
    if not importer.is_package:
        package = package[:-1]
    package = package[: len(package) - (node.level - 1)]
    return ".".join([*package, *([node.module] if node.module else [])])


def imported_modules(node: ast.Import | ast.ImportFrom, importer: Module) -> set[str]:
    """The dotted names an import statement may load: ``import a.b``'s ``a.b``; for
    ``from m import x``, ``m`` and ``m.x`` (which counts where it is a module)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    base = _from_base(node, importer)
    return {base} | {f"{base}.{alias.name}" for alias in node.names}


def _ancestors(name: str) -> list[str]:
    """``a`` and ``a.b`` for ``a.b.c``: the packages Python imports first."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def import_graph(root: Path) -> dict[str, frozenset[str]]:
    """Module → the package's modules it imports at run time (see ``runtime_imports``).

    An import of ``a.b.c`` also imports ``a`` and ``a.b``, except the importer's own
    packages: those are already being imported when its code runs."""
    modules = find_modules(root)
    graph = {}
    for name, module in modules.items():
        tree = ast.parse(module.path.read_text(encoding="utf-8"), filename=str(module.path))
        direct = {d for node in runtime_imports(tree) for d in imported_modules(node, module)}
        own = set(_ancestors(name))
        implied = {a for d in direct for a in _ancestors(d) if a not in own}
        graph[name] = frozenset(d for d in direct | implied if d in modules and d != name)
    return graph


def reachable(graph: Graph, start: str) -> set[str]:
    """The modules reachable from ``start`` by one import or more (``start`` itself only
    through a circle)."""
    seen: set[str] = set()
    pending = list(graph[start])
    while pending:
        module = pending.pop()
        if module not in seen:
            seen.add(module)
            pending.extend(graph[module])
    return seen


def import_cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected groups of more than one module, each sorted: every module of
    a group imports every other, directly or not."""
    reach = {module: reachable(graph, module) for module in graph}
    groups = {
        frozenset({module} | {other for other in reach[module] if module in reach[other]})
        for module in graph
        if module in reach[module]
    }
    return sorted(sorted(group) for group in groups)


def shortest_cycle(graph: Graph, group: list[str]) -> list[str]:
    """The shortest import circle through ``group[0]`` within ``group``, start repeated at
    the end: ``[a, b, a]``."""
    start, members = group[0], set(group)
    came_from: dict[str, str] = {}
    pending = deque([start])
    while pending:
        module = pending.popleft()
        for target in sorted(graph[module] & members):
            if target == start:
                path = [module]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if target not in came_from:
                came_from[target] = module
                pending.append(target)
    raise ValueError(f"{start} is on no circle within {group}")


def long_functions(root: Path, max_lines: int) -> list[LongFunction]:
    """Every function and method (nested ones too) longer than ``max_lines`` lines, from
    ``def`` to the end of its body, longest first."""
    found = []
    for module in find_modules(root).values():
        tree = ast.parse(module.path.read_text(encoding="utf-8"), filename=str(module.path))
        where = module.path.relative_to(root.parent).as_posix()
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > max_lines:
                    found.append(LongFunction(f"{where}:{node.lineno} {node.name}", lines))
    return sorted(found, key=lambda f: (-f.lines, f.where))


# The promises: None where kept, else what breaks them --------------------------------------


def top_level_problem(root: Path, limit: int = MAX_TOP_LEVEL_FILES) -> str | None:
    """None when ``root`` holds at most ``limit`` Python files at its top level."""
    files = top_level_files(root)
    if len(files) <= limit:
        return None
    return f"{root.name}/ has {len(files)} Python files at its top level, over {limit}: {files}"


def cycle_problem(root: Path) -> str | None:
    """None when no modules of ``root`` import each other in a circle; else each group of
    such modules with one of its circles."""
    graph = import_graph(root)
    cycles = import_cycles(graph)
    if not cycles:
        return None
    lines = [
        f"  {', '.join(group)} (e.g. {' → '.join(shortest_cycle(graph, group))})"
        for group in cycles
    ]
    return f"{len(cycles)} import circle(s) among {root.name}'s modules:\n" + "\n".join(lines)


def long_function_problem(
    root: Path, limit: int = MAX_LONG_FUNCTIONS, max_lines: int = LONG_FUNCTION_LINES
) -> str | None:
    """None when at most ``limit`` functions run over ``max_lines`` lines; else all of
    them with their lengths."""
    found = long_functions(root, max_lines)
    if len(found) <= limit:
        return None
    lines = [f"  {f.lines} lines: {f.where}" for f in found]
    return f"{len(found)} functions over {max_lines} lines, over {limit}:\n" + "\n".join(lines)


# gradcheck itself ------------------------------------------------------------------------


def test_the_checks_read_the_real_package() -> None:
    graph = import_graph(PACKAGE)
    assert PACKAGE.name in graph and any(graph.values())


def test_gradcheck_has_at_most_15_top_level_files() -> None:
    problem = top_level_problem(PACKAGE)
    assert problem is None, problem


def test_gradcheck_has_no_import_circles() -> None:
    problem = cycle_problem(PACKAGE)
    assert problem is None, problem


def test_gradcheck_has_at_most_8_functions_over_50_lines() -> None:
    problem = long_function_problem(PACKAGE)
    assert problem is None, problem


# The checker on small packages -----------------------------------------------------------


def make_package(tmp_path: Path, files: Mapping[str, str]) -> Path:
    """``tmp_path/pkg`` holding ``files`` (relative path → dedented source); returns it."""
    root = tmp_path / "pkg"
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    return root


def function_of(lines: int, name: str = "f") -> str:
    """Source of a function ``lines`` lines long, ``def`` line included."""
    return f"def {name}():\n" + "    x = 0\n" * (lines - 1)


@pytest.mark.parametrize(("count", "kept"), [(15, True), (16, False)])
def test_top_level_files_are_counted_without_subpackages(
    tmp_path: Path, count: int, kept: bool
) -> None:
    files = {f"m{i}.py": "" for i in range(count)} | {"sub/__init__.py": "", "sub/x.py": ""}
    root = make_package(tmp_path, files)
    assert len(top_level_files(root)) == count
    problem = top_level_problem(root)
    assert (problem is None) is kept
    assert kept or f"pkg/ has {count} Python files" in str(problem)


def test_a_function_level_import_closes_a_circle(tmp_path: Path) -> None:
    root = make_package(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "import pkg.b\n",
            "b.py": """
                class C:
                    def method(self):
                        from . import a  # relative, inside a method
                        return a
            """,
            "c.py": "from pkg.a import name\n",  # imports into the circle, is not on it
        },
    )
    graph = import_graph(root)
    assert graph["pkg.b"] == {"pkg", "pkg.a"}  # `from . import a`: the package and pkg.a
    assert import_cycles(graph) == [["pkg.a", "pkg.b"]]
    problem = cycle_problem(root)
    assert problem is not None and "pkg.a, pkg.b (e.g. pkg.a → pkg.b → pkg.a)" in problem


def test_an_import_only_under_type_checking_does_not_count(tmp_path: Path) -> None:
    root = make_package(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": """
                from typing import TYPE_CHECKING
                import typing
                import pkg.b
                if TYPE_CHECKING:
                    from pkg.c import C
                if typing.TYPE_CHECKING:
                    from pkg.d import D
            """,
            "b.py": """
                from typing import TYPE_CHECKING
                if TYPE_CHECKING:
                    import pkg.a
            """,
            "c.py": "import pkg.a\n",
            "d.py": "import pkg.a\n",
        },
    )
    graph = import_graph(root)
    assert graph["pkg.a"] == {"pkg.b"} and graph["pkg.b"] == frozenset()
    assert import_cycles(graph) == []
    assert cycle_problem(root) is None


def test_the_else_of_type_checking_counts(tmp_path: Path) -> None:
    root = make_package(
        tmp_path,
        {
            "a.py": "import pkg.b\n",
            "b.py": """
                from typing import TYPE_CHECKING
                if TYPE_CHECKING:
                    pass
                else:
                    from pkg import a
            """,
        },
    )
    assert import_cycles(import_graph(root)) == [["pkg.a", "pkg.b"]]


def test_importing_a_submodule_imports_its_packages(tmp_path: Path) -> None:
    # top imports pkg.sub.leaf, which runs pkg/sub/__init__.py first, which imports top.
    root = make_package(
        tmp_path,
        {
            "__init__.py": "",
            "top.py": "import pkg.sub.leaf\n",
            "sub/__init__.py": "from pkg import top\n",
            "sub/leaf.py": "from .. import top\n",
        },
    )
    graph = import_graph(root)
    assert graph["pkg.top"] == {"pkg.sub", "pkg.sub.leaf"}  # pkg, its own package, is not
    assert graph["pkg.sub.leaf"] == {"pkg", "pkg.top"}  # `..` names pkg explicitly
    assert import_cycles(graph) == [["pkg.sub", "pkg.sub.leaf", "pkg.top"]]


def test_a_package_importing_its_own_submodules_is_no_circle(tmp_path: Path) -> None:
    root = make_package(
        tmp_path,
        {
            "__init__.py": "from pkg.sub.x import f\n",
            "sub/__init__.py": "from .x import f\n",
            "sub/x.py": "from pkg.sub.y import g\n\ndef f():\n    return g\n",
            "sub/y.py": "import os\n\ndef g():\n    import json\n",
        },
    )
    graph = import_graph(root)
    assert graph["pkg.sub.x"] == {"pkg.sub.y"}  # its own pkg and pkg.sub do not count
    assert graph["pkg.sub.y"] == frozenset()  # nothing outside the package counts
    assert cycle_problem(root) is None


def test_from_import_counts_its_module_and_each_name_that_is_a_module(tmp_path: Path) -> None:
    root = make_package(
        tmp_path, {"a.py": "from pkg.b import helper, c\n", "b/__init__.py": "", "b/c.py": ""}
    )
    assert import_graph(root)["pkg.a"] == {"pkg.b", "pkg.b.c"}


def test_functions_over_50_lines_are_listed_with_their_lengths(tmp_path: Path) -> None:
    method = textwrap.indent(function_of(52, "method"), "    ")
    nested = function_of(60, "outer") + textwrap.indent(function_of(51, "inner"), "    ")
    root = make_package(
        tmp_path,
        {
            "a.py": function_of(51, "long") + function_of(50, "exactly_50"),
            "sub/b.py": "class C:\n" + method + nested,
        },
    )
    # outer (line 54) has 60 lines of its own, then inner nested in it (line 114).
    assert long_functions(root, 50) == [
        LongFunction("pkg/sub/b.py:54 outer", 111),
        LongFunction("pkg/sub/b.py:2 method", 52),
        LongFunction("pkg/a.py:1 long", 51),
        LongFunction("pkg/sub/b.py:114 inner", 51),
    ]
    assert long_function_problem(root, limit=4) is None
    problem = long_function_problem(root, limit=3)
    assert problem is not None and problem.startswith("4 functions over 50 lines, over 3:")
    assert "  51 lines: pkg/a.py:1 long" in problem and "exactly_50" not in problem
