"""The registry of assignments by name. It holds what has been registered and nothing else:
the built-in assignments register themselves in ``builtin``, and ``assignment`` is where a
name is looked up with them in place."""

from __future__ import annotations

from gradcheck.registry import Table
from gradcheck.student.contract import Assignment

__all__ = ["ASSIGNMENTS", "register_assignment"]

ASSIGNMENTS: Table[Assignment] = Table("assignment")


def register_assignment(assignment: Assignment) -> Assignment:
    return ASSIGNMENTS.register(assignment.name, assignment)
