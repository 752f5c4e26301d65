"""Static checks of a submission's source, before any of it runs.

- It must parse as Python 3; a file that looks like Python 2 (print statements, ``xrange``,
  ``raw_input``) is called so.
- Imports of forbidden modules are found anywhere in the file, including ``__import__("x")``
  and ``importlib.import_module("x")`` with a literal name.
- Only imports, function and class definitions and constant assignments (lambdas included)
  of the top level are kept for loading; demo calls, training loops, plots and data loading
  at import time are skipped, and the report says which lines were.

``analyse_text`` works on a module's text (a ``.py`` file, a notebook's code cells, a helper
of a folder), naming places as ``loader.location`` does (``cell 4, line 2``);
``analyse_submission`` runs it on every module of a loaded submission; ``analyse_source``
reads one file and is kept for the callers that have a path.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from gradcheck.student.labels import Label
from gradcheck.student.loader import (
    SourceFile,
    Submission,
    location,
    read_python,
    span,
    star_imports,
)

__all__ = [
    "DEFAULT_FORBIDDEN",
    "Finding",
    "SourceReport",
    "analyse_source",
    "analyse_submission",
    "analyse_text",
]

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


def _forbidden_imports(
    tree: ast.Module, forbidden: frozenset[str], where: Callable[[int], str]
) -> list[Finding]:
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
                        f"{where(node.lineno)}: imports {name}, which this assignment forbids "
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


def _describe(node: ast.stmt, spans: Callable[[int, int], str]) -> str:
    kind = {
        ast.Expr: "a call"
        if isinstance(getattr(node, "value", None), ast.Call)
        else "an expression",
        ast.For: "a loop",
        ast.While: "a loop",
        ast.If: "an if block",
        ast.With: "a with block",
    }.get(type(node), "a statement")
    return f"{spans(node.lineno, node.end_lineno or node.lineno)} ({kind})"


def analyse_source(path: Path, forbidden: Iterable[str] = DEFAULT_FORBIDDEN) -> SourceReport:
    """Parse the .py file at ``path`` and run the static checks. Raises OSError if it cannot
    be read."""
    return analyse_text(SourceFile(path.stem, path.name, read_python(path)), forbidden, path=path)


def _syntax_report(
    path: Path, text: str, error: Exception, where: Callable[[int], str]
) -> SourceReport:
    syntax = error if isinstance(error, SyntaxError) else None
    place = f"{where(syntax.lineno)}: " if syntax is not None and syntax.lineno else ""
    message = f"{place}{syntax.msg if syntax is not None else error}"
    py2 = _python2(text, syntax)
    if py2:
        message += f". The file looks like Python 2 ({py2}); it is graded as Python 3"
    return SourceReport(path, (Finding(Label.SYNTAX_ERROR, message),))


def analyse_text(
    source: SourceFile,
    forbidden: Iterable[str] = DEFAULT_FORBIDDEN,
    *,
    path: Path | None = None,
    main: bool = True,
) -> SourceReport:
    """Run the static checks on ``source``. Places are named by ``loader.location``: a
    helper's (``main=False``) carry its file name. ``path`` is what the report names
    (default: the source's display name)."""
    path = Path(source.display) if path is None else path
    text = source.text

    def where(line: int) -> str:
        return location(source, line, main=main)

    try:
        tree = ast.parse(text, filename=str(path))
    except (SyntaxError, ValueError) as error:
        return _syntax_report(path, text, error, where)
    findings = _forbidden_imports(tree, frozenset(forbidden), where)
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
                    f"{where(node.lineno)}: {node.id} does not exist in Python 3. The file "
                    "looks like Python 2; it is graded as Python 3",
                ),
            )
            break

    def spans(first: int, last: int) -> str:
        return span(source, first, last, main=main)

    skipped = tuple(
        _describe(node, spans) for i, node in enumerate(tree.body) if i not in set(keep)
    )
    functions = frozenset(
        node.name
        for node in body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    )
    return SourceReport(path, tuple(findings), tuple(keep), skipped, frozenset(defined), functions)


def analyse_submission(
    submission: Submission, forbidden: Iterable[str] = DEFAULT_FORBIDDEN
) -> tuple[SourceReport, dict[str, tuple[int, ...]]]:
    """The report of the graded module, with its helpers' findings and skipped lines added
    (named by file), and the statements to keep of every module, by module name."""
    forbidden = tuple(forbidden)
    report = analyse_text(submission.main, forbidden, path=Path(submission.main.display))
    keeps = {submission.module: report.keep}
    findings, skipped = list(report.findings), list(report.skipped)
    defined = {submission.module: set(report.defined)}
    for helper in submission.helpers:
        own = analyse_text(helper, forbidden, main=False)
        keeps[helper.name] = own.keep
        defined[helper.name] = set(own.defined)
        findings += [
            f
            if f.message.startswith(helper.display)
            else replace(f, message=f"{helper.display}: {f.message}")
            for f in own.findings
        ]
        skipped += own.skipped
    names = _through_stars(submission, defined)
    report = replace(report, findings=tuple(findings), skipped=tuple(skipped), defined=names)
    return report, keeps


def _through_stars(submission: Submission, defined: dict[str, set[str]]) -> frozenset[str]:
    """The graded module's names, with the public names of the helpers it imports ``*``
    from (and those they import ``*`` from) added."""
    stars = {m.name: star_imports(m) for m in submission.modules}
    for _ in submission.modules:  # enough rounds for the longest chain of star imports
        for name, sources in stars.items():
            for source in sources:
                defined[name] |= {n for n in defined.get(source, ()) if not n.startswith("_")}
    return frozenset(defined[submission.module])
