"""Cross-check the NumPy core against the independent torch and JAX references.

Every activation × loss × dtype runs on a small fixed network through both engines, and every
comparison goes through :func:`assert_matches_core` and so the shared
``tests.helpers.assert_outputs_match``, which names the pass, the tensor and the worst entry
when it fails. An engine that is not installed skips its tests.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from gradcheck.errors import UnknownNameError
from gradcheck.nn.activations import ACTIVATIONS
from gradcheck.nn.losses import LOSSES
from gradcheck.nn.network import loss_and_grads as core_loss_and_grads
from gradcheck.nn.spec import NetworkSpec
from gradcheck.numeric.steps import tolerance_for
from tests.helpers import assert_outputs_match, reference_tolerance

pytestmark = pytest.mark.reference

ENGINES = ("torch", "jax")
DTYPES = ("float64", "float32")
# Registry names (so a new entry adds tests) plus parameters away from their defaults.
ACTIVATION_NAMES = [*sorted(ACTIVATIONS), "leaky_relu(slope=0.2)", "elu(alpha=0.5)"]
# Label losses run twice: integer labels and one-hot rows.
LOSS_CASES = [
    *(
        (name, form)
        for name in sorted(LOSSES)
        for form in (("labels", "onehot") if LOSSES.get(name).target == "labels" else ("dense",))
    ),
    ("huber(delta=0.5)", "dense"),
]
Case = tuple[NetworkSpec, dict[str, np.ndarray], np.ndarray, np.ndarray]


def _engine_module(engine: str) -> ModuleType:
    pytest.importorskip(engine)
    return importlib.import_module(f"reference_impls.{engine}_impl")


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> ModuleType:
    return _engine_module(request.param)


def make_case(
    hidden: str = "tanh",
    loss: str = "mse",
    form: str = "dense",
    dtype: str = "float64",
    *,
    output: str | None = None,
    reduction: str = "sum",
    seed: int = 0,
) -> Case:
    """A (3, 4, 4, 2) network with a skip on layer 2, batch 5, targets inside the loss's domain."""
    spec = NetworkSpec(
        (3, 4, 4, 2), hidden=hidden, output=output, loss=loss, reduction=reduction,
        residual=(2,), dtype=dtype,
    )  # fmt: skip
    rng = np.random.default_rng(seed)
    params = {n: rng.normal(0.0, 0.8, s).astype(dtype) for n, s in spec.param_shapes().items()}
    X = rng.normal(size=(5, 3)).astype(dtype)
    kind = spec.loss_fn.target
    if kind == "labels":
        labels = np.array([0, 1, 1, 0, 1])
        y = labels if form == "labels" else np.eye(2, dtype=dtype)[labels]
    elif kind == "probability":
        y = rng.uniform(0.05, 0.95, size=(5, 2)).astype(dtype)
    else:  # spread wide enough that huber sees both of its branches
        y = rng.normal(0.0, 1.5, size=(5, 2)).astype(dtype)
    return spec, params, X, y


def assert_matches_core(
    label: str,
    spec: NetworkSpec,
    core: tuple[float, Mapping[str, np.ndarray]],
    ref: tuple[float, Mapping[str, np.ndarray], Mapping[str, object]],
) -> None:
    """A reference's loss and gradients equal the core's, through the shared helper.

    The loss gets the shared analytic rtol alone (atol 0); the gradients get
    ``reference_tolerance``: the shared rtol and an atol of 1e-12 (float64) or 1e-5
    (float32) of the network's largest |∂L/∂θ|, tighter than the table's.
    """
    assert_outputs_match(
        label,
        core,
        ref[:2],
        dtype=spec.dtype,
        names=spec.param_names,
        engines=("ref", "core"),
        forward=tolerance_for(spec.dtype, ("analytic", "analytic")).overridden(atol=0.0),
        backward=reference_tolerance(spec.dtype),
    )


def _check(engine: ModuleType, case: Case) -> None:
    spec, params, X, y = case
    core = core_loss_and_grads(spec, params, X, y)
    assert_matches_core(f"{engine.__name__} on {spec}", spec, core, engine.loss_and_grads(*case))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("loss", "form"), LOSS_CASES, ids=[f"{n}-{f}" for n, f in LOSS_CASES])
