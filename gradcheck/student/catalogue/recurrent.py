"""The recurrent layers of CS231n assignment 3 (``rnn_layers.py``, 2019-2024): the vanilla
RNN and the LSTM (one step and a whole sequence), the word embedding, the temporal affine
layer and the temporal softmax loss.

Conventions: x is (N, T, D) over time, hidden states (N, H); the RNN and LSTM weights are
Wx (D, H) or (D, 4H), Wh (H, H) or (H, 4H), b (H,) or (4H,); the LSTM's gates lie along
the 4H columns in the order i, f, o, g. The maths is in ``recurrent_math``; sizes are kept
small (T ≤ 4, H ≤ 4, weights in ±1) so that long recurrences do not amplify rounding.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from hypothesis import strategies as st

from gradcheck.student.catalogue.recurrent_math import (
    RIGHT,
    Flow,
    lstm_grads,
    lstm_states,
    lstm_step,
    lstm_step_grads,
    rnn_grads,
    rnn_states,
    rnn_step,
    rnn_step_grads,
)
from gradcheck.student.catalogue.registry import register_function
from gradcheck.student.catalogue.spec import (
    Input,
    LayerFunction,
    MutantTensors,
    Output,
    Reference,
    Values,
    ranges,
)
from gradcheck.student.labels import Label

__all__ = ["temporal_softmax_loss", "word_embedding_grad"]

Array = np.ndarray
_WEIGHT_BOUND = 1.0

# The mistakes of a backward through time or of one step, as Flows (recurrent_math).
_TANH_MISTAKES: tuple[tuple[Label, str, Flow], ...] = (
    (
        Label.WRONG_ACTIVATION_DERIVATIVE,
        "tanh′ taken as 1 − z² of the pre-activation z",
        Flow(tanh_prime="at_input"),
    ),
    (
        Label.WRONG_ACTIVATION_DERIVATIVE,
        "tanh′ taken at the output, 1 − tanh(next_h)²",
        Flow(tanh_prime="at_output"),
    ),
    (Label.MISSING_ACTIVATION_DERIVATIVE, "tanh′ left out", Flow(tanh_prime="missing")),
)
_TIME_MISTAKES: tuple[tuple[Label, str, Flow], ...] = (
    (Label.LOST_ACCUMULATION, "dprev_h not carried to the step before", Flow(carry_h=False)),
    (
        Label.LOST_ACCUMULATION,
        "the upstream dh[:, t] not added at each step (only dh[:, T-1] flows back)",
        Flow(add_upstream=False),
    ),
    (
        Label.LOST_ACCUMULATION,
        "dWx, dWh and db assigned at each step instead of summed over time",
        Flow(accumulate=False),
    ),
)
_LSTM_STEP_MISTAKES: tuple[tuple[Label, str, Flow], ...] = (
    (
        Label.WRONG_FORWARD,
        "the gates in torch's order i, f, g, o instead of i, f, o, g",
        Flow(order="ifgo"),
    ),
    (
        Label.MISSING_ACTIVATION_DERIVATIVE,
        "dprev_c = dc without the forget gate f (∂next_c/∂prev_c left out of the chain)",
        Flow(forget_in_dprev_c=False),
    ),
    (
        Label.LOST_ACCUMULATION,
        "dnext_c overwritten by the path from dnext_h instead of added to",
        Flow(keep_dnext_c=False),
    ),
    (
        Label.WRONG_ACTIVATION_DERIVATIVE,
        "tanh′(next_c) taken as 1 − next_c²",
        Flow(tanh_prime="at_input"),
    ),
    (
        Label.WRONG_ACTIVATION_DERIVATIVE,
        "the gates' σ′ taken at the gate's output, σ′(σ(a))",
        Flow(sigmoid_prime="at_output"),
    ),
)
_LSTM_TIME_MISTAKES = (
    *_TIME_MISTAKES,
    (Label.LOST_ACCUMULATION, "dprev_c not carried to the step before", Flow(carry_c=False)),
)


def _small(**extra: tuple[int, int]) -> dict[str, tuple[int, int]]:
    return {"N": (1, 3), "D": (1, 3), "H": (1, 4), **extra}


def _weights(width: str) -> tuple[Input, Input, Input]:
    return (
        Input("Wx", ("D", width), bound=_WEIGHT_BOUND),
        Input("Wh", ("H", width), bound=_WEIGHT_BOUND),
        Input("b", (width,), bound=_WEIGHT_BOUND),
    )


def _w(v: Values) -> tuple[Array, Array, Array]:
    return v["Wx"], v["Wh"], v["b"]


# -- rnn_step -----------------------------------------------------------------------------


def _rnn_step_grads(v: Values, d: Mapping[str, Array], flow: Flow = RIGHT) -> dict[str, Array]:
    return rnn_step_grads(v["x"], v["prev_h"], *_w(v), d["dnext_h"], flow)


def _rnn_step_mutants(v: Values, d: Mapping[str, Array]) -> list[MutantTensors]:
    found: list[MutantTensors] = [
        (label, what, _rnn_step_grads(v, d, flow)) for label, what, flow in _TANH_MISTAKES
    ]
    a = rnn_step(v["x"], v["prev_h"], *_w(v))
    dpre = d["dnext_h"] * (1.0 - a**2)
    found.append(
        (Label.TRANSPOSED, "dprev_h as dz·Wh instead of dz·Whᵀ", {"dprev_h": dpre @ v["Wh"]})
    )
    return found


register_function(
    LayerFunction(
        name="rnn_step",
        family="recurrent",
        forward="rnn_step_forward",
        backward="rnn_step_backward",
        inputs=(
            Input("x", ("N", "D"), bound=2.0),
            Input("prev_h", ("N", "H"), bound=1.0),
            *_weights("H"),
        ),
        outputs=(Output("next_h", ("N", "H")),),
        grads=("dx", "dprev_h", "dWx", "dWh", "db"),
        sizes=ranges(**_small()),
        reference=Reference(
            forward=lambda v: {"next_h": rnn_step(v["x"], v["prev_h"], *_w(v))},
            backward=_rnn_step_grads,
            mutants=_rnn_step_mutants,
        ),
        description="rnn_step_forward(x, prev_h, Wx, Wh, b) -> (next_h, cache) with next_h "
        "= tanh(x Wx + prev_h Wh + b); rnn_step_backward(dnext_h, cache) -> "
        "(dx, dprev_h, dWx, dWh, db); x (N, D), prev_h (N, H), Wx (D, H), Wh (H, H), b (H,)",
    )
)


# -- rnn ----------------------------------------------------------------------------------


def _rnn_grads(v: Values, d: Mapping[str, Array], flow: Flow = RIGHT) -> dict[str, Array]:
    return rnn_grads(v["x"], v["h0"], *_w(v), d["dh"], flow)


def _rnn_mutants(v: Values, d: Mapping[str, Array]) -> list[MutantTensors]:
    return [
        (label, what, _rnn_grads(v, d, flow))
        for label, what, flow in (*_TIME_MISTAKES, *_TANH_MISTAKES)
    ]


register_function(
    LayerFunction(
        name="rnn",
        family="recurrent",
        forward="rnn_forward",
        backward="rnn_backward",
        inputs=(
            Input("x", ("N", "T", "D"), bound=2.0),
            Input("h0", ("N", "H"), bound=1.0),
            *_weights("H"),
        ),
        outputs=(Output("h", ("N", "T", "H")),),
        grads=("dx", "dh0", "dWx", "dWh", "db"),
        sizes=ranges(**_small(T=(1, 4))),
        reference=Reference(
            forward=lambda v: {"h": rnn_states(v["x"], v["h0"], *_w(v))},
            backward=_rnn_grads,
            mutants=_rnn_mutants,
        ),
        description="rnn_forward(x, h0, Wx, Wh, b) -> (h, cache), the hidden states "
        "(N, T, H) of rnn_step run over x (N, T, D) from h0 (N, H); rnn_backward(dh, cache) "
        "-> (dx, dh0, dWx, dWh, db), dh the upstream gradient of every h[:, t]",
    )
)


# -- lstm_step and lstm -------------------------------------------------------------------


def _lstm_sizes(**extra: tuple[int, int]) -> st.SearchStrategy[dict[str, int]]:
    """The LSTM's sizes, with "4H" the width of its stacked gates."""
    return ranges(**_small(H=(1, 3), **extra))().map(lambda s: {**s, "4H": 4 * s["H"]})


