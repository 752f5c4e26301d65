"""The registry of layer functions by name. The family modules register their entries when
the catalogue is loaded (``load``), and a new entry gets the catalogue's tests by being here."""

from __future__ import annotations

from gradcheck.registry import Table
from gradcheck.student.catalogue.spec import LayerFunction

__all__ = ["CATALOGUE", "FAMILIES", "get_function", "load", "register_function"]

# The modules that register entries, one per family of layers.
FAMILIES = (
    "dense",
    "losses",
    "normalization",
    "dropout",
    "conv",
    "pooling",
    "conv_sandwich",
    "recurrent",
)
CATALOGUE: Table[LayerFunction] = Table(
    "layer function", tuple(f"gradcheck.student.catalogue.{f}" for f in FAMILIES)
)


def register_function(function: LayerFunction) -> LayerFunction:
    return CATALOGUE.register(function.name, function)


def load() -> Table[LayerFunction]:
    """Import every family module once, so that the catalogue is complete."""
    return CATALOGUE.load()


def get_function(name: str) -> LayerFunction:
    return CATALOGUE.lookup(name)
