"""Assignments by name, the built-in ones included.

Importing this module registers the built-in assignments (``builtin``), so that
:func:`get_assignment` finds them. The contract types (``contract``) and the registry
(``registry``) are re-exported here, where callers import them from.
"""

from __future__ import annotations

import gradcheck.student.builtin  # noqa: F401  (registers the built-in assignments)
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
    return ASSIGNMENTS.lookup(name)