def _lstm_step_values(v: Values) -> tuple[Array, Array, Array, Array, Array, Array]:
    return (v["x"], v["prev_h"], v["prev_c"], *_w(v))


def _lstm_step_forward(v: Values, flow: Flow = RIGHT) -> dict[str, Array]:
    next_h, next_c = lstm_step(*_lstm_step_values(v), order=flow.order)
    return {"next_h": next_h, "next_c": next_c}


def _lstm_step_grads(v: Values, d: Mapping[str, Array], flow: Flow = RIGHT) -> dict[str, Array]:
    return lstm_step_grads(_lstm_step_values(v), d["dnext_h"], d["dnext_c"], flow)


def _lstm_step_mutants(v: Values, d: Mapping[str, Array]) -> list[MutantTensors]:
    found: list[MutantTensors] = []
    for label, what, flow in _LSTM_STEP_MISTAKES:
        tensors = _lstm_step_grads(v, d, flow)
        if flow.order != RIGHT.order:
            tensors.update(_lstm_step_forward(v, flow))
        found.append((label, what, tensors))
    return found


register_function(
    LayerFunction(
        name="lstm_step",
        family="recurrent",
        forward="lstm_step_forward",
        backward="lstm_step_backward",
        inputs=(
            Input("x", ("N", "D"), bound=2.0),
            Input("prev_h", ("N", "H"), bound=1.0),
            Input("prev_c", ("N", "H"), bound=1.0),
            *_weights("4H"),
        ),
        outputs=(Output("next_h", ("N", "H")), Output("next_c", ("N", "H"))),
        grads=("dx", "dprev_h", "dprev_c", "dWx", "dWh", "db"),
        sizes=lambda: _lstm_sizes(),
        reference=Reference(
            forward=_lstm_step_forward,
            backward=_lstm_step_grads,
            mutants=_lstm_step_mutants,
        ),
        description="lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b) -> (next_h, next_c, "
        "cache); lstm_step_backward(dnext_h, dnext_c, cache) -> (dx, dprev_h, dprev_c, dWx, "
        "dWh, db); Wx (D, 4H), Wh (H, 4H), b (4H,) with the gates i, f, o (sigmoid) and g "
        "(tanh) in that order along the columns; next_c = f·prev_c + i·g, next_h = "
        "o·tanh(next_c)",
    )
)


