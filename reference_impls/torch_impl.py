"""The torch reference: the network written with torch ops, differentiated by torch.autograd.

Nothing here comes from the NumPy core; only the spec and the name parser are shared. The
computation runs on the CPU (or the torch device asked for) in the spec's dtype, with float32
matmul precision pinned (TF32 off unless asked for) for the duration of one call; the previous
settings are restored afterwards.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping

import numpy as np
import torch
import torch.nn.functional as F

from gradcheck.nn.spec import NetworkSpec
from reference_impls._names import build

__all__ = ["loss_and_grads"]

Tensor = torch.Tensor
ActivationFn = Callable[[Tensor], Tensor]
LossFn = Callable[[Tensor, Tensor], Tensor]

_TORCH_DTYPES = {"float64": torch.float64, "float32": torch.float32}

# name -> (defaults, factory taking the filled-in parameters)
_ACTIVATIONS: dict[str, tuple[dict[str, float], Callable[..., ActivationFn]]] = {
    "identity": ({}, lambda: lambda z: z),
    "sigmoid": ({}, lambda: torch.sigmoid),
    "tanh": ({}, lambda: torch.tanh),
    "relu": ({}, lambda: F.relu),
    "leaky_relu": (
        {"slope": 0.01},
        lambda slope: lambda z: F.leaky_relu(z, negative_slope=slope),
    ),
    "elu": ({"alpha": 1.0}, lambda alpha: lambda z: F.elu(z, alpha=alpha)),
    "softplus": ({}, lambda: F.softplus),
    "gelu": ({}, lambda: lambda z: F.gelu(z, approximate="tanh")),
    "silu": ({}, lambda: F.silu),
}


def _bce(p: Tensor, y: Tensor) -> Tensor:
    # Written out on purpose: F.binary_cross_entropy clamps log(p) at -100.
    return -(y * torch.log(p) + (1 - y) * torch.log1p(-p)).sum()


def _softmax_ce(s: Tensor, y: Tensor) -> Tensor:
    """logsumexp(s) − Σ_k y_k s_k per row; y holds integer labels (B,) or one-hot rows (B, K)."""
    lse = torch.logsumexp(s, dim=1)
    picked = s.gather(1, y.unsqueeze(1)).squeeze(1) if y.ndim == 1 else (y * s).sum(dim=1)
    return (lse - picked).sum()


# Every loss returns the sum over outputs and batch; the caller applies the reduction.
_LOSSES: dict[str, tuple[dict[str, float], Callable[..., LossFn]]] = {
    "mse": ({}, lambda: lambda yhat, y: 0.5 * F.mse_loss(yhat, y, reduction="sum")),
    "bce": ({}, lambda: _bce),
    "bce_logits": (
        {},
        lambda: lambda s, y: F.binary_cross_entropy_with_logits(s, y, reduction="none").sum(),
    ),
    "softmax_ce": ({}, lambda: _softmax_ce),
    "huber": (
        {"delta": 1.0},
        lambda delta: lambda yhat, y: F.huber_loss(yhat, y, reduction="none", delta=delta).sum(),
    ),
}


def _activation(text: str) -> ActivationFn:
    """The torch function for an activation name such as ``"elu(alpha=0.5)"``."""
    return build("torch", "activation", _ACTIVATIONS, text)


def _loss(text: str) -> LossFn:
    """The torch function (summed, unreduced) for a loss name such as ``"huber(delta=0.5)"``."""
    return build("torch", "loss", _LOSSES, text)


def _fp32_precision_nodes() -> list[object]:
    """The objects carrying torch's per-backend ``fp32_precision`` setting (torch >= 2.9)."""
    b = torch.backends
    candidates = [b, b.cuda.matmul, b.cudnn, b.mkldnn]
    for parent in (b.cudnn, b.mkldnn):
        candidates += [getattr(parent, op, None) for op in ("matmul", "conv", "rnn")]
    return [node for node in candidates if node is not None and hasattr(node, "fp32_precision")]


def _readable(getter: Callable[[], object]) -> object | None:
    # The legacy getters raise once the legacy and per-backend APIs were mixed.
    try:
        return getter()
    except RuntimeError:
        return None


