"""The diagnosis labels and the verdict they imply.

A submission's verdict follows its score (the points of the checks it passed, out of the
points of all checks):

- ``pass``: full marks, and nothing wrong;
- ``partial``: some points but not all, whatever cost the rest (a check failed, was not
  implemented, or was not run because the process had stopped). A timeout in the 5th of 10
  checks after 4 passed is ``partial`` 4/10 with the ``timeout`` label; the 6th to 10th say
  that they were not run;
- ``fail``: it ran and scored nothing (it is wrong, or it broke the contract);
- ``error``: it scored nothing and could not be evaluated at all: it does not parse, it hung,
  it ran out of memory or its process died.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

__all__ = [
    "ERROR_LABELS",
    "LABEL_MEANINGS",
    "VERDICTS",
    "Label",
    "SubmissionVerdict",
    "verdict_for",
]

SubmissionVerdict = Literal["pass", "partial", "fail", "error"]
VERDICTS: tuple[SubmissionVerdict, ...] = ("pass", "partial", "fail", "error")


class Label(StrEnum):
    SIGN_FLIP = "sign_flip"
    SCALED = "scaled"
    BATCH_REDUCTION = "batch_reduction"
    TRANSPOSED = "transposed"
    SHAPE_MISMATCH = "shape_mismatch"
    ZERO_GRADIENT = "zero_gradient"
    MISSING_ACTIVATION_DERIVATIVE = "missing_activation_derivative"
    WRONG_ACTIVATION_DERIVATIVE = "wrong_activation_derivative"
    MUTATES_INPUT = "mutates_input"
    NONDETERMINISTIC = "nondeterministic"
    NON_FINITE = "non_finite"
    CRASH = "crash"
    SYNTAX_ERROR = "syntax_error"
    MISSING_ENTRY_POINT = "missing_entry_point"
    BAD_RETURN = "bad_return"
    TIMEOUT = "timeout"
    MEMORY_LIMIT = "memory_limit"
    PROCESS_DIED = "process_died"
    FORBIDDEN_IMPORT = "forbidden_import"
    WRONG_FORWARD = "wrong_forward"
    WRONG_MODE = "wrong_mode"
    WRONG_AXIS = "wrong_axis"
    WRONG_ROUTING = "wrong_routing"
    LOST_ACCUMULATION = "lost_accumulation"
    MISSING_REGULARIZATION = "missing_regularization"


LABEL_MEANINGS: dict[Label, str] = {
    Label.SIGN_FLIP: "the gradient is −1 × the reference",
    Label.SCALED: "the gradient is a constant c × the reference",
    Label.BATCH_REDUCTION: "the factor is the batch size or its inverse: sum and mean confused",
    Label.TRANSPOSED: "a transposed gradient was returned",
    Label.SHAPE_MISMATCH: "a returned shape differs from the expected one",
    Label.ZERO_GRADIENT: "a gradient is zero where the reference is not",
    Label.MISSING_ACTIVATION_DERIVATIVE: "the activation's derivative was left out of the chain",
    Label.WRONG_ACTIVATION_DERIVATIVE: "a wrong activation derivative, or one evaluated at the "
    "wrong point, such as σ′(σ(z))",
    Label.MUTATES_INPUT: "the code changed an input array or dict",
    Label.NONDETERMINISTIC: "two calls on the same input gave different results",
    Label.NON_FINITE: "NaN or Inf returned",
    Label.CRASH: "an exception was raised",
    Label.SYNTAX_ERROR: "the file does not parse",
    Label.MISSING_ENTRY_POINT: "a required function or class is not defined",
    Label.BAD_RETURN: "the return value has the wrong type or keys",
    Label.TIMEOUT: "the wall-clock limit was exceeded",
    Label.MEMORY_LIMIT: "the memory limit was exceeded",
    Label.PROCESS_DIED: "the process exited or was killed",
    Label.FORBIDDEN_IMPORT: "the code imported a forbidden module",
    Label.WRONG_FORWARD: "the forward pass computes the wrong values",
    Label.WRONG_MODE: "the train- or test-mode behaviour is wrong: running statistics not "
    "updated or not used, dropout not inverted in train mode or not the identity in test mode",
    Label.WRONG_AXIS: "a sum or mean taken over the wrong axis",
    Label.WRONG_ROUTING: "a gradient sent to the wrong entries: not only to the max of a "
    "pooling window, not through the forward's dropout mask, or to the wrong embedding rows",
    Label.LOST_ACCUMULATION: "contributions to one gradient entry overwritten instead of "
    "summed: dW[idx] += … with repeated indices, or = instead of += across time steps",
    Label.MISSING_REGULARIZATION: "the regularisation term, or its gradient, is missing or "
    "has the wrong factor",
}

# The labels that mean the submission could not be evaluated.
ERROR_LABELS = frozenset(
    {Label.SYNTAX_ERROR, Label.TIMEOUT, Label.MEMORY_LIMIT, Label.PROCESS_DIED}
)


def verdict_for(
    labels: set[Label] | frozenset[Label], score: float, max_score: float
) -> SubmissionVerdict:
    """``pass`` with full marks and no label; ``partial`` with some points short of that;
    with no points, ``error`` if any label means the code could not be evaluated, else
    ``fail``."""
    if score > 0 and score >= max_score and not labels:
        return "pass"
    if score > 0:
        return "partial"
    return "error" if labels & ERROR_LABELS else "fail"
