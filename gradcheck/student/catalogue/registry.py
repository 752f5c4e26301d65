"""The registry of layer functions by name. The family modules register their entries when
the catalogue is loaded (``load``), and a new entry gets the catalogue's tests by being here."""

from __future__ import annotations

import difflib
import importlib

from gradcheck.errors import UnknownNameError
from gradcheck.student.catalogue.spec import LayerFunction

__all__ = ["CATALOGUE", "FAMILIES", "get_function", "load", "register_function"]

CATALOGUE: dict[str, LayerFunction] = {}
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
_loaded = False


def register_function(function: LayerFunction) -> LayerFunction:
    if function.name in CATALOGUE:
        raise ValueError(f"layer function {function.name!r} is already registered")
    CATALOGUE[function.name] = function
    return function


def load() -> dict[str, LayerFunction]:
    """Import every family module once, so that the catalogue is complete."""
    global _loaded
    if not _loaded:
        _loaded = True
        for family in FAMILIES:
            importlib.import_module(f"gradcheck.student.catalogue.{family}")
    return CATALOGUE


def get_function(name: str) -> LayerFunction:
    catalogue = load()
    try:
        return catalogue[name]
    except KeyError:
        close = difflib.get_close_matches(name, catalogue, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        known = ", ".join(sorted(catalogue))
        raise UnknownNameError(f"unknown layer function {name!r}{hint} (known: {known})") from None
