"""What an assignment is: a contract and the checks that test it.

A :class:`Check` tests one function (or one forward/backward pair) of a submission. It
draws inputs with Hypothesis, calls the submission through the sandbox, reads what came
back under the submission's own names, and computes the reference under the same names,
shapes and orientation, so that every record speaks the student's language (``w1``,
``dW[0]``, ``dx``). The reference comes from gradcheck's core; ``references`` cross-checks
it against finite differences and torch on the cases that are reported.

These are the base types only: the registry of assignments is ``registry``, the built-in
ones are ``builtin``, and the lookup by name is ``assignment``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st

from gradcheck.compare import Record
from gradcheck.student.labels import Label
from gradcheck.student.sandbox import Sandbox
from gradcheck.student.source import DEFAULT_FORBIDDEN

__all__ = ["Assignment", "Check", "ContractError", "Expected", "Mutant"]

Array = np.ndarray


class ContractError(Exception):
    """The submission returned something the contract does not allow."""

    def __init__(self, label: Label, message: str) -> None:
        super().__init__(message)
        self.label, self.message = label, message


@dataclass(frozen=True)
class Expected:
    """The reference for one case, under the submission's names and shapes.

    ``rounding`` bounds the magnitude of the terms summed into each entry, so that any
    correct evaluation order passes (see ``numeric.steps``); ``skip`` marks entries whose
    value depends on the convention at a kink (relu′(0)), which are never compared;
    ``batch`` is the batch size, which a sum/mean confusion shows up as.
    """

    tensors: Mapping[str, Array]
    rounding: Mapping[str, Array]
    skip: Mapping[str, Array] = field(default_factory=dict)
    batch: int = 1


@dataclass(frozen=True)
class Mutant:
    """The reference with one known mistake, under the submission's names."""

    label: Label
    mistake: str
    tensors: Mapping[str, Array]


class Check(ABC):
    """One function (or forward/backward pair) of an assignment."""

    name: str = ""
    entry_points: tuple[str, ...] = ()
    examples: int | None = None  # a cap on the search's examples, for slow functions

    @abstractmethod
    def cases(self) -> st.SearchStrategy[Any]:
        """Inputs: batch sizes from 1, equal and unequal widths, values beyond ±1."""

    @abstractmethod
    def call(self, sandbox: Sandbox, case: Any) -> Any:
        """Call the submission on ``case``; return what it returned."""

    @abstractmethod
    def read(self, case: Any, raw: Any) -> dict[str, Any]:
        """The returned values under their names; ContractError if the container is wrong."""

    @abstractmethod
    def expected(self, case: Any) -> Expected: ...

    def mutants(self, case: Any) -> list[Mutant]:
        return []

    @abstractmethod
    def variant(self, case: Any, seed: int) -> Any:
        """A case like ``case`` with another batch size, to tell factors apart."""

    @abstractmethod
    def snippet(self, case: Any) -> str:
        """Python that re-runs the submission on ``case``."""

    @abstractmethod
    def inputs(self, case: Any) -> dict[str, Any]:
        """The inputs of ``case`` as JSON-ready data."""

    def references(self, case: Any) -> tuple[Record, ...]:
        """Records of the reference against finite differences (and torch where installed)."""
        return ()

    def trial_records(self, sandbox: Sandbox, case: Any) -> tuple[Record, ...]:
        """Records every trial adds to its comparison with the reference: a check without a
        reference compares the submission with itself here (finite differences)."""
        return ()

    def consistency(self, sandbox: Sandbox, case: Any) -> tuple[Record, ...]:
        """Records of the submission's gradient against finite differences of its *own*
        forward function, where it has one: they tell a wrong backward from a wrong forward."""
        return ()


@dataclass(frozen=True)
class Assignment:
    """A named contract and its checks. With ``partial`` set, a check whose functions are
    missing is scored as not implemented instead of failing the submission."""

    name: str
    title: str
    contract: str
    checks: tuple[Check, ...]
    forbidden: tuple[str, ...] = DEFAULT_FORBIDDEN
    partial: bool = False

    @property
    def entry_points(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(name for c in self.checks for name in c.entry_points))
