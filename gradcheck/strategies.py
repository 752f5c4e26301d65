"""Hypothesis strategies for networks, parameters, batches and whole cases.

Every strategy takes keyword-only bounds, checks them before drawing anything, and is built
from smaller strategies, so users can compose them in their own tests::

    from hypothesis import given
    from gradcheck.strategies import cases

    @given(cases(activations=["relu"], losses=["softmax_ce"], max_depth=3))
    def test_my_backprop(case): ...

Values are drawn inside each loss's domain: probabilities in [0, 1] for the BCE losses,
integer labels or one-hot rows for softmax cross-entropy, and predictions of ``bce`` kept
clear of 0 and 1 so that the loss and its finite differences stay finite.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.extra.numpy import arrays

from gradcheck.case import Case
from gradcheck.errors import DomainError, NonFiniteError
from gradcheck.nn.activations import ACTIVATIONS
from gradcheck.nn.losses import LOSSES, REDUCTIONS
from gradcheck.nn.network import forward, output_loss
from gradcheck.nn.spec import DTYPES, NetworkSpec
from gradcheck.numeric.blas import blas_errstate
from gradcheck.numeric.steps import KINK_MARGIN, PROBABILITY_MARGIN

__all__ = [
    "KINK_MARGIN",
    "KINK_POLICIES",
    "KinkPolicy",
    "batches",
    "cases",
    "network_specs",
    "parameters",
    "targets",
]


def _check_range(name: str, low: int, high: int, minimum: int) -> None:
    if low < minimum:
        raise InvalidArgument(f"min_{name}={low} must be at least {minimum}")
    if high < low:
        raise InvalidArgument(f"max_{name}={high} must be at least min_{name}={low}")


def _names(kind: str, registry: Iterable[str], chosen: Sequence[str] | None) -> list[str]:
    from gradcheck.registry import Registry

    assert isinstance(registry, Registry)
    names = list(registry) if chosen is None else [registry.canonical(n) for n in chosen]
    if not names:
        raise InvalidArgument(f"{kind} must name at least one entry")
    return names


def _floats(dtype: str, low: float, high: float) -> st.SearchStrategy[float]:
    # Bounds are rounded inwards to the dtype, as Hypothesis requires for width 32.
    cast = np.dtype(dtype).type
    low32, high32 = float(cast(low)), float(cast(high))
    low = low32 if low32 >= low else float(np.nextafter(cast(low), cast(np.inf)))
    high = high32 if high32 <= high else float(np.nextafter(cast(high), cast(-np.inf)))
    return st.floats(
        low,
        high,
        width=32 if dtype == "float32" else 64,
        allow_nan=False,
        allow_infinity=False,
        allow_subnormal=False,
    )


def _fitting_outputs(loss_name: str, output_activations: list[str] | None) -> list[str]:
    """The output activations whose range lies inside the loss's domain, the loss's usual
    output first (so that failures shrink towards it)."""
    lo, hi = LOSSES.get(loss_name).output_range
    fits = [
        name
        for name in (output_activations or list(ACTIVATIONS))
        if lo <= ACTIVATIONS.get(name).output_range[0]
        and ACTIVATIONS.get(name).output_range[1] <= hi
    ]
    if not fits:
        raise InvalidArgument(
            f"no output activation in {output_activations} suits loss {loss_name}"
        )
    default = ACTIVATIONS.canonical(LOSSES.get(loss_name).default_output)
    fits.sort(key=lambda name: name != default)
    return fits


def _draw_widths(
    draw: st.DrawFn, depth: int, widths: tuple[int, int], labels: bool, output: int | None
) -> tuple[int, ...]:
    """n₀ … n_depth; hidden widths (and n₀) are often equal, so that residual layers get
    drawn; ``labels`` outputs have at least 2 classes; ``output`` fixes n_depth."""
    shared = draw(st.integers(*widths))
    hidden = [draw(st.one_of(st.just(shared), st.integers(*widths))) for _ in range(depth - 1)]
    inputs = draw(st.one_of(st.just(shared), st.integers(*widths)))
    min_out = 2 if labels else widths[0]
    out = output or draw(st.integers(max(min_out, widths[0]), max(min_out, widths[1])))
    return (inputs, *hidden, out)


def _draw_residual(
    draw: st.DrawFn, all_widths: tuple[int, ...], bounded_output: bool
) -> tuple[int, ...]:
    """Layers with a skip connection, among those whose input and output widths agree (not
    the last one when the output is bounded: a skip would push it out of its range)."""
    depth = len(all_widths) - 1
    skips: list[int] = []
    for layer in range(1, depth + 1):
        equal = all_widths[layer - 1] == all_widths[layer]
        if equal and not (bounded_output and layer == depth) and draw(st.booleans()):
            skips.append(layer)
    return tuple(skips)


@st.composite
def _spec(
    draw: st.DrawFn,
    *,
    depths: tuple[int, int],
    widths: tuple[int, int],
    activations: list[str],
    output_activations: list[str] | None,
    losses: list[str],
    reductions: list[str],
    residual: bool,
    dtypes: list[str],
    output_width: int | None,
) -> NetworkSpec:
    loss_name = draw(st.sampled_from(losses))
    loss = LOSSES.get(loss_name)
    fits = _fitting_outputs(loss_name, output_activations)
    depth = draw(st.integers(*depths))
    all_widths = _draw_widths(draw, depth, widths, loss.target == "labels", output_width)
    bounded_output = loss.output_range != (-math.inf, math.inf)
    skips = _draw_residual(draw, all_widths, bounded_output) if residual else ()
    return NetworkSpec(
        all_widths,
        hidden=draw(st.sampled_from(activations)),
        output=draw(st.sampled_from(fits)),
        loss=loss_name,
        reduction=draw(st.sampled_from(reductions)),
        residual=skips,
        dtype=draw(st.sampled_from(dtypes)),
    )


def network_specs(
    *,
    min_depth: int = 1,
    max_depth: int = 6,
    min_width: int = 1,
    max_width: int = 16,
    activations: Sequence[str] | None = None,
    output_activations: Sequence[str] | None = None,
    losses: Sequence[str] | None = None,
    reductions: Sequence[str] = REDUCTIONS,
    residual: bool = True,
    dtypes: Sequence[str] = ("float64",),
    output_width: int | None = None,
) -> st.SearchStrategy[NetworkSpec]:
    """Dense networks. ``activations`` are the hidden ones (default: every registered one);
    the output activation is drawn among ``output_activations`` that fit the loss;
    ``output_width`` fixes the number of output units (one sigmoid unit for a binary
    classifier), which the width bounds otherwise draw."""
    _check_range("depth", min_depth, max_depth, 1)
    _check_range("width", min_width, max_width, 1)
    if output_width is not None and (isinstance(output_width, bool) or output_width < 1):
        raise InvalidArgument(f"output_width must be a positive integer, not {output_width!r}")
    losses_ = _names("losses", LOSSES, losses)
    if output_width == 1 and any(LOSSES.get(n).target == "labels" for n in losses_):
        raise InvalidArgument("softmax_ce needs output_width >= 2 for its output classes")
    if max_width < 2 and any(LOSSES.get(n).target == "labels" for n in losses_):
        raise InvalidArgument("softmax_ce needs max_width >= 2 for its output classes")
    bad = [r for r in reductions if r not in REDUCTIONS] or [d for d in dtypes if d not in DTYPES]
    if bad or not reductions or not dtypes:
        raise InvalidArgument(
            f"unknown reduction or dtype {bad} (reductions {REDUCTIONS}, dtypes {DTYPES})"
        )
    return _spec(
        depths=(min_depth, max_depth),
        widths=(min_width, max_width),
        activations=_names("activations", ACTIVATIONS, activations),
        output_activations=None
        if output_activations is None
        else _names("output_activations", ACTIVATIONS, output_activations),
        losses=losses_,
        reductions=list(reductions),
        residual=residual,
        dtypes=list(dtypes),
        output_width=output_width,
    )


def parameters(
    spec: NetworkSpec, *, weight_bound: float = 2.0, bias_bound: float = 1.0
) -> st.SearchStrategy[dict[str, np.ndarray]]:
    """``{"W1": …, "b1": …}``; W⁽ˡ⁾ entries lie in ±weight_bound/√n_{l−1} (Glorot-like, so deep
    networks neither explode nor saturate), biases in ±bias_bound. Exact zeros are allowed."""
    if not (weight_bound > 0 and bias_bound >= 0):
        raise InvalidArgument("weight_bound must be positive and bias_bound non-negative")
    fields = {}
    for name, shape in spec.param_shapes().items():
        bound = weight_bound / math.sqrt(shape[1]) if name.startswith("W") else bias_bound
        fields[name] = arrays(spec.dtype, shape, elements=_floats(spec.dtype, -bound, bound))
    return st.fixed_dictionaries(fields)


def batches(spec: NetworkSpec, batch: int, *, bound: float = 3.0) -> st.SearchStrategy[np.ndarray]:
    """Inputs X of shape (batch, n₀) in ±bound (beyond ±1 on purpose)."""
    if batch < 1 or bound <= 0:
        raise InvalidArgument(f"batch={batch} must be >= 1 and bound={bound} positive")
    return arrays(spec.dtype, (batch, spec.widths[0]), elements=_floats(spec.dtype, -bound, bound))


def targets(spec: NetworkSpec, batch: int) -> st.SearchStrategy[np.ndarray]:
    """Targets inside the loss's domain."""
    loss, out = spec.loss_fn, spec.widths[-1]
    if loss.target == "labels":
        labels = arrays(np.int64, (batch,), elements=st.integers(0, out - 1))
        one_hot = labels.map(lambda y: np.eye(out, dtype=spec.dtype)[y])
        return st.one_of(labels, one_hot)
    low = 0.0 if loss.target == "probability" else -3.0
    high = 1.0 if loss.target == "probability" else 3.0
    return arrays(spec.dtype, (batch, out), elements=_floats(spec.dtype, low, high))


