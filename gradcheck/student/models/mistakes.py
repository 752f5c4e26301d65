"""The known mistakes of a model's loss, each a :class:`Variation` of the reference model.

The diagnosis compares a wrong tensor with each of these references; one that matches it
names the mistake. A mistake only applies where it changes something (the L2 term where
reg > 0, dropout where there is dropout).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gradcheck.student.labels import Label
from gradcheck.student.models.declaration import Architecture
from gradcheck.student.models.reference import Variation

__all__ = ["MISTAKES", "Mistake"]


@dataclass(frozen=True)
class Mistake:
    label: Label
    what: str
    variation: Variation
    applies: Callable[[Architecture], bool]


def _regularised(arch: Architecture) -> bool:
    return arch.reg > 0


def _dropout(arch: Architecture) -> bool:
    return arch.dropout


def _dropout_in_test_mode(arch: Architecture) -> bool:
    """Test mode is not checked with batchnorm (see ``check``)."""
    return arch.dropout and arch.normalization != "batchnorm"


MISTAKES: tuple[Mistake, ...] = (
    Mistake(
        Label.MISSING_REGULARIZATION,
        "the L2 term and its gradient left out",
        Variation(reg_loss=0.0, reg_grad=0.0),
        _regularised,
    ),
    Mistake(
        Label.MISSING_REGULARIZATION,
        "0.5 dropped from the L2 term: reg·ΣW² in the loss, 2·reg·W in the gradient",
        Variation(reg_loss=1.0, reg_grad=2.0),
        _regularised,
    ),
    Mistake(
        Label.MISSING_REGULARIZATION,
        "an L2 gradient of 0.5·reg·W, half of reg·W",
        Variation(reg_grad=0.5),
        _regularised,
    ),
    Mistake(
        Label.MISSING_REGULARIZATION,
        "every parameter regularised, biases (and gamma, beta) too, not the weights only",
        Variation(regularise_all=True),
        _regularised,
    ),
    Mistake(
        Label.BATCH_REDUCTION,
        "the data loss summed over the batch, not averaged",
        Variation(average=False),
        lambda arch: True,
    ),
    Mistake(
        Label.WRONG_MODE,
        "dropout applied in test mode (loss(X) with y None)",
        Variation(dropout_mode="train"),
        _dropout_in_test_mode,
    ),
    Mistake(
        Label.WRONG_MODE,
        "dropout left out in train mode",
        Variation(dropout_mode="test"),
        _dropout,
    ),
)
