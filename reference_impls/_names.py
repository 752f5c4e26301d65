"""Name lookup shared by the references: ``"elu(alpha=0.5)"`` → the framework's function.

Only the parsing is shared; each reference keeps its own table of framework functions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from gradcheck.errors import UnknownNameError
from gradcheck.registry import parse_call

__all__ = ["build"]

T = TypeVar("T")
Table = Mapping[str, tuple[dict[str, float], Callable[..., T]]]


def build(library: str, kind: str, table: Table[T], text: str) -> T:
    """Parse ``text`` and build the table's entry, refusing names and parameters it lacks."""
    name, params = parse_call(text)
    if name not in table:
        raise UnknownNameError(f"{library} reference has no {kind} {name!r}")
    defaults, factory = table[name]
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise UnknownNameError(
            f"{library} reference: {kind} {name!r} has no parameter {unknown[0]!r}"
        )
    return factory(**{**defaults, **params})