KinkPolicy = Literal["avoid", "allow", "aim"]
KINK_POLICIES: tuple[KinkPolicy, ...] = ("avoid", "allow", "aim")
# KINK_MARGIN (``numeric.steps``): how far, relative to max(1, |kink|), "avoid" keeps every
# pre-activation from a kink. It is re-exported here for users of the strategies.


def _steer_kinks(
    draw: st.DrawFn, spec: NetworkSpec, params: dict[str, np.ndarray], X: np.ndarray, policy: str
) -> dict[str, np.ndarray]:
    """Move biases, layer by layer, so that pre-activations keep clear of kinks ("avoid") or
    some sit exactly on one ("aim"); "allow" leaves the draw alone.

    To avoid: a unit whose pre-activations come within KINK_MARGIN of a kink has its bias
    shifted by the smallest multiple of 2·margin that clears every row of the batch. To aim:
    for drawn units (at least one per layer), the bias is set to kink − (A·Wᵀ)[r, i] for a
    drawn row r, so that z[r, i] = fl(fl(A·Wᵀ)[r, i] + b_i) is the kink exactly (for the
    kink at 0 that the built-in activations have, the sum is exact).
    """
    if policy == "allow":
        return params
    params = dict(params)
    a = X
    for layer in range(1, spec.depth + 1):
        kinks = spec.activation(layer).kinks
        W, b = params[f"W{layer}"], params[f"b{layer}"].copy()
        with blas_errstate():
            s = a @ W.T
        for kink in kinks:
            if policy == "aim":
                units = draw(arrays(np.bool_, b.shape))
                units[draw(st.integers(0, b.size - 1))] = True  # at least one per layer
                row = draw(st.integers(0, s.shape[0] - 1))
                b[units] = (kink - s[row, units]).astype(b.dtype)
            else:
                for i in range(b.size):
                    b[i] = _clear(s[:, i], b[i], kink, KINK_MARGIN * max(1.0, abs(kink)))
        params[f"b{layer}"] = b
        f = spec.activation(layer).f(s + b)
        a = f + a if layer in spec.residual else f
    return params