def _lstm_grads(v: Values, d: Mapping[str, Array], flow: Flow = RIGHT) -> dict[str, Array]:
    return lstm_grads(v["x"], v["h0"], *_w(v), d["dh"], flow)


# Over a sequence, a step that overwrites its dnext_c is the same mistake as dprev_c not
# carried back: only the latter is listed, so that one mistake gives one finding.
_LSTM_SEQUENCE_MISTAKES = (
    *(m for m in _LSTM_STEP_MISTAKES if m[2].keep_dnext_c),
    *_LSTM_TIME_MISTAKES,
)


def _lstm_mutants(v: Values, d: Mapping[str, Array]) -> list[MutantTensors]:
    found: list[MutantTensors] = []
    for label, what, flow in _LSTM_SEQUENCE_MISTAKES:
        tensors = _lstm_grads(v, d, flow)
        if flow.order != RIGHT.order:
            tensors["h"] = lstm_states(v["x"], v["h0"], *_w(v), flow.order)[0]
        found.append((label, what, tensors))
    return found


register_function(
    LayerFunction(
        name="lstm",
        family="recurrent",
        forward="lstm_forward",
        backward="lstm_backward",
        inputs=(
            Input("x", ("N", "T", "D"), bound=2.0),
            Input("h0", ("N", "H"), bound=1.0),
            *_weights("4H"),
        ),
        outputs=(Output("h", ("N", "T", "H")),),
        grads=("dx", "dh0", "dWx", "dWh", "db"),
        sizes=lambda: _lstm_sizes(T=(1, 4)),
        reference=Reference(
            forward=lambda v: {"h": lstm_states(v["x"], v["h0"], *_w(v))[0]},
            backward=_lstm_grads,
            mutants=_lstm_mutants,
        ),
        description="lstm_forward(x, h0, Wx, Wh, b) -> (h, cache), the hidden states "
        "(N, T, H) of lstm_step run over x (N, T, D) from h0 and c0 = 0; "
        "lstm_backward(dh, cache) -> (dx, dh0, dWx, dWh, db); gates i, f, o, g as in "
        "lstm_step",
    )
)


