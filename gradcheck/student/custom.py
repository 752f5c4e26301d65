"""Instructors' own assignments: a small TOML or Python spec on top of a built-in convention.

TOML (``hw3.toml``)::

    name = "hw3"
    convention = "deep-mlp"        # two-layer, deep-mlp, coursera, nielsen or layers
    entry_point = "train_step"     # two-layer and deep-mlp: the function's name
    activations = ["tanh"]         # two-layer and deep-mlp: the hidden activations drawn
    losses = ["mse"]               # deep-mlp: the losses drawn (mse, bce)
    min_depth = 2                  # deep-mlp, coursera, nielsen
    max_depth = 3
    forbidden = ["torch", "jax"]   # modules the submission may not import

    # coursera only: the course's names, and its one sigmoid output unit by default
    forward = "L_model_forward"
    backward = "L_model_backward"
    output_width = 1
    output_activations = ["sigmoid"]

A spec without ``convention`` that lists ``[[function]]`` or ``[[class]]`` tables declares
its graded functions one by one, with points (``declaration``).

A Python spec is a file that assigns the same keys to a dict literal named ``ASSIGNMENT``;
it is read with ``ast.literal_eval`` and never executed.
"""

from __future__ import annotations

import ast
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

from hypothesis.errors import InvalidArgument

from gradcheck.errors import GradcheckError
from gradcheck.student.assignment import get_assignment
from gradcheck.student.contract import Assignment, Check
from gradcheck.student.declaration import declared_assignment
from gradcheck.student.networks import CourseraCheck, DeepMLPCheck, TwoLayerCheck

__all__ = ["load_assignment", "names_a_spec", "resolve_assignment"]

_KEYS = {
    "name",
    "title",
    "convention",
    "entry_point",
    "activations",
    "losses",
    "min_depth",
    "max_depth",
    "forbidden",
    "forward",
    "backward",
    "output_width",
    "output_activations",
}


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except OSError as error:
        raise GradcheckError(
            f"cannot read assignment spec {path}: {error.strerror or error}"
        ) from None
    if path.suffix == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise GradcheckError(f"assignment spec {path}: {error}") from None
    if path.suffix == ".py":
        try:
            tree = ast.parse(text, filename=str(path))
        except SyntaxError as error:
            raise GradcheckError(
                f"assignment spec {path}: line {error.lineno}: {error.msg}"
            ) from None
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                getattr(t, "id", None) == "ASSIGNMENT" for t in node.targets
            ):
                try:
                    value = ast.literal_eval(node.value)
                except ValueError:
                    raise GradcheckError(
                        f"assignment spec {path}: ASSIGNMENT must be a dict literal"
                    ) from None
                if isinstance(value, dict):
                    return value
        raise GradcheckError(f"assignment spec {path}: no ASSIGNMENT = {{...}} dict found")
    raise GradcheckError(f"assignment spec {path} must be a .toml or .py file")