def _clear(column: np.ndarray, bias: np.floating, kink: float, margin: float) -> np.floating:
    """The bias nearest to ``bias`` on the grid bias + 2k·margin that keeps every
    column + bias at least ``margin`` from the kink. A batch of B rows blocks at most 2B
    grid points, so one of the 4B + 1 tried always works."""
    reach = 2 * column.size
    for k in sorted(range(-reach, reach + 1), key=abs):
        candidate = bias.dtype.type(bias + 2 * k * margin)
        if np.all(np.abs((column + candidate).astype(np.float64) - kink) >= margin):
            return candidate
    return bias


@st.composite
def _case(
    draw: st.DrawFn,
    specs: st.SearchStrategy[NetworkSpec],
    batch_range: tuple[int, int],
    kinks: str,
) -> Case:
    spec = draw(specs)
    batch = draw(st.integers(*batch_range))
    X = draw(batches(spec, batch))
    params = _steer_kinks(draw, spec, draw(parameters(spec)), X, kinks)
    case = Case(spec, params, X, draw(targets(spec, batch)))
    try:
        yhat = forward(spec, case.params, case.X).output
        output_loss(spec, yhat, case.y)
    except (DomainError, NonFiniteError):
        assume(False)
    if spec.loss_fn.output_range != (-math.inf, math.inf):
        margin = PROBABILITY_MARGIN[spec.dtype]
        assume(bool(np.all((yhat > margin) & (yhat < 1 - margin))))
    return case


def cases(
    *, min_batch: int = 1, max_batch: int = 8, kinks: KinkPolicy = "avoid", **spec_bounds: object
) -> st.SearchStrategy[Case]:
    """Whole cases: a spec from :func:`network_specs` (``spec_bounds`` are its keywords),
    parameters, a batch X and targets y.

    ``kinks`` decides where pre-activations of relu-like units may lie: ``"avoid"`` (the
    default) keeps them KINK_MARGIN clear of every kink, so that finite differences can
    decide every entry; ``"aim"`` puts some exactly on a kink, to test the subgradient
    conventions on purpose; ``"allow"`` leaves Hypothesis's draw alone.
    """
    _check_range("batch", min_batch, max_batch, 1)
    if kinks not in KINK_POLICIES:
        raise InvalidArgument(f"kinks must be one of {', '.join(KINK_POLICIES)}, not {kinks!r}")
    specs = network_specs(**spec_bounds)  # type: ignore[arg-type]
    return _case(specs, (min_batch, max_batch), kinks)
