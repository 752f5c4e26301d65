"""Assignments by name, the built-in ones included.

Importing this module registers the built-in assignments (``builtin``), so that
:func:`get_assignment` finds them. The contract types (``contract``) and the registry
(``registry``) are re-exported here, where callers import them from.
"""

from __future__ import annotations

import difflib

import gradcheck.student.builtin  # noqa: F401  (registers the built-in assignments)
from gradcheck.errors import UnknownNameError
from gradcheck.student.contract import Assignment, Check, ContractError, Expected, Mutant
from gradcheck.student.registry import ASSIGNMENTS, register_assignment

__all__ = [
    "ASSIGNMENTS",
    "Assignment",
    "Check",
    "ContractError",
    "Expected",
    "Mutant",
    "get_assignment",
    "register_assignment",
]


def get_assignment(name: str) -> Assignment:
    try:
        return ASSIGNMENTS[name]
    except KeyError:
        close = difflib.get_close_matches(name, ASSIGNMENTS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        known = ", ".join(sorted(ASSIGNMENTS))
        raise UnknownNameError(f"unknown assignment {name!r}{hint} (known: {known})") from None