def load_assignment(path: Path) -> Assignment:
    """The assignment a spec file describes. Raises GradcheckError naming any bad key."""
    spec = _read(path)
    if "convention" not in spec and ({"function", "class"} & set(spec)):
        return declared_assignment(spec, path.name)
    unknown = sorted(set(spec) - _KEYS)
    if unknown:
        raise GradcheckError(
            f"assignment spec {path}: unknown key {unknown[0]!r} "
            f"(known: {', '.join(sorted(_KEYS))})"
        )
    if "convention" not in spec:
        raise GradcheckError(f"assignment spec {path}: 'convention' is required")
    base = get_assignment(str(spec["convention"]))
    narrow: dict[str, Any] = {}
    for key in ("activations", "losses", "min_depth", "max_depth"):
        if key in spec:
            narrow[key] = spec[key]
    checks: tuple[Check, ...] = base.checks
    if base.name in ("two-layer", "deep-mlp"):
        cls = TwoLayerCheck if base.name == "two-layer" else DeepMLPCheck
        if base.name == "two-layer" and ({"losses", "min_depth", "max_depth"} & set(narrow)):
            raise GradcheckError(f"assignment spec {path}: two-layer fixes the depth and the loss")
        if "losses" in narrow:
            narrow["losses"] = list(narrow["losses"])
            allowed = {"mse", "bce"}
            if not set(narrow["losses"]) <= allowed:
                raise GradcheckError(
                    f"assignment spec {path}: losses must be among {sorted(allowed)}"
                )
        try:
            checks = (_narrowed(cls, spec.get("entry_point"), narrow),)
        except GradcheckError as error:
            raise GradcheckError(f"assignment spec {path}: {error}") from None
    elif base.name == "coursera":
        checks = (_coursera(spec, narrow, path),)
    elif "entry_point" in spec or narrow.keys() - {"min_depth", "max_depth"}:
        raise GradcheckError(
            f"assignment spec {path}: convention {base.name} takes only min_depth, max_depth "
            "and forbidden"
        )
    elif narrow:
        checks = tuple(_with_depth(c, narrow) for c in checks)
    return replace(
        base,
        name=str(spec.get("name", path.stem)),
        title=str(spec.get("title", f"{base.title} (custom: {path.name})")),
        checks=checks,
        forbidden=tuple(spec.get("forbidden", base.forbidden)),
    )


def _coursera(spec: dict[str, Any], narrow: dict[str, Any], path: Path) -> Check:
    """The course's network with its names, output width and output activations."""
    extra = set(narrow) - {"min_depth", "max_depth"}
    if "entry_point" in spec or extra:
        raise GradcheckError(
            f"assignment spec {path}: convention coursera takes forward, backward, "
            "output_width, output_activations, min_depth, max_depth and forbidden"
        )
    options: dict[str, Any] = {}
    for key in ("forward", "backward"):
        if key in spec:
            if not (isinstance(spec[key], str) and spec[key].isidentifier()):
                raise GradcheckError(f"assignment spec {path}: {key} {spec[key]!r} is not a name")
            options[key] = spec[key]
    if "output_width" in spec:
        options["output_width"] = spec["output_width"]
    if "output_activations" in spec:
        options["output_activations"] = list(spec["output_activations"])
    check = CourseraCheck(**options)
    if narrow:
        check.bounds = tuple({**b, **narrow} for b in check.bounds)
    try:
        _validate(check)
    except GradcheckError as error:
        raise GradcheckError(f"assignment spec {path}: {error}") from None
    return check


def _narrowed(
    cls: type[TwoLayerCheck] | type[DeepMLPCheck], entry: Any, narrow: dict[str, Any]
) -> Check:
    if entry is not None and not (isinstance(entry, str) and entry.isidentifier()):
        raise GradcheckError(f"entry_point {entry!r} is not a Python name")
    check = cls(entry, **narrow)
    _validate(check)
    return check


def _validate(check: Check) -> None:
    """Build the check's strategy now, so that bad names or bounds fail here, not mid-search."""
    try:
        check.cases().validate()
    except InvalidArgument as error:
        raise GradcheckError(str(error)) from None


def _with_depth(check: Check, narrow: dict[str, Any]) -> Check:
    bounds = getattr(check, "bounds", None)
    if bounds is None:
        raise GradcheckError("min_depth and max_depth apply only to network conventions")
    clone = type(check)()
    clone.bounds = tuple({**b, **narrow} for b in bounds)  # type: ignore[attr-defined]
    _validate(clone)
    return clone


def names_a_spec(text: str) -> bool:
    """Whether ``--assignment text`` names a spec file rather than a built-in assignment."""
    return text.endswith((".toml", ".py")) or Path(text).is_file()


def resolve_assignment(text: str) -> Assignment:
    """A built-in assignment by name, or a custom one from a .toml/.py spec path."""
    if names_a_spec(text):
        return load_assignment(Path(text))
    return get_assignment(text)
