"""Inverted dropout, as in CS231n assignment 2 (2019-2024, where ``p`` is the probability
of keeping a unit; older versions had it as the probability of dropping one).

``dropout_forward(x, dropout_param)`` in train mode keeps each entry with probability p
and divides the kept ones by p; in test mode it is the identity. The reference replays the
course's mask from the seed: ``np.random.seed(seed)`` then ``np.random.rand(*x.shape) < p``.
A submission that drew a valid mask another way (``np.random.binomial``, ``>= 1 - p``) has
its own mask adopted when every entry of its output is 0, x / p (or x, so that a dropout
that forgot to divide by p is still compared, and named) and its keep rate is plausible
for p; the backward is then checked against that mask.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

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
    Sizes,
    Values,
)
from gradcheck.student.labels import Label

__all__ = ["adopt_mask", "replayed_mask"]

Array = np.ndarray
_KEEP = (0.25, 0.4, 0.7, 0.9)
# A kept fraction this unlikely under Binomial(n, p) is not a dropout mask for this p.
_PLAUSIBLE = 1e-6
_TINY = 1e-300  # below it x / p and x · (1 / p) may round apart (subnormals)
_MASK = "mask"  # where an adopted mask sits in the values


def replayed_mask(shape: tuple[int, ...], p: float, seed: int, draw: int = 0) -> Array:
    """The mask of ``np.random.seed(seed)`` then ``np.random.rand(*shape) < p``, or of the
    ``draw``-th further call of ``rand`` after it."""
    rng = np.random.RandomState(seed)
    for _ in range(draw):
        rng.rand(*shape)
    return np.asarray(rng.rand(*shape) < p)


def _mask(v: Values) -> Array:
    if _MASK in v:
        return np.asarray(v[_MASK])
    param = v["dropout_param"]
    return replayed_mask(v["x"].shape, param["p"], param["seed"])


def _forward(v: Values) -> dict[str, Array]:
    x, param = v["x"], v["dropout_param"]
    if param["mode"] == "test":
        return {"out": x.copy()}
    return {"out": x * _mask(v) / param["p"]}


def _backward(v: Values, d: Mapping[str, Array]) -> dict[str, Array]:
    param, dout = v["dropout_param"], d["dout"]
    if param["mode"] == "test":
        return {"dx": dout.copy()}
    return {"dx": dout * _mask(v) / param["p"]}


def _plausible(kept: int, n: int, p: float) -> bool:
    """Two-sided: the probability of a count no likelier than ``kept`` is above the cut."""
    pmf = [math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1)]
    return sum(q for q in pmf if q <= pmf[kept] * (1 + 1e-9)) > _PLAUSIBLE


def adopt_mask(values: Values, outputs: Mapping[str, Array]) -> Values:
    """``values`` with the submission's own train-mode mask, when its output is one: every
    entry 0 or x / p (or x, not inverted) where x ≠ 0, with a keep rate plausible for p."""
    x, param = values["x"], values["dropout_param"]
    out = np.asarray(outputs.get("out"))
    if param["mode"] != "train" or out.shape != x.shape or out.dtype.kind not in "fiub":
        return values
    out = out.astype(np.float64)
    if not np.all(np.isfinite(out)):
        return values
    p, live = param["p"], np.asarray(x != 0)
    zero = out == 0
    inverted = np.isclose(out, x / p, rtol=1e-12, atol=_TINY)
    plain = np.isclose(out, x, rtol=1e-12, atol=_TINY)
    scaled = inverted if np.any(inverted & live & ~zero) else plain
    if not np.all(np.where(live, zero | scaled, zero)):
        return values
    mask = _choose(~zero, live, p, param["seed"])
    return values if mask is None else {**values, _MASK: mask}


def _choose(kept: Array, live: Array, p: float, seed: int) -> Array | None:
    """The mask that ``kept`` shows on the entries where x ≠ 0: one the seeded course ways
    of keeping with probability p draw (``rand < p``, ``rand >= 1 - p``, ``binomial``), or
    else, filled with the replay, one that is not ``rand >= p`` (p read as the drop rate)
    and whose keep count is plausible for p. The known ways go first: on a small x
    ``rand >= 1 - p`` can equal ``rand >= p``."""
    draws = np.random.RandomState(seed).rand(*kept.shape)
    binomial = np.random.RandomState(seed).binomial(1, p, kept.shape).astype(bool)
    for known in (draws < p, draws >= 1 - p, binomial):
        if np.array_equal(known[live], kept[live]):
            return known
    if np.array_equal(kept[live], (draws >= p)[live]):
        return None
    mask = np.where(live, kept, draws < p)
    return mask if _plausible(int(mask.sum()), mask.size, p) else None


def _skip(v: Values) -> dict[str, Array]:
    """Where x is 0 an adopted mask is unknown (the output is 0 either way), unless it is
    one of the known draws: dx is not compared there."""
    if _MASK not in v or v["dropout_param"]["mode"] != "train":
        return {}
    return {"dx": np.asarray(v["x"] == 0)}


def _mutants(v: Values, d: Mapping[str, Array]) -> list[MutantTensors]:
    x, dout, param = v["x"], d["dout"], v["dropout_param"]
    p, seed = param["p"], param["seed"]
    replayed = replayed_mask(x.shape, p, seed)
    if param["mode"] == "test":
        return [
            (
                Label.WRONG_MODE,
                "the train-mode mask applied in test mode",
                {"out": x * replayed / p, "dx": dout * replayed / p},
            ),
            (
                Label.WRONG_MODE,
                "test mode scaled by p, as non-inverted dropout does",
                {"out": x * p, "dx": dout * p},
            ),
        ]
    mask, drop = _mask(v), ~replayed
    return [
        (Label.WRONG_MODE, "not inverted: kept units not divided by p", {"out": x * mask}),
        (
            Label.WRONG_FORWARD,
            "p taken as the probability of dropping: rand(...) >= p, divided by p",
            {"out": x * drop / p, "dx": dout * drop / p},
        ),
        (
            Label.WRONG_FORWARD,
            "p taken as the probability of dropping: rand(...) >= p, divided by 1 - p",
            {"out": x * drop / (1 - p), "dx": dout * drop / (1 - p)},
        ),
        (
            Label.WRONG_ROUTING,
            "the backward drew a new mask instead of using the forward's",
            {"dx": dout * replayed_mask(x.shape, p, seed, draw=1) / p},
        ),
        (Label.WRONG_ROUTING, "the backward ignored the mask: dout / p", {"dx": dout / p}),
        (Label.WRONG_ROUTING, "the backward passed dout straight through", {"dx": dout.copy()}),
        (Label.SCALED, "the backward did not divide by p", {"dx": dout * mask}),
    ]


def _dropout_param(_: Sizes) -> st.SearchStrategy[Any]:
    return st.fixed_dictionaries(
        {
            "mode": st.sampled_from(("train", "test")),
            "p": st.sampled_from(_KEEP),
            "seed": st.integers(0, 10**6),
        }
    )


register_function(
    LayerFunction(
        name="dropout",
        family="dropout",
        forward="dropout_forward",
        backward="dropout_backward",
        inputs=(Input("x", ("N", "D")),),
        outputs=(Output("out", ("N", "D")),),
        grads=("dx",),
        sizes=lambda: st.fixed_dictionaries({"N": st.integers(2, 4), "D": st.integers(3, 6)}),
        configs=(Config("dropout_param", _dropout_param),),
        reference=Reference(
            forward=_forward, backward=_backward, skip=_skip, mutants=_mutants, adopt=adopt_mask
        ),
        description="dropout_forward(x, dropout_param) -> (out, cache); "
        "dropout_backward(dout, cache) -> dx; dropout_param {'mode': 'train' | 'test', 'p', "
        "'seed'} with p the probability of KEEPING a unit (the 2019-2024 course); train mode "
        "is inverted dropout (kept units divided by p) with the mask of np.random.seed(seed) "
        "then np.random.rand(*x.shape) < p, or the submission's own valid mask; test mode "
        "is the identity",
    )
)
