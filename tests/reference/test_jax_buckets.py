"""The JAX reference's shape buckets: a case padded to a bucket gives the loss and gradients of
the same case run on its own shapes, to rounding, and the sweep compiles only a few programs.

Padding adds exact zeros and masked-out entries, so the only differences are the summation
order of longer dot products and sums: a few ulps of each tensor's scale.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcheck.case import Case
from gradcheck.nn.activations import ACTIVATIONS
from gradcheck.nn.losses import LOSSES
from gradcheck.nn.network import forward
from gradcheck.nn.spec import NetworkSpec
from gradcheck.numeric.rounding import term_magnitudes
from gradcheck.numeric.steps import Tolerance, machine_eps, tolerance_for
from gradcheck.strategies import cases
from tests.helpers import assert_outputs_match

pytestmark = pytest.mark.reference

pytest.importorskip("jax")

from reference_impls import jax_impl  # noqa: E402  (after the skip: it imports jax)
from reference_impls.jax_buckets import (  # noqa: E402
    Bucket,
    bucket_for,
    bucket_size,
    layer_activations,
    pad_case,
    unpad_grads,
)

CELLS = [(activation, loss) for activation in ACTIVATIONS for loss in LOSSES]
DTYPES = ("float64", "float32")

Result = tuple[float, Mapping[str, np.ndarray], Mapping[str, object]]


def rounding_tolerance(dtype: str) -> Tolerance:
    """r·ε·max(1, scale), absolute: r is the shared analytic table's ``rounding_factor`` (the
    ulps of the summed terms that two evaluation orders may differ by; 64), ε the dtype's
    machine epsilon; ``scale_floor`` 1 with the helper's ``min_scale`` 1 makes the scale the
    network's largest gradient entry (the loss's own size for the loss), at least 1."""
    ulps = tolerance_for(dtype, ("analytic", "analytic")).rounding_factor
    return Tolerance(rtol=0.0, atol=ulps * machine_eps(dtype), scale_floor=1.0)


def _run(case: Case, *, bucketed: bool) -> Result:
    return jax_impl._loss_and_grads(
        case.spec, case.params, case.X, case.y, "highest", None, bucketed=bucketed
    )


def assert_same_as_exact(case: Case) -> Result:
    """Run ``case`` bucketed and on its own shapes; assert they agree to rounding.

    Through the shared helper, with ``rounding_tolerance``: every gradient entry within
    r·ε·max(1, the case's largest gradient entry), the loss within r·ε·max(1, |L|). Not the
    entry's own size: an entry that cancels to nearly zero keeps the rounding error of the
    terms it summed, and those are of the size of the loss's derivatives with respect to the
    outputs (softmax probabilities, σ(s) − y, ...), which are O(1) even where the gradients
    are small. Plus the package's own rounding model, r·ε·M with M the magnitudes of the
    terms summed into each entry (``numeric.rounding.term_magnitudes``): two evaluation
    orders of a long gelu tail differ by more than r·ε·max(1, S) where M is larger still."""
    spec = case.spec
    got, want = _run(case, bucketed=True), _run(case, bucketed=False)
    rounding = term_magnitudes(spec, case.params, forward(spec, case.params, case.X), case.y)
    tolerance = rounding_tolerance(spec.dtype)
    assert_outputs_match(
        f"{spec} batch {case.X.shape[0]}",
        want[:2],
        got[:2],
        dtype=spec.dtype,
        names=spec.param_names,
        engines=("bucketed", "exact"),
        forward=tolerance,
        backward=tolerance,
        min_scale=1.0,
        rounding=rounding,
    )
    assert got[2]["bucket"] == str(bucket_for(spec, case.X.shape[0]))
    return got


# The compile count comes first: it starts from fresh programs.


def _run_sweep_sized_cases(rng: np.random.Generator) -> tuple[set[object], set[str]]:
    """Run 30 mse cases of the default sweep's sizes; return their shapes and outputs."""
    shapes: set[object] = set()
    outputs: set[str] = set()
    for _ in range(30):
        depth = int(rng.integers(1, 7))
        widths = tuple(int(w) for w in rng.integers(1, 17, size=depth + 1))
        skips = tuple(layer for layer in range(1, depth + 1) if widths[layer - 1] == widths[layer])
        output = str(rng.choice(sorted(ACTIVATIONS)))
        reduction = str(rng.choice(["sum", "mean"]))
        spec = NetworkSpec(widths, hidden="tanh", output=output, loss="mse", residual=skips)
        spec = spec.replace(reduction=reduction)
        batch = int(rng.integers(1, 9))
        params = {n: rng.normal(0, 0.5, s) for n, s in spec.param_shapes().items()}
        X, y = rng.normal(size=(batch, widths[0])), rng.normal(size=(batch, widths[-1]))
        _, grads, meta = jax_impl.loss_and_grads(spec, params, X, y)
        assert meta["bucket"] == "16x8x6"
        assert all(np.all(np.isfinite(g)) for g in grads.values())
        shapes.add((widths, batch))
        outputs.add(output)
    return shapes, outputs


def test_one_compilation_for_many_shapes() -> None:
    """30 cases of the default sweep's sizes (depth 1–6, widths 1–16, batch 1–8, any output
    activation, residual layers, both reductions) share one compilation, counted as XLA
    reports its backend compilations."""
    import jax.monitoring

    compiled: list[str] = []

    def count(event: str, seconds: float, **_: object) -> None:
        if event == "/jax/core/compile/backend_compile_duration":
            compiled.append(event)

    jax_impl._bucketed_program.cache_clear()
    jax.monitoring.register_event_duration_secs_listener(count)
    try:
        shapes, outputs = _run_sweep_sized_cases(np.random.default_rng(7))
    finally:
        jax.monitoring.unregister_event_duration_listener(count)
    assert len(shapes) == 30 and len(outputs) >= 5  # the cases really differ
    assert len(compiled) == 1


@pytest.mark.parametrize(("activation", "loss"), CELLS, ids=[f"{a}-{b}" for a, b in CELLS])
@settings(max_examples=3, deadline=None)
@given(data=st.data())
def test_bucketed_equals_exact(activation: str, loss: str, data: st.DataObject) -> None:
    """Every hidden activation × loss; the dtype, output activation, depth 1–6, widths 1–16,
    batch 1–8, residual layers and reduction are drawn. Each example compiles the exact path
    once (~0.3 s), which is what bounds the example count."""
    case = data.draw(cases(activations=[activation], losses=[loss], dtypes=list(DTYPES)))
    assert_same_as_exact(case)


# Edge cases -------------------------------------------------------------------------------


def _case(spec: NetworkSpec, batch: int, *, labels: bool = False, seed: int = 0) -> Case:
    rng = np.random.default_rng(seed)
    dtype = spec.np_dtype
    params = {n: rng.normal(0, 0.5, s).astype(dtype) for n, s in spec.param_shapes().items()}
    X = rng.normal(size=(batch, spec.widths[0])).astype(dtype)
    out = spec.widths[-1]
    if spec.loss_fn.target == "labels":
        y = rng.integers(0, out, size=batch)
        y = y if labels else np.eye(out, dtype=dtype)[y]
    elif spec.loss_fn.target == "probability":
        y = rng.uniform(0, 1, size=(batch, out)).astype(dtype)
    else:
        y = rng.normal(0, 1.5, size=(batch, out)).astype(dtype)
    return Case(spec, params, X, y)


# name: (spec, batch[, its bucket when not the default sweep's 16x8x6])
EDGES: dict[str, tuple[NetworkSpec, int] | tuple[NetworkSpec, int, str]] = {
    "depth 1": (NetworkSpec((3, 2), loss="mse"), 4),
    "width 1": (NetworkSpec((1, 1, 1), hidden="relu", loss="huber", residual=(1, 2)), 3),
    "batch 1": (NetworkSpec((4, 5, 3), hidden="gelu", loss="bce"), 1),
    "softmax labels": (NetworkSpec((4, 6, 6, 3), loss="softmax_ce", residual=(2,)), 5),
    "width 17": (NetworkSpec((17, 4, 2), hidden="silu", loss="bce_logits"), 8, "32x8x6"),
    "batch 9": (NetworkSpec((2, 3, 2), hidden="elu", loss="mse", reduction="mean"), 9, "16x16x6"),
    "depth 7": (NetworkSpec((2,) * 8, hidden="softplus", residual=(1, 4, 7)), 2, "16x8x12"),
    "width 300": (NetworkSpec((300, 3, 2), hidden="sigmoid", loss="mse"), 2, "512x8x6"),
    "parameters": (NetworkSpec((3, 4, 2), hidden="elu(alpha=0.5)", loss="huber(delta=0.3)"), 5),
    "output parameters": (NetworkSpec((3, 4, 2), output="leaky_relu(slope=0.2)"), 5),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("edge", list(EDGES))
def test_edge_cases(edge: str, dtype: str) -> None:
    spec, batch, *bucket = EDGES[edge]
    case = _case(spec.replace(dtype=dtype), batch, labels=edge == "softmax labels")
    meta = assert_same_as_exact(case)[2]
    assert meta["bucket"] == (bucket[0] if bucket else "16x8x6")


def test_softmax_one_hot_matches_labels() -> None:
    spec = NetworkSpec((4, 5, 3), hidden="tanh", loss="softmax_ce", reduction="mean")
    labels = _case(spec, 6, labels=True)
    one_hot = Case(spec, labels.params, labels.X, np.eye(3)[labels.y])
    got_labels, got_one_hot = assert_same_as_exact(labels), assert_same_as_exact(one_hot)
    # Explicit bounds, far tighter than the shared table's: both are one computation.
    assert_outputs_match(
        "labels vs one-hot rows",
        got_one_hot[:2],
        got_labels[:2],
        dtype=spec.dtype,
        names=spec.param_names,
        engines=("labels", "one-hot"),
        forward=Tolerance(rtol=1e-14, atol=0.0),
        backward=Tolerance(rtol=1e-13, atol=0.0),
    )


# The padding itself (pure NumPy) -----------------------------------------------------------


def test_bucket_sizes() -> None:
    assert [bucket_size(n, 16) for n in (1, 16, 17, 32, 33, 300)] == [16, 16, 32, 32, 64, 512]
    assert [bucket_size(n, 6) for n in (1, 6, 7, 13)] == [6, 6, 12, 24]
    assert bucket_for(NetworkSpec((16, 1)), 8) == Bucket(width=16, batch=8, depth=6)
    assert str(bucket_for(NetworkSpec((2, 40, 2)), 100)) == "64x128x6"


def test_padding_layout_and_unpadding() -> None:
    """Real layers last, zero elsewhere; pass-through layers I and not real; masks; and
    unpad_grads, applied to the padded parameters, gives the parameters back."""
    spec = NetworkSpec((3, 4, 4, 2), hidden="relu", output="tanh", reduction="mean", residual=(2,))
    case = _case(spec, 5)
    bucket = bucket_for(spec, 5)
    names = layer_activations(spec, bucket)
    assert names == ["identity"] * 3 + ["relu", "relu", "tanh"]
    padded = pad_case(spec, case.params, case.X, case.y, bucket, list(range(6)))
    assert padded.real.tolist() == [False] * 3 + [True] * 3
    assert padded.residual.tolist() == [False] * 4 + [True, False]
    np.testing.assert_array_equal(padded.W[0], np.eye(16))
    assert not padded.b[:3].any()
    assert padded.W[3, :4, :3].tolist() == case.params["W1"].tolist()
    assert not padded.W[3, 4:].any() and not padded.W[3, :, 3:].any()
    assert padded.rows.tolist() == [True] * 5 + [False] * 3
    assert padded.cols.tolist() == [True] * 2 + [False] * 14
    assert float(padded.divisor) == 5.0
    assert not padded.x[5:].any() and not padded.x[:, 3:].any()
    back = unpad_grads(spec, bucket, padded.W, padded.b)
    for name in spec.param_names:
        np.testing.assert_array_equal(back[name], case.params[name])
        assert back[name].flags.writeable and back[name].flags.c_contiguous
        assert not np.shares_memory(back[name], padded.W)
