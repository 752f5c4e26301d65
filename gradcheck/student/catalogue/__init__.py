"""The layer catalogue: the layer functions of a modern deep-learning course's assignments
(affine, activations, losses, normalisation, dropout, convolution and pooling, sandwich and
recurrent layers), each with its NumPy reference. Importing this package registers them.

``CATALOGUE`` maps a function's name (``batchnorm``) to its :class:`LayerFunction`.
"""

from __future__ import annotations

from gradcheck.student.catalogue.registry import CATALOGUE, get_function, register_function
from gradcheck.student.catalogue.spec import Config, Input, LayerFunction, Output, Reference

__all__ = [
    "CATALOGUE",
    "Config",
    "Input",
    "LayerFunction",
    "Output",
    "Reference",
    "get_function",
    "register_function",
]
