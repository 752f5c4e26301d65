"""Assignments by declaration: a TOML table per graded function or class, no Python.

::

    name = "hw4"
    title = "Normalisation layers"
    forbidden = ["torch", "jax"]          # optional; the default forbids the frameworks

    [[function]]                          # a function of the layer catalogue
    use = "batchnorm"
    points = 3                            # > 0; the default is 1
    feedback = "full"                     # full, diagnosis (no values) or hidden
    visibility = "visible"                # Gradescope's: visible, hidden, after_due_date,
                                          # after_published
    forward = "bn_forward"                # optional: the names the course uses
    backward = "bn_backward"
    optional = false                      # true: graded only when the file defines it
    group = "layers.py"                   # the course file it lives in: a group is graded
                                          # when the submission defines any of its functions

    [[function]]                          # a function the catalogue does not have
    name = "scale_shift"
    forward = "scale_shift_forward"
    backward = "scale_shift_backward"     # or `backward = false`: the forward returns
                                          # (loss, grads…) itself
    cache = true                          # the forward returns (out, cache), the
                                          # backward takes (dout, cache); false: the
                                          # backward takes (dout, *the forward's arguments)
    sizes = { N = [1, 4], D = [1, 5] }    # closed ranges of the named sizes
    inputs = [
      { name = "x", shape = ["N", "D"] },
      { name = "gamma", shape = ["D"], domain = "positive" },
      { name = "y", shape = ["N"], domain = "labels", high = "D" },
    ]
    configs = [ { name = "sp_param", values = [ { eps = 1e-5 } ] } ]   # one per case
    outputs = [ { name = "out", shape = ["N", "D"] } ]
    grads = ["dx", "dgamma"]              # what the backward returns, in order

    [[class]]                             # a model class (see ``models``)
    use = "FullyConnectedNet"
    points = 5

Input domains are real, positive, distinct, labels, index and mask (``spec.Domain``). A
declared function has no reference: its gradients are checked, on every input drawn,
against finite differences of the submission's own forward. Every key is checked when the
file is read, and a mistake is reported with the table it is in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, get_args

from gradcheck.errors import GradcheckError, SpecError, UnknownNameError
from gradcheck.student.catalogue.check import FunctionCheck
from gradcheck.student.catalogue.registry import get_function
from gradcheck.student.catalogue.spec import (
    Config,
    Domain,
    Input,
    LayerFunction,
    Output,
    one_of,
)
from gradcheck.student.catalogue.spec import (
    ranges as spec_ranges,  # `ranges` names the parsed sizes below
)
from gradcheck.student.contract import Assignment, Check, graded
from gradcheck.student.models.registry import model_check
from gradcheck.student.source import DEFAULT_FORBIDDEN

__all__ = ["ASSIGNMENT_KEYS", "FUNCTION_KEYS", "declared_assignment"]

ASSIGNMENT_KEYS = {"name", "title", "forbidden", "function", "class", "contract"}
_GRADING_KEYS = {"points", "optional", "group", "feedback", "visibility", "examples"}
FUNCTION_KEYS = {
    "use", "name", "forward", "backward", "cache", "sizes", "inputs", "configs", "outputs",
    "grads", *_GRADING_KEYS,
}  # fmt: skip
_CLASS_KEYS = {"use", "name", *_GRADING_KEYS, "options"}
_INPUT_KEYS = {"name", "shape", "domain", "bound", "high"}
_DOMAINS: tuple[str, ...] = get_args(Domain)
_MAX_SIZE = 64


class _Where:
    """Names the table an error is in: ``hw4.toml: function 2 (batchnorm): …``."""

    def __init__(self, source: str, what: str) -> None:
        self.source, self.what = source, what

    def error(self, message: str) -> GradcheckError:
        return GradcheckError(f"assignment spec {self.source}: {self.what}: {message}")


def _keys(table: Any, allowed: set[str], where: _Where) -> Mapping[str, Any]:
    if not isinstance(table, dict):
        raise where.error(f"expected a table, got {type(table).__name__}")
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise where.error(f"unknown key {unknown[0]!r} (known: {', '.join(sorted(allowed))})")
    return table


def _name(value: Any, key: str, where: _Where) -> str:
    if not isinstance(value, str) or not value.isidentifier():
        raise where.error(f"{key} must be a Python name, got {value!r}")
    return value


def _shape(value: Any, sizes: Mapping[str, Any], where: _Where) -> tuple[str | int, ...]:
    if not isinstance(value, list):
        raise where.error(f"shape must be a list of size names or integers, got {value!r}")
    for dim in value:
        if isinstance(dim, str) and dim not in sizes:
            raise where.error(f"shape names size {dim!r}, which `sizes` does not define")
        if not isinstance(dim, str) and (isinstance(dim, bool) or not isinstance(dim, int)):
            raise where.error(f"shape entries must be size names or integers, got {dim!r}")
    return tuple(value)


def _sizes(value: Any, where: _Where) -> dict[str, tuple[int, int]]:
    if not isinstance(value, dict) or not value:
        raise where.error("sizes must be a table such as { N = [1, 4], D = [1, 5] }")
    ranges = {}
    for name, bounds in value.items():
        ok = isinstance(bounds, list) and len(bounds) == 2
        if not ok or not all(isinstance(b, int) and not isinstance(b, bool) for b in bounds):
            raise where.error(f"size {name} must be [low, high] integers, got {bounds!r}")
        low, high = bounds
        if not 1 <= low <= high <= _MAX_SIZE:
            raise where.error(f"size {name} must satisfy 1 <= low <= high <= {_MAX_SIZE}")
        ranges[name] = (low, high)
    return ranges


def _input(table: Any, sizes: Mapping[str, Any], where: _Where) -> Input:
    spec = _keys(table, _INPUT_KEYS, where)
    name = _name(spec.get("name"), "an input's name", where)
    domain = spec.get("domain", "real")
    if domain not in _DOMAINS:
        raise where.error(f"input {name}: domain {domain!r} is not one of {', '.join(_DOMAINS)}")
    high = spec.get("high")
    if domain in ("labels", "index") and high not in sizes:
        raise where.error(f"input {name}: domain {domain} needs `high`, the name of a size")
    bound = spec.get("bound", 3.0)
    if isinstance(bound, bool) or not isinstance(bound, int | float) or not 0 < bound <= 1e6:
        raise where.error(f"input {name}: bound must be a positive number, got {bound!r}")
    shape = _shape(spec.get("shape"), sizes, where)
    return Input(name, shape, domain, float(bound), high)


def _config(table: Any, where: _Where) -> Config:
    spec = _keys(table, {"name", "values", "value"}, where)
    name = _name(spec.get("name"), "a config's name", where)
    if ("values" in spec) == ("value" in spec):
        raise where.error(f"config {name}: give exactly one of `value` and `values`")
    values = spec["values"] if "values" in spec else [spec["value"]]
    if not isinstance(values, list) or not values:
        raise where.error(f"config {name}: values must be a non-empty list")
    return Config(name, one_of(values))


def _declared(spec: Mapping[str, Any], where: _Where) -> LayerFunction:
    for key in ("name", "forward", "sizes", "inputs", "outputs", "grads"):
        if key not in spec:
            raise where.error(f"a function without `use` must declare {key!r}")
    ranges = _sizes(spec["sizes"], where)
    inputs = tuple(_input(t, ranges, where) for t in _list(spec, "inputs", where))
    configs = tuple(_config(t, where) for t in _list(spec, "configs", where, required=False))
    outputs = tuple(
        Output(
            _name(t.get("name"), "an output's name", where), _shape(t.get("shape"), ranges, where)
        )
        for t in (_keys(o, {"name", "shape"}, where) for o in _list(spec, "outputs", where))
    )
    names = [i.name for i in inputs] + [c.name for c in configs]
    if len(set(names)) != len(names):
        raise where.error("two inputs or configs share a name")
    differentiable = {f"d{i.name}" for i in inputs if i.differentiable}
    grads = tuple(_list(spec, "grads", where))
    for grad in grads:
        if grad not in differentiable:
            raise where.error(
                f"grads lists {grad!r}; each must be 'd' + the name of a real-valued input "
                f"({', '.join(sorted(differentiable)) or 'none'})"
            )
    backward = spec.get("backward")
    if backward is False and len(outputs) != 1:
        raise where.error("a function with `backward = false` returns one loss")
    return LayerFunction(
        name=_name(spec["name"], "name", where),
        family="declared",
        forward=_name(spec["forward"], "forward", where),
        backward=None if backward is False else _name(backward, "backward", where),
        inputs=inputs,
        outputs=outputs,
        grads=grads,
        sizes=spec_ranges(**ranges),
        configs=configs,
        cache=bool(spec.get("cache", True)),
        description="declared in the assignment",
    )


def _list(spec: Mapping[str, Any], key: str, where: _Where, *, required: bool = True) -> list[Any]:
    value = spec.get(key, None if required else [])
    if not isinstance(value, list) or (required and not value):
        raise where.error(f"{key} must be a non-empty list")
    return value


def _function(table: Any, where: _Where) -> Check:
    spec = _keys(table, FUNCTION_KEYS, where)
    if "use" in spec:
        declared_only = sorted(
            set(spec) & (FUNCTION_KEYS - _GRADING_KEYS - {"use", "forward", "backward", "name"})
        )
        if declared_only:
            raise where.error(f"{declared_only[0]!r} applies only to a function without `use`")
        try:
            function = get_function(str(spec["use"]))
        except UnknownNameError as error:
            raise where.error(str(error)) from None
        renames: dict[str, Any] = {
            k: _name(spec[k], k, where) for k in ("name", "forward", "backward") if k in spec
        }
        if "backward" in renames and function.backward is None:
            raise where.error(f"{function.name} has no backward to rename")
        function = replace(function, **renames)
    else:
        function = _declared(spec, where)
    if "examples" in spec:
        function = replace(function, examples=_count(spec["examples"], "examples", where))
    return _graded(FunctionCheck(function), spec, where)


def _count(value: Any, key: str, where: _Where) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10_000:
        raise where.error(f"{key} must be an integer from 1 to 10000, got {value!r}")
    return value


def _graded(check: Check, spec: Mapping[str, Any], where: _Where) -> Check:
    """The check with its points, feedback level, Gradescope visibility, group and whether
    it is optional."""
    try:
        check = graded(
            check,
            points=spec.get("points", 1.0),
            feedback=spec.get("feedback"),
            visibility=spec.get("visibility"),
        )
    except SpecError as error:
        raise where.error(str(error)) from None
    check.optional = bool(spec.get("optional", False))
    if "group" in spec:
        check.group = str(spec["group"])
    return check


def _class(table: Any, where: _Where) -> Check:
    spec = _keys(table, _CLASS_KEYS, where)

    try:
        check = model_check(str(spec.get("use", "")), spec.get("options", {}))
    except (GradcheckError, UnknownNameError, ValueError, TypeError) as error:
        raise where.error(str(error)) from None
    return _graded(check, spec, where)


def declared_assignment(spec: Mapping[str, Any], source: str) -> Assignment:
    """The assignment a parsed TOML document declares. Raises GradcheckError naming the
    table and the key of any mistake."""
    top = _keys(spec, ASSIGNMENT_KEYS, _Where(source, "the top level"))
    functions = top.get("function", [])
    classes = top.get("class", [])
    if not isinstance(functions, list) or not isinstance(classes, list):
        raise _Where(source, "the top level").error("use [[function]] and [[class]] tables")
    checks = [
        _function(t, _Where(source, f"function {i} ({_label(t)})"))
        for i, t in enumerate(functions, 1)
    ]
    checks += [
        _class(t, _Where(source, f"class {i} ({_label(t)})")) for i, t in enumerate(classes, 1)
    ]
    if not checks:
        raise _Where(source, "the top level").error("no [[function]] or [[class]] to grade")
    names = [c.name for c in checks]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise _Where(source, "the top level").error(
            f"{twice[0]!r} is graded twice; give one of them another `name`"
        )
    forbidden = top.get("forbidden", list(DEFAULT_FORBIDDEN))
    if not isinstance(forbidden, list) or not all(isinstance(f, str) for f in forbidden):
        raise _Where(source, "the top level").error("forbidden must be a list of module names")
    name = str(top.get("name", source))
    contract = str(top.get("contract", "")) or _contract(checks)
    return Assignment(
        name, str(top.get("title", name)), contract, tuple(checks), tuple(forbidden), partial=True
    )


def _label(table: Any) -> str:
    if isinstance(table, dict):
        return str(table.get("name") or table.get("use") or "unnamed")
    return "not a table"


def _contract(checks: list[Check]) -> str:
    """One line per graded check: its points, its course file, and its contract."""
    lines = []
    for check in checks:
        # a layer function's declaration, or a model class's
        owner = getattr(check, "function", None) or getattr(check, "declaration", None)
        description = str(getattr(owner, "description", ""))
        where = [f"{check.points:g} point" + ("" if check.points == 1 else "s")]
        where += [check.group] if check.group else []
        where += ["optional"] if check.optional else []
        head = f"{check.name} ({', '.join(where)})"
        lines.append(f"{head}: {description}" if description else head)
    return "\n".join(lines)
