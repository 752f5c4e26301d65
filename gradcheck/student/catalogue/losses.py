"""The classifier losses: ``softmax_loss(x, y)`` and ``svm_loss(x, y)`` on scores (the layers
of assignment 2), and the linear classifiers of assignment 1, ``svm_loss_naive``,
``svm_loss_vectorized``, ``softmax_loss_naive`` and ``softmax_loss_vectorized`` with
signature ``(W, X, y, reg) -> (loss, dW)``.

Every loss is the mean over the N rows; the classifiers add ``reg·ΣW²`` (gradient
``2·reg·W``), the current course's convention. The multiclass SVM has margin 1 and skips the
correct class; where a margin is exactly 0 the hinge has a kink, and the entries it touches
are not compared.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
from hypothesis import strategies as st

from gradcheck.student.catalogue.registry import register_function
from gradcheck.student.catalogue.spec import (
    Config,
    Input,
    LayerFunction,
    MutantTensors,
    Output,
    Reference,
    Values,
    one_of,
)
from gradcheck.student.labels import Label

__all__ = ["softmax_scores", "svm_scores"]

Array = np.ndarray
Scores = Callable[[Array, Array], tuple[float, Array]]


def softmax_scores(x: Array, y: Array) -> tuple[float, Array]:
    """The mean cross-entropy of softmax(x) against labels y, and its gradient in x."""
    shifted = x - x.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = x.shape[0]
    rows = np.arange(n)
    dx = np.exp(log_p)
    dx[rows, y] -= 1.0
    return float(-log_p[rows, y].sum() / n), dx / n


def _svm_margins(x: Array, y: Array) -> Array:
    rows = np.arange(x.shape[0])
    margins = x - x[rows, y][:, None] + 1.0
    margins[rows, y] = 0.0
    return margins


def svm_scores(x: Array, y: Array) -> tuple[float, Array]:
    """The mean multiclass hinge loss (margin 1), and its gradient in x (0 at the kink)."""
    n = x.shape[0]
    margins = _svm_margins(x, y)
    positive = (margins > 0).astype(np.float64)
    positive[np.arange(n), y] = -positive.sum(axis=1)
    return float(np.maximum(margins, 0.0).sum() / n), positive / n


def _svm_kinks(x: Array, y: Array) -> Array:
    """Per row and class: the classes whose gradient a zero margin leaves to convention."""
    rows = np.arange(x.shape[0])
    margins = x - x[rows, y][:, None] + 1.0
    margins[rows, y] = 1.0
    kink = margins == 0.0
    touched = kink.copy()
    touched[rows, y] |= kink.any(axis=1)
    return touched


def _score_mutants(scores: Scores) -> Callable[[Values, Mapping[str, Array]], list[MutantTensors]]:
    def mutants(values: Values, _: Mapping[str, Array]) -> list[MutantTensors]:
        x, y = values["x"], values["y"]
        loss, dx = scores(x, y)
        n = x.shape[0]
        return [
            (
                Label.BATCH_REDUCTION,
                "the gradient summed over the batch, not averaged",
                {"dx": dx * n},
            ),
            (
                Label.BATCH_REDUCTION,
                "the loss summed over the batch, not averaged",
                {"loss": np.asarray(loss * n)},
            ),
        ]

    return mutants


def _labels_sizes() -> st.SearchStrategy[dict[str, int]]:
    return st.fixed_dictionaries({"N": st.integers(1, 5), "C": st.integers(2, 5)})


def _score_loss(name: str, scores: Scores, what: str) -> LayerFunction:
    def forward(v: Values) -> dict[str, Array]:
        return {"loss": np.asarray(scores(v["x"], v["y"])[0])}

    skip = None
    if scores is svm_scores:
        skip = lambda v: {"dx": _svm_kinks(v["x"], v["y"])}  # noqa: E731
    return LayerFunction(
        name=name,
        family="loss",
        forward=name,
        backward=None,
        inputs=(Input("x", ("N", "C")), Input("y", ("N",), "labels", high="C")),
        outputs=(Output("loss", ()),),
        grads=("dx",),
        sizes=_labels_sizes,
        reference=Reference(
            forward=forward,
            backward=lambda v, _: {"dx": scores(v["x"], v["y"])[1]},
            skip=skip,
            mutants=_score_mutants(scores),
        ),
        description=f"{name}(x, y) -> (loss, dx): x (N, C) scores, y (N,) labels in [0, C); "
        f"{what}, the mean over the N rows",
    )


register_function(_score_loss("softmax_loss", softmax_scores, "cross-entropy of softmax(x)"))
register_function(_score_loss("svm_loss", svm_scores, "multiclass hinge loss with margin 1"))


# The linear classifiers of assignment 1 -------------------------------------------------
def _classifier(name: str, scores: Scores, what: str) -> LayerFunction:
    def loss_and_grad(v: Values) -> tuple[float, Array]:
        W, X, y, reg = v["W"], v["X"], v["y"], float(v["reg"])
        loss, dscores = scores(X @ W, y)
        return loss + reg * float(np.sum(W * W)), X.T @ dscores + 2.0 * reg * W

    def mutants(v: Values, _: Mapping[str, Array]) -> list[MutantTensors]:
        W, X, y, reg = v["W"], v["X"], v["y"], float(v["reg"])
        loss, dscores = scores(X @ W, y)
        data_grad = X.T @ dscores
        return [
            (
                Label.MISSING_REGULARIZATION,
                "the regularisation gradient left out",
                {"dW": data_grad},
            ),
            (
                Label.MISSING_REGULARIZATION,
                "the regularisation gradient taken as reg·W, not 2·reg·W",
                {"dW": data_grad + reg * W},
            ),
            (
                Label.MISSING_REGULARIZATION,
                "the regularisation term left out of the loss",
                {"loss": np.asarray(loss)},
            ),
            (
                Label.BATCH_REDUCTION,
                "the data gradient summed over the batch, not averaged",
                {"dW": data_grad * X.shape[0] + 2.0 * reg * W},
            ),
        ]

    def skip(v: Values) -> dict[str, Array]:
        if scores is not svm_scores:
            return {}
        columns = _svm_kinks(v["X"] @ v["W"], v["y"]).any(axis=0)
        return {"dW": np.broadcast_to(columns, v["W"].shape).copy()}

    return LayerFunction(
        name=name,
        family="linear_classifier",
        forward=name,
        backward=None,
        inputs=(
            Input("W", ("D", "C"), bound=1.0),
            Input("X", ("N", "D")),
            Input("y", ("N",), "labels", high="C"),
        ),
        configs=(Config("reg", one_of([0.0, 0.1, 2.5])),),
        outputs=(Output("loss", ()),),
        grads=("dW",),
        sizes=lambda: st.fixed_dictionaries(
            {"N": st.integers(1, 5), "D": st.integers(1, 4), "C": st.integers(2, 4)}
        ),
        reference=Reference(
            forward=lambda v: {"loss": np.asarray(loss_and_grad(v)[0])},
            backward=lambda v, _: {"dW": loss_and_grad(v)[1]},
            skip=skip,
            mutants=mutants,
        ),
        description=f"{name}(W, X, y, reg) -> (loss, dW): W (D, C), X (N, D), y (N,) labels; "
        f"{what} of X @ W, the mean over N, plus reg·ΣW² (dW gains 2·reg·W)",
    )


for _kind, _scores, _what in (
    ("svm", svm_scores, "multiclass hinge loss"),
    ("softmax", softmax_scores, "softmax cross-entropy"),
):
    for _style in ("naive", "vectorized"):
        register_function(_classifier(f"{_kind}_loss_{_style}", _scores, _what))