@contextlib.contextmanager
def _pinned_precision(tf32: bool) -> Iterator[dict[str, object]]:
    """Pin TF32 and float32 matmul precision; restore every touched setting on exit.

    The legacy setters also write torch's per-backend table (e.g. "none" becomes "ieee"), so
    that table is saved and written back entry by entry after the legacy values are restored.
    A legacy value torch refuses to report (after the caller mixed the two APIs) is not reset.
    """
    nodes = [(node, node.fp32_precision) for node in _fp32_precision_nodes()]  # type: ignore[attr-defined]
    precision = _readable(torch.get_float32_matmul_precision)
    cudnn_tf32 = _readable(lambda: torch.backends.cudnn.allow_tf32)
    try:
        torch.set_float32_matmul_precision("high" if tf32 else "highest")
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
        yield {
            "allow_tf32": bool(torch.backends.cuda.matmul.allow_tf32),
            "cudnn_allow_tf32": bool(torch.backends.cudnn.allow_tf32),
            "float32_matmul_precision": torch.get_float32_matmul_precision(),
        }
    finally:
        if precision is not None:
            torch.set_float32_matmul_precision(str(precision))
        if cudnn_tf32 is not None:
            torch.backends.cudnn.allow_tf32 = bool(cudnn_tf32)
        for node, value in nodes:
            node.fp32_precision = value  # type: ignore[attr-defined]


def _network_loss(
    spec: NetworkSpec, leaves: Mapping[str, torch.Tensor], x: torch.Tensor, target: torch.Tensor
) -> torch.Tensor:
    """L of the spec's MLP: Z⁽ˡ⁾ = A⁽ˡ⁻¹⁾W⁽ˡ⁾ᵀ + b⁽ˡ⁾, A⁽ˡ⁾ = f(Z⁽ˡ⁾) (+ A⁽ˡ⁻¹⁾ on a residual
    layer), then the loss of A⁽ᴸ⁾, divided by the batch size for the mean reduction."""
    activations = [_activation(spec.hidden)] * (spec.depth - 1) + [_activation(str(spec.output))]
    a = x
    for layer, act in enumerate(activations, start=1):
        z = F.linear(a, leaves[f"W{layer}"], leaves[f"b{layer}"])
        f = act(z)
        a = f + a if layer in spec.residual else f
    loss = _loss(spec.loss)(a, target)
    if spec.reduction == "mean":
        loss = loss / x.shape[0]
    return loss


def loss_and_grads(
    spec: NetworkSpec,
    params: Mapping[str, np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    *,
    tf32: bool = False,
    device: str = "cpu",
) -> tuple[float, dict[str, np.ndarray], dict[str, object]]:
    """L(θ) and ∂L/∂θ for validated inputs, computed by torch autograd on ``device``.

    ``params`` maps ``W1, b1, …, WL, bL`` to arrays of the spec's dtype; ``y`` is a target
    array of that dtype, or 1-d integer labels for ``softmax_ce``. Returns the loss as a
    Python float, fresh gradient arrays of the spec's dtype keyed like ``params``, and a
    meta dict recording the library, version, dtype, precision settings, device and threads.
    The caller's arrays are never modified; the torch precision settings are restored.

    ``device`` is a torch device string (``"cpu"``, ``"cuda"``, ``"cuda:1"``): every tensor is
    created there and the gradients are copied back to CPU NumPy arrays. A CUDA device on a
    machine without one raises RuntimeError before anything runs.
    """
    where = torch.device(device)
    if where.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"torch device {device!r} is not available: no CUDA device is visible")
    dtype = _TORCH_DTYPES[spec.dtype]
    # torch.tensor copies, so autograd never touches the caller's memory.
    leaves = {
        name: torch.tensor(params[name], dtype=dtype, device=where, requires_grad=True)
        for name in spec.param_names
    }
    x = torch.tensor(X, dtype=dtype, device=where)
    is_labels = y.ndim == 1 and np.issubdtype(y.dtype, np.integer)
    target = torch.tensor(y, dtype=torch.int64 if is_labels else dtype, device=where)

    with _pinned_precision(tf32) as precision, torch.enable_grad():
        loss = _network_loss(spec, leaves, x, target)
        grads = torch.autograd.grad(loss, list(leaves.values()))

    out = {name: g.detach().cpu().numpy().copy() for name, g in zip(leaves, grads, strict=True)}
    meta: dict[str, object] = {
        "library": "torch",
        "version": torch.__version__,
        "dtype": spec.dtype,
        **precision,
        "device": str(where),
        "num_threads": torch.get_num_threads(),
    }
    return float(loss.item()), out, meta