# -- word_embedding -----------------------------------------------------------------------


def word_embedding_grad(x: Array, vocabulary: int, dout: Array) -> Array:
    """dW (V, D): row v sums dout over every (n, t) with x[n, t] = v."""
    dw = np.zeros((vocabulary, dout.shape[-1]))
    np.add.at(dw, x.reshape(-1), dout.reshape(-1, dout.shape[-1]))
    return dw


def _embedding_mutants(v: Values, d: Mapping[str, Array]) -> list[MutantTensors]:
    x, dout = v["x"], d["dout"]
    overwritten = np.zeros_like(v["W"])
    overwritten[x.reshape(-1)] = dout.reshape(-1, dout.shape[-1])  # the last write wins
    return [
        (
            Label.LOST_ACCUMULATION,
            "dW[x] += dout, which keeps one row per repeated word instead of their sum",
            {"dW": overwritten},
        )
    ]


register_function(
    LayerFunction(
        name="word_embedding",
        family="recurrent",
        forward="word_embedding_forward",
        backward="word_embedding_backward",
        inputs=(
            Input("x", ("N", "T"), domain="index", high="V"),
            Input("W", ("V", "D"), bound=_WEIGHT_BOUND),
        ),
        outputs=(Output("out", ("N", "T", "D")),),
        grads=("dW",),
        # A vocabulary smaller than N·T makes repeated words likely.
        sizes=ranges(N=(1, 3), T=(1, 4), V=(2, 4), D=(1, 3)),
        reference=Reference(
            forward=lambda v: {"out": v["W"][v["x"]]},
            backward=lambda v, d: {"dW": word_embedding_grad(v["x"], v["W"].shape[0], d["dout"])},
            mutants=_embedding_mutants,
        ),
        description="word_embedding_forward(x, W) -> (out, cache) with out[n, t] = "
        "W[x[n, t]], x (N, T) integers in [0, V), W (V, D); "
        "word_embedding_backward(dout, cache) -> dW only",
    )
)


# -- temporal_affine ----------------------------------------------------------------------


def _temporal_affine_grads(v: Values, d: Mapping[str, Array]) -> dict[str, Array]:
    x, w, dout = v["x"], v["w"], d["dout"]
    rows = x.reshape(-1, x.shape[-1])
    flat = dout.reshape(-1, dout.shape[-1])
    return {"dx": dout @ w.T, "dw": rows.T @ flat, "db": flat.sum(axis=0)}


def _temporal_affine_mutants(v: Values, d: Mapping[str, Array]) -> list[MutantTensors]:
    x, dout = v["x"], d["dout"]
    return [
        (
            Label.LOST_ACCUMULATION,
            "dw and db assigned at each time step instead of summed (the last step's only)",
            {"dw": x[:, -1].T @ dout[:, -1], "db": dout[:, -1].sum(axis=0)},
        )
    ]