@pytest.mark.parametrize("hidden", ACTIVATION_NAMES)
def test_reference_matches_core(
    engine: ModuleType, hidden: str, loss: str, form: str, dtype: str
) -> None:
    _check(engine, make_case(hidden, loss, form, dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("output", ACTIVATION_NAMES)
def test_output_activation_matches_core(engine: ModuleType, output: str, dtype: str) -> None:
    _check(engine, make_case("softplus", "mse", dtype=dtype, output=output, reduction="mean"))


def test_inputs_untouched_and_gradients_fresh(engine: ModuleType) -> None:
    spec, params, X, y = make_case("gelu", "softmax_ce", "labels")
    before = {n: p.copy() for n, p in params.items()}, X.copy(), y.copy()
    _, grads, _ = engine.loss_and_grads(spec, params, X, y)
    for name, p in params.items():
        np.testing.assert_array_equal(p, before[0][name])
        assert grads[name].flags.writeable
        assert not np.shares_memory(grads[name], p)
    np.testing.assert_array_equal(X, before[1])
    np.testing.assert_array_equal(y, before[2])


@pytest.mark.parametrize("planted", ["scale", "sign"])
def test_helper_catches_planted_bug(planted: str) -> None:
    spec, params, X, y = make_case("tanh", "bce_logits")
    loss, grads = core_loss_and_grads(spec, params, X, y)
    buggy = {name: g.copy() for name, g in grads.items()}
    worst = np.unravel_index(np.argmax(np.abs(buggy["W2"])), buggy["W2"].shape)
    buggy["W2"][worst] *= 1.001 if planted == "scale" else -1.0
    with pytest.raises(AssertionError, match=r"backward pass tensor W2: W2\["):
        assert_matches_core("planted", spec, (loss, grads), (loss, buggy, {}))


@pytest.mark.parametrize("engine_name", ENGINES)
def test_unknown_names_refused(engine_name: str) -> None:
    module = _engine_module(engine_name)
    make_case()  # the spec machinery itself is fine; only the reference lacks the name
    with pytest.raises(UnknownNameError, match=f"{engine_name} reference has no activation 'foo'"):
        module._activation("foo")
    with pytest.raises(UnknownNameError, match=f"{engine_name} reference has no loss 'bar'"):
        module._loss("bar(k=1)")
    with pytest.raises(UnknownNameError, match="has no parameter 'alpha'"):
        module._activation("tanh(alpha=2)")


# Precision settings ---------------------------------------------------------------------------


def _torch_nodes(torch: ModuleType) -> dict[str, object]:
    """The objects that carry torch's per-backend ``fp32_precision`` settings."""
    b = torch.backends
    nodes = {"generic": b, "cuda.matmul": b.cuda.matmul, "cudnn": b.cudnn, "mkldnn": b.mkldnn}
    for parent in ("cudnn", "mkldnn"):
        for op in ("matmul", "conv", "rnn"):
            if hasattr(getattr(b, parent), op):
                nodes[f"{parent}.{op}"] = getattr(getattr(b, parent), op)
    return {key: node for key, node in nodes.items() if hasattr(node, "fp32_precision")}


def _torch_precision_state(torch: ModuleType) -> dict[str, object]:
    """Every setting the torch reference touches, legacy and per-backend."""
    return {
        **{key: node.fp32_precision for key, node in _torch_nodes(torch).items()},  # type: ignore[attr-defined]
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "cuda.matmul.allow_tf32": torch.backends.cuda.matmul.allow_tf32,
        "cudnn.allow_tf32": torch.backends.cudnn.allow_tf32,
    }


@pytest.fixture
def torch_settings() -> Iterator[ModuleType]:
    """Torch, with the precision settings the test changes put back afterwards."""
    torch = pytest.importorskip("torch")
    precision = torch.get_float32_matmul_precision()
    cudnn = torch.backends.cudnn.allow_tf32
    nodes = {node: node.fp32_precision for node in _torch_nodes(torch).values()}  # type: ignore[attr-defined]
    yield torch
    torch.set_float32_matmul_precision(precision)
    torch.backends.cudnn.allow_tf32 = cudnn
    for node, value in nodes.items():
        node.fp32_precision = value  # type: ignore[attr-defined]


@pytest.mark.parametrize("tf32", [False, True])
def test_torch_pins_and_restores_precision(torch_settings: ModuleType, tf32: bool) -> None:
    torch = torch_settings
    torch.set_float32_matmul_precision("medium")  # distinctive: bf16 matmuls allowed
    torch.backends.cudnn.allow_tf32 = False
    before = _torch_precision_state(torch)
    module = _engine_module("torch")
    _, _, meta = module.loss_and_grads(*make_case(dtype="float32"), tf32=tf32)
    assert meta["allow_tf32"] is tf32
    assert meta["float32_matmul_precision"] == ("high" if tf32 else "highest")
    assert (meta["library"], meta["device"], meta["dtype"]) == ("torch", "cpu", "float32")
    assert meta["version"] == torch.__version__
    assert meta["num_threads"] == torch.get_num_threads()
    assert _torch_precision_state(torch) == before


@pytest.mark.parametrize("dtype", DTYPES)
def test_jax_leaves_no_global_state(dtype: str) -> None:
    jax = pytest.importorskip("jax")
    jnp = importlib.import_module("jax.numpy")
    x64, precision = jax.config.jax_enable_x64, jax.config.jax_default_matmul_precision
    module = _engine_module("jax")
    _, grads, meta = module.loss_and_grads(*make_case(dtype=dtype))
    assert meta["x64"] is (dtype == "float64")
    assert meta["matmul_precision"] == "highest"
    assert (meta["library"], meta["dtype"], meta["version"]) == ("jax", dtype, jax.__version__)
    assert all(g.dtype == np.dtype(dtype) for g in grads.values())
    assert jax.config.jax_enable_x64 == x64
    assert jax.config.jax_default_matmul_precision == precision
    assert jnp.ones(1).dtype == (jnp.float64 if x64 else jnp.float32)


def test_package_imports_no_framework() -> None:
    code = "import sys, reference_impls; sys.exit('torch' in sys.modules or 'jax' in sys.modules)"
    root = Path(__file__).resolve().parents[2]
    assert subprocess.run([sys.executable, "-c", code], cwd=root, check=False).returncode == 0
