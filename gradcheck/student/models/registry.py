"""The registry of model classes by name. The course modules register their declarations
when the registry is loaded (``load``); an assignment names a class and narrows its options
(``model_check``)."""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Mapping
from typing import Any

from gradcheck.errors import UnknownNameError
from gradcheck.student.models.check import ModelCheck
from gradcheck.student.models.declaration import ModelDeclaration

__all__ = ["MODELS", "get_model", "load", "model_check", "register_model"]

MODELS: dict[str, ModelDeclaration] = {}
# The modules that register declarations, one per course.
COURSES = ("cs231n",)
_loaded = False


def register_model(declaration: ModelDeclaration) -> ModelDeclaration:
    if declaration.name in MODELS:
        raise ValueError(f"model class {declaration.name!r} is already registered")
    MODELS[declaration.name] = declaration
    return declaration


def load() -> dict[str, ModelDeclaration]:
    """Import every course module once, so that the registry is complete."""
    global _loaded
    if not _loaded:
        _loaded = True
        for course in COURSES:
            importlib.import_module(f"gradcheck.student.models.{course}")
    return MODELS


def get_model(name: str) -> ModelDeclaration:
    models = load()
    try:
        return models[name]
    except KeyError:
        close = difflib.get_close_matches(name, models, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        known = ", ".join(sorted(models))
        raise UnknownNameError(f"unknown model class {name!r}{hint} (known: {known})") from None


def model_check(name: str, options: Mapping[str, Any] | None = None) -> ModelCheck:
    """The check of model class ``name`` with its options narrowed by ``options`` (as an
    assignment's TOML gives them: ``normalization = ["none", "batchnorm"]``, ``keep_ratio``,
    ``reg``, ``hidden_layers = [1, 2]``); GradcheckError for an option it does not have."""
    chosen = dict(options or {})
    if "normalization" in chosen:
        chosen["normalization"] = [
            None if v in (None, "none") else v for v in chosen["normalization"]
        ]
    return ModelCheck(get_model(name), **chosen)
