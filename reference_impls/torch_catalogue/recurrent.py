"""torch twins of the recurrent layers, built on torch's own RNN and LSTM modules (called
with the catalogue's weights through ``torch.func.functional_call``), so that they check
the NumPy references' maths, the LSTM's gate order included, independently.

torch stacks an LSTM's gates as i, f, g, o along the rows of ``weight_ih`` (4H, D);
CS231n stacks them as i, f, o, g along the columns of Wx (D, 4H).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch.func import functional_call

from reference_impls.torch_catalogue import twin

# CS231n's gate blocks (i, f, o, g) in torch's order (i, f, g, o).
_TORCH_GATES = (0, 1, 3, 2)


def _params(v: Mapping[str, Any], suffix: str, gates: bool) -> dict[str, torch.Tensor]:
    wx, wh, b = v["Wx"].T, v["Wh"].T, v["b"]
    if gates:
        wx, wh, b = (
            torch.cat([t.chunk(4, dim=0)[k] for k in _TORCH_GATES], dim=0) for t in (wx, wh, b)
        )
    return {
        f"weight_ih{suffix}": wx,
        f"weight_hh{suffix}": wh,
        f"bias_ih{suffix}": b,
        f"bias_hh{suffix}": torch.zeros_like(b),
    }


def _module(kind: type[torch.nn.Module], v: Mapping[str, Any]) -> torch.nn.Module:
    d, h = v["Wx"].shape[0], v["Wh"].shape[0]
    return kind(d, h, dtype=torch.float64)


@twin("rnn_step")
def _rnn_step(v: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    cell = _module(torch.nn.RNNCell, v)
    return {"next_h": functional_call(cell, _params(v, "", False), (v["x"], v["prev_h"]))}


@twin("rnn")
def _rnn(v: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    net = _module(torch.nn.RNN, v)
    net.batch_first = True
    h, _ = functional_call(net, _params(v, "_l0", False), (v["x"], v["h0"][None]))
    return {"h": h}


@twin("lstm_step")
def _lstm_step(v: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    cell = _module(torch.nn.LSTMCell, v)
    state = (v["prev_h"], v["prev_c"])
    next_h, next_c = functional_call(cell, _params(v, "", True), (v["x"], state))
    return {"next_h": next_h, "next_c": next_c}


@twin("lstm")
def _lstm(v: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    net = _module(torch.nn.LSTM, v)
    net.batch_first = True
    state = (v["h0"][None], torch.zeros_like(v["h0"])[None])
    h, _ = functional_call(net, _params(v, "_l0", True), (v["x"], state))
    return {"h": h}


twin("word_embedding")(lambda v: {"out": F.embedding(v["x"], v["W"])})
twin("temporal_affine")(lambda v: {"out": F.linear(v["x"], v["w"].T, v["b"])})


@twin("temporal_softmax_loss")
def _temporal_softmax_loss(v: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    x, y = v["x"], v["y"]
    each = F.cross_entropy(x.reshape(-1, x.shape[-1]), y.reshape(-1), reduction="none")
    return {"loss": (each * v["mask"].reshape(-1)).sum() / x.shape[0]}
