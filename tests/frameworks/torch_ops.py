"""A corpus of real torch ops with small inputs, for benchmarking gradient checkers.

Each entry is a name, a function of tensors returning one tensor, and an input builder
``build(dtype, seed)``. Inputs are drawn in float64 from a seeded generator and then cast,
so the float32 point is the float64 one rounded. Domains are the ones a user would pick
(``positive`` for log, an SPD matrix for cholesky, a symmetric one for eigh, integer class
labels for the losses); nothing is tuned per op to make any checker pass. Ops with kinks
(relu, abs, max, sort, ...) are marked ``kinks=True`` and get plain Gaussian inputs, which
sit on a kink with probability 0.

    from tests.frameworks.torch_ops import OPS
    op = OPS["softmax"]
    inputs = op.build(torch.float64, 0)
    op.fn(*inputs)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

__all__ = [
    "OPS",
    "Builder",
    "Part",
    "TorchOp",
    "build",
    "fixed",
    "labels",
    "lower_triangular",
    "mask",
    "normal",
    "positive",
    "spd",
    "symmetric",
    "uniform",
    "well_conditioned",
]

Part = Callable[[torch.Generator, torch.dtype], Any]
Builder = Callable[[torch.dtype, int], tuple[Any, ...]]


@dataclass(frozen=True)
class TorchOp:
    """``fn(*build(dtype, seed))`` is one tensor; the floating inputs that require grad are
    the ones checked. ``kinks`` marks ops that are not differentiable everywhere."""

    name: str
    fn: Callable[..., torch.Tensor]
    build: Builder
    kinks: bool = False


# -- input parts: each draws one argument from the shared generator ------------------------


def _leaf(t: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    return t.to(dtype).requires_grad_()


def normal(*shape: int, scale: float = 1.0) -> Part:
    """Standard Gaussian entries times ``scale``."""
    return lambda g, d: _leaf(torch.randn(shape, generator=g, dtype=torch.float64) * scale, d)


def uniform(*shape: int, low: float, high: float) -> Part:
    """Uniform entries on (low, high)."""

    def part(g: torch.Generator, d: torch.dtype) -> torch.Tensor:
        u = torch.rand(shape, generator=g, dtype=torch.float64)
        return _leaf(low + (high - low) * u, d)

    return part


def positive(*shape: int) -> Part:
    """Uniform on (0.5, 2): the domain of log, sqrt, reciprocal, lgamma."""
    return uniform(*shape, low=0.5, high=2.0)


def spd(n: int) -> Part:
    """A Aᵀ + n·I for Gaussian A: symmetric positive definite."""

    def part(g: torch.Generator, d: torch.dtype) -> torch.Tensor:
        a = torch.randn(n, n, generator=g, dtype=torch.float64)
        return _leaf(a @ a.T + n * torch.eye(n, dtype=torch.float64), d)

    return part


def symmetric(n: int) -> Part:
    """(A + Aᵀ)/2 for Gaussian A: distinct eigenvalues with probability 1."""

    def part(g: torch.Generator, d: torch.dtype) -> torch.Tensor:
        a = torch.randn(n, n, generator=g, dtype=torch.float64)
        return _leaf((a + a.T) / 2, d)

    return part


def well_conditioned(n: int) -> Part:
    """A Gaussian matrix plus n·I, so that inverse, determinant and solve are tame."""

    def part(g: torch.Generator, d: torch.dtype) -> torch.Tensor:
        a = torch.randn(n, n, generator=g, dtype=torch.float64)
        return _leaf(a + n * torch.eye(n, dtype=torch.float64), d)

    return part


def lower_triangular(n: int) -> Part:
    """The lower triangle of a Gaussian matrix plus n·I."""

    def part(g: torch.Generator, d: torch.dtype) -> torch.Tensor:
        a = torch.randn(n, n, generator=g, dtype=torch.float64).tril()
        return _leaf(a + n * torch.eye(n, dtype=torch.float64), d)

    return part


def labels(n: int, classes: int) -> Part:
    """Integer class labels (int64, not checked)."""
    return lambda g, d: torch.randint(0, classes, (n,), generator=g)


def mask(*shape: int) -> Part:
    """A random boolean mask (not checked)."""
    return lambda g, d: torch.rand(shape, generator=g) > 0.5


def fixed(*shape: int, low: float, high: float) -> Part:
    """Uniform floats on (low, high) in the input dtype that are not checked (targets)."""

    def part(g: torch.Generator, d: torch.dtype) -> torch.Tensor:
        u = torch.rand(shape, generator=g, dtype=torch.float64)
        return (low + (high - low) * u).to(d)

    return part


def build(*parts: Part) -> Builder:
    """The builder drawing ``parts`` in order from one generator seeded by ``seed``."""

    def builder(dtype: torch.dtype, seed: int) -> tuple[Any, ...]:
        g = torch.Generator().manual_seed(seed)
        return tuple(p(g, dtype) for p in parts)

    return builder


# -- the corpus ------------------------------------------------------------------------------

_ALL: list[TorchOp] = []


def _op(name: str, fn: Callable[..., torch.Tensor], *parts: Part, kinks: bool = False) -> None:
    _ALL.append(TorchOp(name, fn, build(*parts), kinks))


def _idx(*values: int) -> torch.Tensor:
    return torch.tensor(values)


def _sym(a: torch.Tensor) -> torch.Tensor:
    # eigh and cholesky read one triangle, while their backward returns a symmetric
    # gradient: the function of a full matrix that matches it is f((A + Aᵀ)/2), as torch's
    # own tests check these ops (gradcheck_wrapper_hermitian_input).
    return (a + a.mT) / 2


X = normal(3, 4)
P = positive(3, 4)
U = uniform(3, 4, low=-0.9, high=0.9)

# elementwise math
_op("sin", torch.sin, X)
_op("cos", torch.cos, X)
_op("tan", torch.tan, U)
_op("exp", torch.exp, X)
_op("expm1", torch.expm1, X)
_op("log", torch.log, P)
_op("log1p", torch.log1p, P)
_op("log2", torch.log2, P)
_op("log10", torch.log10, P)
_op("sqrt", torch.sqrt, P)
_op("rsqrt", torch.rsqrt, P)
_op("reciprocal", torch.reciprocal, P)
_op("tanh", torch.tanh, X)
_op("sigmoid", torch.sigmoid, X)
_op("erf", torch.erf, X)
_op("erfc", torch.erfc, X)
_op("erfinv", torch.erfinv, U)
_op("asin", torch.asin, U)
_op("acos", torch.acos, U)
_op("atan", torch.atan, X)
_op("sinh", torch.sinh, X)
_op("cosh", torch.cosh, X)
_op("asinh", torch.asinh, X)
_op("acosh", torch.acosh, uniform(3, 4, low=1.5, high=3.0))
_op("atanh", torch.atanh, U)
_op("lgamma", torch.lgamma, P)
_op("digamma", torch.digamma, P)
_op("sinc", torch.sinc, X)
_op("logit", torch.logit, uniform(3, 4, low=0.1, high=0.9))
_op("square", torch.square, X)
_op("pow_scalar", lambda x: x**3, X)
_op("pow_tensor", torch.pow, P, X)
_op("atan2", torch.atan2, X, X)
_op("hypot", torch.hypot, X, X)
_op("mul", torch.mul, X, X)
_op("div", torch.div, X, P)
_op("add_alpha", lambda x, y: torch.add(x, y, alpha=0.5), X, X)
_op("lerp", torch.lerp, X, X, uniform(3, 4, low=0.0, high=1.0))
_op("addcmul", lambda a, b, c: torch.addcmul(a, b, c, value=0.3), X, X, X)
_op("addcdiv", lambda a, b, c: torch.addcdiv(a, b, c, value=0.3), X, X, P)
_op("xlogy", torch.xlogy, X, P)
_op("softplus", F.softplus, X)
_op("gelu", F.gelu, X)
_op("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), X)
_op("silu", F.silu, X)
_op("mish", F.mish, X)
_op("elu", F.elu, X)
_op("selu", F.selu, X)
_op("celu", F.celu, X)
_op("softsign", F.softsign, X)
_op("logsigmoid", F.logsigmoid, X)
_op("tanhshrink", F.tanhshrink, X)
_op("relu", F.relu, X, kinks=True)
_op("leaky_relu", F.leaky_relu, X, kinks=True)
_op("hardswish", F.hardswish, normal(3, 4, scale=3.0), kinks=True)
_op("hardtanh", F.hardtanh, normal(3, 4, scale=2.0), kinks=True)
_op("relu6", F.relu6, normal(3, 4, scale=4.0), kinks=True)
_op("abs", torch.abs, X, kinks=True)
_op("clamp", lambda x: torch.clamp(x, -0.5, 0.5), X, kinks=True)
_op("maximum", torch.maximum, X, X, kinks=True)
_op("minimum", torch.minimum, X, X, kinks=True)
_op("prelu", F.prelu, X, normal(1), kinks=True)

# reductions
_op("sum", torch.sum, X)
_op("sum_dim", lambda x: x.sum(dim=1), X)
_op("mean", torch.mean, X)
_op("mean_dims", lambda x: x.mean(dim=(0, 2)), normal(2, 3, 4))
_op("prod", lambda x: x.prod(dim=1), X)
_op("var", torch.var, X)
_op("var_biased", lambda x: x.var(dim=0, unbiased=False), X)
_op("std", lambda x: x.std(dim=1), X)
_op("logsumexp", lambda x: torch.logsumexp(x, dim=1), X)
_op("norm", torch.norm, X)
_op("vector_norm_3", lambda x: torch.linalg.vector_norm(x, ord=3, dim=1), X)
_op("cumsum", lambda x: torch.cumsum(x, dim=1), X)
_op("cumprod", lambda x: torch.cumprod(x, dim=1), X)
_op("logcumsumexp", lambda x: torch.logcumsumexp(x, dim=1), X)
_op("amax", lambda x: torch.amax(x, dim=1), X, kinks=True)
_op("max", torch.max, X, kinks=True)
_op("min_dim", lambda x: torch.min(x, dim=0).values, X, kinks=True)
_op("median", lambda x: torch.median(x, dim=1).values, normal(3, 5), kinks=True)

# products
_op("matmul", torch.matmul, X, normal(4, 2))
_op("mm", torch.mm, normal(2, 3), normal(3, 4))
_op("bmm", torch.bmm, normal(2, 2, 3), normal(2, 3, 2))
_op("einsum_ij_jk", lambda a, b: torch.einsum("ij,jk->ik", a, b), normal(2, 3), normal(3, 2))
_op(
    "einsum_batch",
    lambda a, b: torch.einsum("bij,bkj->bik", a, b),
    normal(2, 2, 3),
    normal(2, 2, 3),
)
_op("einsum_trace", lambda a: torch.einsum("ii->", a), normal(4, 4))
_op("outer", torch.outer, normal(3), normal(4))
_op("dot", torch.dot, normal(5), normal(5))
_op("addmm", torch.addmm, normal(2, 2), normal(2, 3), normal(3, 2))
_op("baddbmm", torch.baddbmm, normal(2, 2, 2), normal(2, 2, 3), normal(2, 3, 2))
_op("kron", torch.kron, normal(2, 2), normal(2, 3))
_op(
    "tensordot",
    lambda a, b: torch.tensordot(a, b, dims=([1, 2], [0, 1])),
    normal(2, 2, 3),
    normal(2, 3, 2),
)
_op("linear", F.linear, normal(3, 4), normal(2, 4), normal(2))
_op("bilinear", F.bilinear, normal(2, 3), normal(2, 2), normal(2, 3, 2), normal(2))

# torch.nn.functional
_op("softmax", lambda x: F.softmax(x, dim=1), X)
_op("log_softmax", lambda x: F.log_softmax(x, dim=1), X)
_op("softmin", lambda x: F.softmin(x, dim=1), X)
_op("layer_norm", lambda x, w, b: F.layer_norm(x, (4,), w, b), X, normal(4), normal(4))
_op("group_norm", lambda x, w, b: F.group_norm(x, 2, w, b), normal(2, 4, 3), normal(4), normal(4))
_op(
    "batch_norm",
    lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
    normal(5, 3),
    normal(3),
    normal(3),
)
_op("instance_norm", F.instance_norm, normal(2, 2, 5))
_op("rms_norm", lambda x, w: F.rms_norm(x, (4,), w), X, normal(4))
_op("local_response_norm", lambda x: F.local_response_norm(x, 2), normal(1, 4, 3))
_op("normalize", lambda x: F.normalize(x, dim=1), X)
_op("conv1d", F.conv1d, normal(1, 2, 6), normal(3, 2, 3), normal(3))
_op("conv2d", F.conv2d, normal(1, 1, 4, 4), normal(2, 1, 2, 2), normal(2))
_op(
    "conv2d_stride_pad",
    lambda x, w: F.conv2d(x, w, stride=2, padding=1),
    normal(1, 2, 4, 4),
    normal(1, 2, 3, 3),
)
_op("conv_transpose1d", F.conv_transpose1d, normal(1, 2, 4), normal(2, 1, 3))
_op(
    "conv_transpose2d",
    lambda x, w: F.conv_transpose2d(x, w, stride=2),
    normal(1, 1, 3, 3),
    normal(1, 1, 2, 2),
)
_op("max_pool1d", lambda x: F.max_pool1d(x, 2), normal(1, 2, 6), kinks=True)
_op("max_pool2d", lambda x: F.max_pool2d(x, 2), normal(1, 1, 4, 4), kinks=True)
_op("avg_pool1d", lambda x: F.avg_pool1d(x, 3, stride=1), normal(1, 2, 6))
_op("avg_pool2d", lambda x: F.avg_pool2d(x, 2), normal(1, 1, 4, 4))
_op("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (2, 3)), normal(1, 1, 4, 5))
_op(
    "interpolate_bilinear",
    lambda x: F.interpolate(x, scale_factor=2, mode="bilinear"),
    normal(1, 1, 2, 3),
)
_op(
    "interpolate_nearest",
    lambda x: F.interpolate(x, size=(3, 5), mode="nearest"),
    normal(1, 1, 2, 3),
)
_op(
    "interpolate_linear",
    lambda x: F.interpolate(x, size=7, mode="linear", align_corners=True),
    normal(1, 2, 4),
)
_op("pixel_shuffle", lambda x: F.pixel_shuffle(x, 2), normal(1, 4, 2, 2))
_op("pad_constant", lambda x: F.pad(x, (1, 2), value=0.5), X)
_op("pad_reflect", lambda x: F.pad(x, (2, 1), mode="reflect"), normal(1, 2, 4))
_op("pad_replicate", lambda x: F.pad(x, (1, 1, 1, 1), mode="replicate"), normal(1, 1, 3, 3))
_op("unfold", lambda x: F.unfold(x, 2), normal(1, 2, 3, 3))
_op("fold", lambda x: F.fold(x, (3, 3), 2), normal(1, 8, 4))
_op("glu", lambda x: F.glu(x, dim=1), X)
_op("cosine_similarity", F.cosine_similarity, X, X)
_op("pairwise_distance", F.pairwise_distance, X, X)
_op("cross_entropy", F.cross_entropy, normal(5, 4), labels(5, 4))
_op(
    "cross_entropy_smoothing",
    lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1),
    normal(5, 4),
    labels(5, 4),
)
_op("nll_loss", lambda x, t: F.nll_loss(F.log_softmax(x, dim=1), t), normal(5, 4), labels(5, 4))
_op("mse_loss", F.mse_loss, X, X)
_op("smooth_l1_loss", F.smooth_l1_loss, X, X, kinks=True)
_op("huber_loss", lambda x, y: F.huber_loss(x, y, delta=0.5), X, X, kinks=True)
_op("l1_loss", F.l1_loss, X, X, kinks=True)
_op(
    "binary_cross_entropy",
    F.binary_cross_entropy,
    uniform(3, 4, low=0.1, high=0.9),
    fixed(3, 4, low=0.0, high=1.0),
)
_op("bce_with_logits", F.binary_cross_entropy_with_logits, X, fixed(3, 4, low=0.0, high=1.0))
_op(
    "kl_div",
    lambda x, t: F.kl_div(F.log_softmax(x, dim=1), t, reduction="batchmean"),
    X,
    fixed(3, 4, low=0.1, high=1.0),
)
_op("poisson_nll_loss", F.poisson_nll_loss, X, fixed(3, 4, low=0.0, high=3.0))
_op("gaussian_nll_loss", F.gaussian_nll_loss, X, X, P)
_op(
    "margin_ranking_loss",
    lambda a, b: F.margin_ranking_loss(a, b, torch.tensor([1.0, -1.0, 1.0, -1.0], dtype=a.dtype)),
    normal(4),
    normal(4),
    kinks=True,
)
_op("triplet_margin_loss", F.triplet_margin_loss, X, X, X, kinks=True)
_op("embedding", lambda w: F.embedding(_idx(0, 3, 1, 3, 4), w), normal(5, 3))
_op(
    "scaled_dot_product_attention",
    F.scaled_dot_product_attention,
    normal(1, 3, 2),
    normal(1, 4, 2),
    normal(1, 4, 2),
)

# torch.linalg
A = well_conditioned(3)
_op("inv", torch.linalg.inv, A)
_op("det", torch.linalg.det, A)
_op("slogdet", lambda a: torch.linalg.slogdet(a).logabsdet, A)
_op("solve", torch.linalg.solve, A, normal(3, 2))
_op("cholesky", lambda a: torch.linalg.cholesky(_sym(a)), spd(3))
_op("qr", lambda a: torch.cat([t.reshape(-1) for t in torch.linalg.qr(a)]), normal(4, 3))
_op("eigh_values", lambda a: torch.linalg.eigh(_sym(a)).eigenvalues, symmetric(4))
_op("eigh_vectors_squared", lambda a: torch.linalg.eigh(_sym(a)).eigenvectors ** 2, symmetric(3))
_op("eigvalsh", lambda a: torch.linalg.eigvalsh(_sym(a)), symmetric(4))
_op("svdvals", torch.linalg.svdvals, normal(4, 3))
_op("matrix_norm_fro", torch.linalg.matrix_norm, normal(3, 4))
_op("matrix_norm_nuc", lambda a: torch.linalg.matrix_norm(a, ord="nuc"), normal(3, 4))
_op("matrix_norm_2", lambda a: torch.linalg.matrix_norm(a, ord=2), normal(3, 4))
_op("pinv", torch.linalg.pinv, normal(4, 3))
_op("matrix_exp", torch.linalg.matrix_exp, normal(3, 3, scale=0.5))
_op("matrix_power", lambda a: torch.linalg.matrix_power(a, 3), normal(3, 3))
_op("lstsq", lambda a, b: torch.linalg.lstsq(a, b).solution, normal(5, 3), normal(5, 2))
_op(
    "solve_triangular",
    lambda a, b: torch.linalg.solve_triangular(a, b, upper=False),
    lower_triangular(3),
    normal(3, 2),
)
_op(
    "cholesky_solve",
    lambda b, a: torch.cholesky_solve(b, torch.linalg.cholesky(_sym(a))),
    normal(3, 2),
    spd(3),
)
_op("cross", lambda a, b: torch.linalg.cross(a, b), normal(2, 3), normal(2, 3))
_op("cond", torch.linalg.cond, A)
_op("trace", torch.trace, normal(4, 4))
_op("triu", lambda a: torch.triu(a, 1), normal(4, 4))
_op("tril", torch.tril, normal(4, 4))
_op("diagonal", lambda a: torch.diagonal(a, offset=1), normal(4, 4))
_op("diag_embed", torch.diag_embed, normal(2, 3))

# indexing and shape
_op("gather", lambda x: torch.gather(x, 1, torch.tensor([[0, 2], [3, 3], [1, 0]])), X)
_op("index_select", lambda x: torch.index_select(x, 1, _idx(2, 0, 3)), X)
_op("take_along_dim", lambda x: torch.take_along_dim(x, torch.tensor([[3], [0], [2]]), dim=1), X)
_op("take", lambda x: torch.take(x, _idx(0, 5, 11, 5)), X)
_op("advanced_index", lambda x: x[_idx(2, 0, 2)], X)
_op("boolean_index", lambda x, m: x[m], X, mask(3, 4))
_op(
    "scatter_add",
    lambda x: torch.zeros(3, 3, dtype=x.dtype).scatter_add(
        1, torch.tensor([[0, 1, 1, 2], [2, 2, 0, 1], [0, 0, 0, 1]]), x
    ),
    X,
)
_op("index_add", lambda a, s: a.index_add(0, _idx(0, 2, 0), s), normal(3, 2), normal(3, 2))
_op("cat", lambda a, b: torch.cat([a, b], dim=1), X, normal(3, 2))
_op("stack", lambda a, b: torch.stack([a, b], dim=1), X, X)
_op("flip", lambda x: torch.flip(x, dims=(0, 1)), X)
_op("roll", lambda x: torch.roll(x, 2, dims=1), X)
_op("where", lambda x, y, m: torch.where(m, x, y), X, X, mask(3, 4))
_op("masked_fill", lambda x, m: x.masked_fill(m, 0.25), X, mask(3, 4))
_op("narrow", lambda x: torch.narrow(x, 1, 1, 2), X)
_op("permute_reshape", lambda x: x.permute(2, 0, 1).reshape(4, 6), normal(2, 3, 4))
_op("repeat", lambda x: x.repeat(2, 1), X)
_op("expand", lambda x: x.expand(3, 3, 4), normal(1, 4))
_op("chunk", lambda x: torch.chunk(x, 2, dim=1)[1] * torch.chunk(x, 2, dim=1)[0], X)
_op("movedim", lambda x: torch.movedim(x, 0, 2), normal(2, 3, 2))
_op("sort_values", lambda x: torch.sort(x, dim=1).values, X, kinks=True)
_op("topk_values", lambda x: torch.topk(x, 2, dim=1).values, X, kinks=True)
_op("kthvalue", lambda x: torch.kthvalue(x, 2, dim=1).values, X, kinks=True)
_op("cummax", lambda x: torch.cummax(x, dim=1).values, X, kinks=True)

OPS: dict[str, TorchOp] = {op.name: op for op in _ALL}
assert len(OPS) == len(_ALL), "duplicate op names"
