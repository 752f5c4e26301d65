"""The registry of model classes by name. The course modules register their declarations
when the registry is loaded (``load``); an assignment names a class and narrows its options
(``model_check``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gradcheck.registry import Table
from gradcheck.student.models.check import ModelCheck
from gradcheck.student.models.declaration import ModelDeclaration

__all__ = ["MODELS", "get_model", "load", "model_check", "register_model"]

# The modules that register declarations, one per course.
COURSES = ("cs231n",)
MODELS: Table[ModelDeclaration] = Table(
    "model class", tuple(f"gradcheck.student.models.{c}" for c in COURSES)
)


def register_model(declaration: ModelDeclaration) -> ModelDeclaration:
    return MODELS.register(declaration.name, declaration)


def load() -> Table[ModelDeclaration]:
    """Import every course module once, so that the registry is complete."""
    return MODELS.load()


def get_model(name: str) -> ModelDeclaration:
    return MODELS.lookup(name)


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
