"""Why an example was inconclusive: which tensors of which engine pair could not be compared,
in which drawn network, and the reason, in words a report can print as they are.

A tensor is inconclusive when none of its entries could be compared: every entry sat on a
kink (a relu-like unit's pre-activation exactly at its kink, where any subgradient is
right), or the reference's perturbations crossed a kink on both sides of every entry, so
that no finite difference of it is reliable. ``kinks="avoid"`` keeps every drawn
pre-activation ``KINK_MARGIN`` from a kink; a finite-difference step (about
``eps^(1/3)·max(1, |θ|)``, 5e-3 in float32) can still move one across, most often in a
float32 network whose units near the output are relu-like.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gradcheck.case import Case
from gradcheck.compare import Record
from gradcheck.numeric.steps import KINK_MARGIN, fd_step

__all__ = ["InconclusiveExample", "inconclusive_example", "kinked_units"]


@dataclass(frozen=True)
class InconclusiveExample:
    """One example of a cell in which some tensors of one engine pair were inconclusive."""

    example: int
    case: str
    tensors: tuple[str, ...]
    why: str

    def to_text(self) -> str:
        return f"{', '.join(self.tensors)} in example {self.example} (`{self.case}`): {self.why}"


def kinked_units(case: Case) -> tuple[str, ...]:
    """The layers of the drawn network whose activation has a kink, as ``"leaky_relu
    (output)"`` or ``"relu (hidden)"``, each once."""
    spec = case.spec
    found: list[str] = []
    for layer in range(1, spec.depth + 1):
        if spec.activation(layer).kinks:
            text = f"{spec.output} (output)" if layer == spec.depth else f"{spec.hidden} (hidden)"
            if text not in found:
                found.append(text)
    return tuple(found)


def inconclusive_example(
    example: int, case: Case, records: Sequence[Record]
) -> InconclusiveExample | None:
    """The inconclusive tensors among ``records`` (one engine pair, one example) and why;
    None when every tensor was compared."""
    tensors = tuple(r.tensor for r in records if r.verdict == "inconclusive")
    if not tensors:
        return None
    units = kinked_units(case)
    dtype = case.spec.dtype
    step = float(fd_step(np.zeros(()), case.spec.np_dtype))
    if units:
        why = (
            "no entry could be compared: the finite-difference perturbations of each (step "
            f"{step:.2g}·max(1, |θ|) in {dtype}) moved a pre-activation of "
            f"{' and '.join(units)} across a kink on both sides; drawn pre-activations keep "
            f"{KINK_MARGIN:g} from a kink, less than that step can move them"
        )
    else:
        why = "no entry could be compared: every entry sat on or next to a kink"
    return InconclusiveExample(example, case.describe(), tensors, why)
