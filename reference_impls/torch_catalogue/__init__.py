"""torch twins of the layer catalogue's references (gradcheck.student.catalogue), in float64
on the CPU: an independent oracle for the NumPy references, used by the tests.

``TWINS`` maps a catalogue name to a function of the named inputs and configs (torch
tensors for arrays, the configs as they are) that returns the outputs by name; gradients
come from torch.autograd. ``load()`` imports every family module.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

import torch

__all__ = ["FAMILIES", "TWINS", "Twin", "load", "twin"]

Twin = Callable[[Mapping[str, Any]], dict[str, torch.Tensor]]
TWINS: dict[str, Twin] = {}
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


def twin(name: str) -> Callable[[Twin], Twin]:
    def register(fn: Twin) -> Twin:
        if name in TWINS:
            raise ValueError(f"torch twin {name!r} is already registered")
        TWINS[name] = fn
        return fn

    return register


def load() -> dict[str, Twin]:
    for family in FAMILIES:
        importlib.import_module(f"reference_impls.torch_catalogue.{family}")
    return TWINS
