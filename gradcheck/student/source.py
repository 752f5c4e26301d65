"""Static checks of a submission's source, before any of it runs.

- It must parse as Python 3; a file that looks like Python 2 (print statements, ``xrange``,
  ``raw_input``) is called so.
- Imports of forbidden modules are found anywhere in the file, including ``__import__("x")``
  and ``importlib.import_module("x")`` with a literal name.
- Only imports, function and class definitions and constant assignments (lambdas included)
  of the top level are kept for loading; demo calls, training loops, plots and data loading
  at import time are skipped, and the report says which lines were.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from gradcheck.student.labels import Label

__all__ = ["DEFAULT_FORBIDDEN", "Finding", "SourceReport", "analyse_source"]

DEFAULT_FORBIDDEN = (
    "autograd",
    "gradcheck",
    "jax",
    "jaxlib",
    "reference_impls",
    "tensorflow",
    "torch",
)
_PY2_NAMES = ("xrange", "raw_input", "unichr", "basestring", "execfile")
_PY2_PATTERNS = (
    (re.compile(r"^\s*print\s+[^\s(=]", re.M), "a print statement"),
    (re.compile(r"^\s*except\s+[\w.]+\s*,\s*\w+\s*:", re.M), "`except E, e:`"),
    (re.compile(r"^\s*exec\s+['\"]", re.M), "an exec statement"),
    (re.compile(r"<>"), "the `<>` operator"),
)


@dataclass(frozen=True)
class Finding:
    label: Label
    message: str


@dataclass(frozen=True)
class SourceReport:
    """What the static checks found: problems, the top-level statements kept for loading
    (indices into the module body), the lines skipped, and the names defined (``functions``:
    those that are top-level ``def`` or ``class`` statements kept for loading)."""

    path: Path
    findings: tuple[Finding, ...]
    keep: tuple[int, ...] = ()
    skipped: tuple[str, ...] = ()
    defined: frozenset[str] = field(default_factory=frozenset)
    functions: frozenset[str] = field(default_factory=frozenset)

    @property
    def ok(self) -> bool:
        return not self.findings

    def missing(self, names: Iterable[str]) -> list[Finding]:
        """A missing_entry_point finding for each of ``names`` the file does not define."""
        found = []
        for name in names:
            if name not in self.defined:
                close = difflib.get_close_matches(name, sorted(self.defined), n=1)
                hint = f"; did you mean to name {close[0]!r} {name!r}?" if close else ""
                found.append(
                    Finding(
                        Label.MISSING_ENTRY_POINT,
                        f"{name} is not defined in {self.path.name}{hint}",
                    )
                )
        return found


def _python2(text: str, error: SyntaxError | None) -> str | None:
    if error is not None and "Missing parentheses in call to 'print'" in str(error.msg):
        return "a print statement"
    for pattern, what in _PY2_PATTERNS:
        if error is not None and pattern.search(text):
            return what
    return None


def _forbidden_imports(tree: ast.Module, forbidden: frozenset[str]) -> list[Finding]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt | ast.expr):
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module]
        elif isinstance(node, ast.Call) and node.args:
            callee = node.func
            called = callee.attr if isinstance(callee, ast.Attribute) else getattr(callee, "id", "")
            first = node.args[0]
            if called in ("__import__", "import_module") and isinstance(first, ast.Constant):
                names = [str(first.value)]
        for name in names:
            if name.partition(".")[0] in forbidden:
                found.append(
                    Finding(
                        Label.FORBIDDEN_IMPORT,
                        f"line {node.lineno}: imports {name}, which this assignment forbids "
                        f"({', '.join(sorted(forbidden))})",
                    )
                )
    return found


def _constant(node: ast.AST) -> bool:
    """An expression that runs no code of the submission's when evaluated: literals, names,
    attributes, containers and operators of those, and lambdas."""
    if isinstance(node, ast.Lambda):
        return True
    if isinstance(node, ast.Call | ast.Await | ast.Yield | ast.YieldFrom | ast.NamedExpr):
        return False
    if isinstance(node, ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp):
        return False
    return all(_constant(child) for child in ast.iter_child_nodes(node))


def _kept(node: ast.stmt) -> bool:
    if isinstance(node, ast.Import | ast.ImportFrom | ast.FunctionDef | ast.AsyncFunctionDef):
        return True
    if isinstance(node, ast.ClassDef):
        return True
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return True  # a docstring
    if isinstance(node, ast.Assign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        simple = all(isinstance(t, ast.Name | ast.Tuple) for t in targets)
        return simple and node.value is not None and _constant(node.value)
    if isinstance(node, ast.Try):
        return all(_kept(s) for s in node.body) and all(
            all(_kept(s) or isinstance(s, ast.Pass) for s in handler.body)
            for handler in node.handlers
        )
    return False


def _defined(body: list[ast.stmt]) -> set[str]:
    names: set[str] = set()
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).partition(".")[0] for a in node.names)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.Try):
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                    names.add(sub.id)
    return names


def _describe(node: ast.stmt) -> str:
    kind = {
        ast.Expr: "a call"
        if isinstance(getattr(node, "value", None), ast.Call)
        else "an expression",
        ast.For: "a loop",
        ast.While: "a loop",
        ast.If: "an if block",
        ast.With: "a with block",
    }.get(type(node), "a statement")
    end = node.end_lineno or node.lineno
    lines = f"line {node.lineno}" if end == node.lineno else f"lines {node.lineno}-{end}"
    return f"{lines} ({kind})"


def analyse_source(path: Path, forbidden: Iterable[str] = DEFAULT_FORBIDDEN) -> SourceReport:
    """Parse ``path`` and run the static checks. Raises OSError if it cannot be read."""
    raw = path.read_bytes()
    text = raw.decode("utf-8", errors="replace")
    try:
        tree = ast.parse(raw, filename=str(path))
    except (SyntaxError, ValueError) as error:
        syntax = error if isinstance(error, SyntaxError) else None
        where = f"line {syntax.lineno}: " if syntax is not None and syntax.lineno else ""
        message = f"{where}{syntax.msg if syntax is not None else error}"
        py2 = _python2(text, syntax)
        if py2:
            message += f". The file looks like Python 2 ({py2}); it is graded as Python 3"
        return SourceReport(path, (Finding(Label.SYNTAX_ERROR, message),))
    findings = _forbidden_imports(tree, frozenset(forbidden))
    keep = [i for i, node in enumerate(tree.body) if _kept(node)]
    body = [tree.body[i] for i in keep]
    defined = _defined(body)
    bound = defined | {
        n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in _PY2_NAMES and node.id not in bound:
            findings.insert(
                0,
                Finding(
                    Label.SYNTAX_ERROR,
                    f"line {node.lineno}: {node.id} does not exist in Python 3. The file looks "
                    "like Python 2; it is graded as Python 3",
                ),
            )
            break
    skipped = tuple(_describe(node) for i, node in enumerate(tree.body) if i not in set(keep))
    functions = frozenset(
        node.name
        for node in body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    )
    return SourceReport(path, tuple(findings), tuple(keep), skipped, frozenset(defined), functions)
