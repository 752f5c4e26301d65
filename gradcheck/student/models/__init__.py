"""Model classes in the CS231n style (``TwoLayerNet``, ``FullyConnectedNet``,
``ThreeLayerConvNet``): declarations of what a class's ``loss(X, y)`` computes, a reference
model built from the layer catalogue's references, and the check that grades a class
against it and against finite differences of the submission's own loss.

``MODELS`` maps a class name to its :class:`ModelDeclaration`; ``model_check(name,
options)`` is the check an assignment lists.
"""

from __future__ import annotations

from gradcheck.student.models.check import ModelCase, ModelCheck
from gradcheck.student.models.declaration import (
    Architecture,
    Layer,
    ModelDeclaration,
    ModelOptions,
)
from gradcheck.student.models.registry import MODELS, get_model, model_check, register_model

__all__ = [
    "MODELS",
    "Architecture",
    "Layer",
    "ModelCase",
    "ModelCheck",
    "ModelDeclaration",
    "ModelOptions",
    "get_model",
    "model_check",
    "register_model",
]