register_function(
    LayerFunction(
        name="temporal_affine",
        family="recurrent",
        forward="temporal_affine_forward",
        backward="temporal_affine_backward",
        inputs=(
            Input("x", ("N", "T", "D")),
            Input("w", ("D", "M"), bound=_WEIGHT_BOUND),
            Input("b", ("M",), bound=_WEIGHT_BOUND),
        ),
        outputs=(Output("out", ("N", "T", "M")),),
        grads=("dx", "dw", "db"),
        sizes=ranges(N=(1, 3), T=(1, 4), D=(1, 3), M=(1, 4)),
        reference=Reference(
            forward=lambda v: {"out": v["x"] @ v["w"] + v["b"]},
            backward=_temporal_affine_grads,
            mutants=_temporal_affine_mutants,
        ),
        description="temporal_affine_forward(x, w, b) -> (out, cache) with out[:, t] = "
        "x[:, t] w + b, x (N, T, D), w (D, M), b (M,); temporal_affine_backward(dout, cache) "
        "-> (dx, dw, db)",
    )
)


# -- temporal_softmax_loss ----------------------------------------------------------------


def temporal_softmax_loss(
    x: Array, y: Array, mask: Array, *, divisor: float | None = None, masked: bool = True
) -> tuple[Array, Array]:
    """loss = −Σ_{n,t} mask·log softmax(x[n, t])[y[n, t]] / N and its dx; ``divisor``
    replaces N and ``masked=False`` ignores the mask (two classic mistakes)."""
    n = x.shape[0] if divisor is None else divisor
    weight = mask.astype(np.float64) if masked else np.ones(mask.shape)
    shifted = x - x.max(axis=-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(log_p, y[..., None], axis=-1)[..., 0]
    loss = -(weight * picked).sum() / n
    dx = np.exp(log_p)
    np.put_along_axis(dx, y[..., None], np.take_along_axis(dx, y[..., None], -1) - 1.0, -1)
    return np.asarray(loss), dx * weight[..., None] / n


def _softmax_mutants(v: Values, _: Mapping[str, Array]) -> list[MutantTensors]:
    x, y, mask = v["x"], v["y"], v["mask"]
    unmasked_loss, unmasked_dx = temporal_softmax_loss(x, y, mask, masked=False)
    loss_nt, dx_nt = temporal_softmax_loss(x, y, mask, divisor=x.shape[0] * x.shape[1])
    return [
        (Label.WRONG_FORWARD, "the mask ignored", {"loss": unmasked_loss, "dx": unmasked_dx}),
        (Label.WRONG_ROUTING, "dx not multiplied by the mask", {"dx": unmasked_dx}),
        (Label.SCALED, "the loss divided by N·T instead of N", {"loss": loss_nt, "dx": dx_nt}),
    ]


def _softmax_reference(v: Values) -> tuple[Array, Array]:
    return temporal_softmax_loss(v["x"], v["y"], v["mask"])


register_function(
    LayerFunction(
        name="temporal_softmax_loss",
        family="recurrent",
        forward="temporal_softmax_loss",
        backward=None,
        inputs=(
            Input("x", ("N", "T", "V")),
            Input("y", ("N", "T"), domain="labels", high="V"),
            Input("mask", ("N", "T"), domain="mask"),
        ),
        outputs=(Output("loss", ()),),
        grads=("dx",),
        sizes=ranges(N=(1, 3), T=(1, 4), V=(2, 4)),
        reference=Reference(
            forward=lambda v: {"loss": _softmax_reference(v)[0]},
            backward=lambda v, _: {"dx": _softmax_reference(v)[1]},
            mutants=_softmax_mutants,
        ),
        description="temporal_softmax_loss(x, y, mask, verbose=False) -> (loss, dx): the "
        "softmax cross-entropy of the scores x (N, T, V) at the labels y (N, T), counted "
        "where mask (N, T) is True, summed over time and averaged over the minibatch only "
        "(divided by N, not N·T)",
    )
)
