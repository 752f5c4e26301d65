"""The NumPy maths of the recurrent layers (vanilla RNN and LSTM, one step and a whole
sequence), with the classic mistakes of their backward passes as switches.

A :class:`Flow` says how a backward pass combines its gradients; its defaults are the right
answer and each other setting is one mistake students make, so the references and their
mutants (``recurrent.py``) share one implementation:

- through time: the upstream ``dh[:, t]`` added at every step, the carried ``dprev_h`` (and
  ``dprev_c``) passed to the step before, the weight gradients summed over the steps;
- in a step: the derivative of tanh and of the sigmoid, the LSTM's gate order (i, f, o, g
  in CS231n: columns ``[0:H]`` are the input gate, then forget, output, and the tanh
  candidate g), ``dprev_c = dc·f`` and ``dc = dnext_c + dnext_h·o·tanh′(next_c)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = [
    "Flow",
    "lstm_grads",
    "lstm_states",
    "lstm_step",
    "lstm_step_grads",
    "rnn_grads",
    "rnn_states",
    "rnn_step",
    "rnn_step_grads",
    "sigmoid",
]

Array = np.ndarray
# Where tanh′ (or σ′) is evaluated: right, at its input z (1 − z²), at its output a
# (1 − tanh(a)², σ′(σ(z))), or left out (1).
Prime = Literal["right", "at_input", "at_output", "missing"]
_GATES = "ifog"


@dataclass(frozen=True)
class Flow:
    """How a backward pass combines its gradients; every default is right."""

    add_upstream: bool = True  # dh[:, t] joins the carried gradient at every step
    carry_h: bool = True  # dprev_h is passed to the step before
    carry_c: bool = True  # dprev_c is passed to the step before (LSTM)
    accumulate: bool = True  # dWx, dWh, db summed over the steps (else step 0's only)
    tanh_prime: Prime = "right"  # the RNN's tanh, the LSTM's tanh(next_c)
    sigmoid_prime: Prime = "right"  # the LSTM's i, f and o gates
    order: str = _GATES  # the gates' order along the 4H columns
    forget_in_dprev_c: bool = True  # dprev_c = dc·f (else dc)
    keep_dnext_c: bool = True  # dc = dnext_c + the path from dnext_h (else that path only)


RIGHT = Flow()


def sigmoid(z: Array) -> Array:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _tanh_prime(z: Array, prime: Prime) -> Array:
    a = np.tanh(z)
    table = {
        "right": 1.0 - a**2,
        "at_input": 1.0 - z**2,
        "at_output": 1.0 - np.tanh(a) ** 2,
        "missing": np.ones_like(z),
    }
    return table[prime]


def _sigmoid_prime(z: Array, prime: Prime) -> Array:
    s = sigmoid(z)
    table = {
        "right": s * (1.0 - s),
        "at_input": z * (1.0 - z),
        "at_output": sigmoid(s) * (1.0 - sigmoid(s)),
        "missing": np.ones_like(z),
    }
    return table[prime]


def _weight_grads(x: Array, h: Array, dz: Array) -> dict[str, Array]:
    return {"dWx": x.T @ dz, "dWh": h.T @ dz, "db": dz.sum(axis=0)}


def rnn_step(x: Array, h: Array, wx: Array, wh: Array, b: Array) -> Array:
    """next_h = tanh(x·Wx + prev_h·Wh + b)."""
    return np.tanh(x @ wx + h @ wh + b)


def rnn_step_grads(
    x: Array, h: Array, wx: Array, wh: Array, b: Array, dnext: Array, flow: Flow = RIGHT
) -> dict[str, Array]:
    """dx, dprev_h, dWx, dWh, db of one step, given the upstream dnext_h."""
    dz = dnext * _tanh_prime(x @ wx + h @ wh + b, flow.tanh_prime)
    return {"dx": dz @ wx.T, "dprev_h": dz @ wh.T, **_weight_grads(x, h, dz)}


def rnn_states(x: Array, h0: Array, wx: Array, wh: Array, b: Array) -> Array:
    """The hidden states (N, T, H) of a vanilla RNN run over x (N, T, D) from h0."""
    h = np.empty((x.shape[0], x.shape[1], h0.shape[1]))
    prev = h0
    for t in range(x.shape[1]):
        prev = rnn_step(x[:, t], prev, wx, wh, b)
        h[:, t] = prev
    return h


def _accumulate(total: dict[str, Array], step: dict[str, Array], flow: Flow) -> None:
    for key in ("dWx", "dWh", "db"):
        total[key] = total[key] + step[key] if flow.accumulate and key in total else step[key]


def rnn_grads(
    x: Array, h0: Array, wx: Array, wh: Array, b: Array, dh: Array, flow: Flow = RIGHT
) -> dict[str, Array]:
    """dx, dh0, dWx, dWh, db of a whole sequence, by backpropagation through time."""
    steps = x.shape[1]
    h = rnn_states(x, h0, wx, wh, b)
    prevs = [h0, *(h[:, t] for t in range(steps - 1))]
    dx = np.zeros_like(x)
    total: dict[str, Array] = {}
    carried = np.zeros_like(h0)
    step: dict[str, Array] = {}
    for t in reversed(range(steps)):
        upstream = dh[:, t] if flow.add_upstream or t == steps - 1 else 0.0
        step = rnn_step_grads(x[:, t], prevs[t], wx, wh, b, upstream + carried, flow)
        dx[:, t] = step["dx"]
        carried = step["dprev_h"] if flow.carry_h else np.zeros_like(h0)
        _accumulate(total, step, flow)
    return {"dx": dx, "dh0": step["dprev_h"], **total}


def _gates(
    x: Array, h: Array, wx: Array, wh: Array, b: Array, order: str
) -> tuple[dict[str, Array], dict[str, Array]]:
    """The pre-activations and the activated gates by name (i, f, o, g)."""
    a = x @ wx + h @ wh + b
    size = h.shape[1]
    pre = {name: a[:, k * size : (k + 1) * size] for k, name in enumerate(order)}
    gates = {name: sigmoid(z) if name != "g" else np.tanh(z) for name, z in pre.items()}
    return pre, gates


def lstm_step(
    x: Array, h: Array, c: Array, wx: Array, wh: Array, b: Array, order: str = _GATES
) -> tuple[Array, Array]:
    """next_c = f·prev_c + i·g and next_h = o·tanh(next_c)."""
    _, gate = _gates(x, h, wx, wh, b, order)
    next_c = gate["f"] * c + gate["i"] * gate["g"]
    return gate["o"] * np.tanh(next_c), next_c


def lstm_step_grads(
    values: tuple[Array, Array, Array, Array, Array, Array],
    dnext_h: Array,
    dnext_c: Array,
    flow: Flow = RIGHT,
) -> dict[str, Array]:
    """dx, dprev_h, dprev_c, dWx, dWh, db of one step; ``values`` = (x, prev_h, prev_c,
    Wx, Wh, b)."""
    x, h, c, wx, wh, b = values
    pre, gate = _gates(x, h, wx, wh, b, flow.order)
    next_c = gate["f"] * c + gate["i"] * gate["g"]
    from_h = dnext_h * gate["o"] * _tanh_prime(next_c, flow.tanh_prime)
    dc = dnext_c + from_h if flow.keep_dnext_c else from_h
    local = {"i": dc * gate["g"], "f": dc * c, "o": dnext_h * np.tanh(next_c)}
    dpre = {k: local[k] * _sigmoid_prime(pre[k], flow.sigmoid_prime) for k in local}
    dpre["g"] = dc * gate["i"] * (1.0 - gate["g"] ** 2)
    da = np.concatenate([dpre[k] for k in flow.order], axis=1)
    return {
        "dx": da @ wx.T,
        "dprev_h": da @ wh.T,
        "dprev_c": dc * gate["f"] if flow.forget_in_dprev_c else dc,
        **_weight_grads(x, h, da),
    }


def lstm_states(
    x: Array, h0: Array, wx: Array, wh: Array, b: Array, order: str = _GATES
) -> tuple[Array, Array]:
    """The hidden states and the cell states (N, T, H) of an LSTM over x from h0, c0 = 0."""
    shape = (x.shape[0], x.shape[1], h0.shape[1])
    h, c = np.empty(shape), np.empty(shape)
    prev_h, prev_c = h0, np.zeros_like(h0)
    for t in range(x.shape[1]):
        prev_h, prev_c = lstm_step(x[:, t], prev_h, prev_c, wx, wh, b, order)
        h[:, t], c[:, t] = prev_h, prev_c
    return h, c


def lstm_grads(
    x: Array, h0: Array, wx: Array, wh: Array, b: Array, dh: Array, flow: Flow = RIGHT
) -> dict[str, Array]:
    """dx, dh0, dWx, dWh, db of a whole sequence (c0 = 0 gets no gradient)."""
    steps = x.shape[1]
    h, c = lstm_states(x, h0, wx, wh, b, flow.order)
    zeros = np.zeros_like(h0)
    prev_h = [h0, *(h[:, t] for t in range(steps - 1))]
    prev_c = [zeros, *(c[:, t] for t in range(steps - 1))]
    dx = np.zeros_like(x)
    total: dict[str, Array] = {}
    carried_h, carried_c = zeros, zeros
    step: dict[str, Array] = {}
    for t in reversed(range(steps)):
        upstream = dh[:, t] if flow.add_upstream or t == steps - 1 else 0.0
        values = (x[:, t], prev_h[t], prev_c[t], wx, wh, b)
        step = lstm_step_grads(values, upstream + carried_h, carried_c, flow)
        dx[:, t] = step["dx"]
        carried_h = step["dprev_h"] if flow.carry_h else zeros
        carried_c = step["dprev_c"] if flow.carry_c else zeros
        _accumulate(total, step, flow)
    return {"dx": dx, "dh0": step["dprev_h"], **total}
