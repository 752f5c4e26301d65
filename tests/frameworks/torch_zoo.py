"""Custom ``torch.autograd.Function``s written by hand, as users write them, each correct.

Most use the classic ``forward(ctx, ...)`` with ``save_for_backward``; a few use the newer
``setup_context`` (one with a ``jvp`` for forward mode), one has a ``@once_differentiable``
backward and one returns two outputs. None has a ``jvp`` unless it says so, so forward
mode is unsupported for the others, as it is for most Functions in the wild. Each entry is
a :class:`tests.frameworks.torch_ops.TorchOp`: a name, a function returning one tensor
(the multi-output Function's outputs are stacked) and an input builder.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch.autograd.function import once_differentiable

from tests.frameworks.torch_ops import (
    Part,
    TorchOp,
    build,
    labels,
    normal,
    positive,
    spd,
)

__all__ = ["ZOO"]

# The Functions' forward and backward take and return Any, as torch declares them.


class TanhLinear(torch.autograd.Function):
    """y = tanh(x Wᵀ + b)."""

    @staticmethod
    def forward(ctx: Any, x: Any, w: Any, b: Any) -> Any:
        y = torch.tanh(x @ w.T + b)
        ctx.save_for_backward(x, w, y)
        return y

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        x, w, y = ctx.saved_tensors
        gz = g * (1 - y * y)
        return gz @ w, gz.T @ x, gz.sum(0)


class StableSoftplus(torch.autograd.Function):
    """log(1 + eˣ) as max(x, 0) + log1p(e^−|x|); the backward is σ(x), never e^x/(1 + e^x)."""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        ctx.save_for_backward(x)
        return torch.clamp(x, min=0) + torch.log1p(torch.exp(-x.abs()))

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return g * torch.sigmoid(x)


class LayerNorm(torch.autograd.Function):
    """(x − μ)/√(σ² + ε)·γ + β over the last dimension."""

    @staticmethod
    def forward(ctx: Any, x: Any, gamma: Any, beta: Any, eps: float = 1e-5) -> Any:
        mu = x.mean(-1, keepdim=True)
        rstd = ((x - mu).pow(2).mean(-1, keepdim=True) + eps).rsqrt()
        xhat = (x - mu) * rstd
        ctx.save_for_backward(xhat, rstd, gamma)
        return xhat * gamma + beta

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        xhat, rstd, gamma = ctx.saved_tensors
        dxhat = g * gamma
        dx = rstd * (
            dxhat - dxhat.mean(-1, keepdim=True) - xhat * (dxhat * xhat).mean(-1, keepdim=True)
        )
        return dx, (g * xhat).sum(0), g.sum(0), None


class SoftmaxCrossEntropy(torch.autograd.Function):
    """Mean over the batch of −log softmax(z)[label]; the backward is (softmax − onehot)/N."""

    @staticmethod
    def forward(ctx: Any, logits: Any, target: Any) -> Any:
        logz = torch.logsumexp(logits, dim=1)
        loss = (logz - logits.gather(1, target[:, None]).squeeze(1)).mean()
        ctx.save_for_backward(logits, target, logz)
        return loss

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        logits, target, logz = ctx.saved_tensors
        p = torch.exp(logits - logz[:, None])
        p[torch.arange(len(target)), target] -= 1
        return g * p / len(target), None


class Swish(torch.autograd.Function):
    """x·σ(x)."""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        s = torch.sigmoid(x)
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        x, s = ctx.saved_tensors
        return g * (s + x * s * (1 - s))


class CumSum(torch.autograd.Function):
    """Cumulative sum along dim 1; the backward is the reversed cumulative sum."""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        return torch.cumsum(x, dim=1)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return torch.flip(torch.cumsum(torch.flip(g, (1,)), dim=1), (1,))


class PairwiseDistance(torch.autograd.Function):
    """D_ij = ‖x_i − y_j‖ for x (n, d), y (m, d)."""

    @staticmethod
    def forward(ctx: Any, x: Any, y: Any) -> Any:
        diff = x[:, None, :] - y[None, :, :]
        d = diff.pow(2).sum(-1).sqrt()
        ctx.save_for_backward(diff, d)
        return d

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        diff, d = ctx.saved_tensors
        w = (g / d)[..., None] * diff
        return w.sum(1), -w.sum(0)


class Embedding(torch.autograd.Function):
    """Rows of a weight matrix gathered by index; the backward scatters them back."""

    @staticmethod
    def forward(ctx: Any, weight: Any, index: Any) -> Any:
        ctx.save_for_backward(index)
        ctx.rows = weight.shape[0]
        return weight.index_select(0, index)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (index,) = ctx.saved_tensors
        grad = torch.zeros(ctx.rows, g.shape[1], dtype=g.dtype, device=g.device)
        return grad.index_add_(0, index, g), None


class AttentionScores(torch.autograd.Function):
    """softmax(Q Kᵀ/√d) over the keys."""

    @staticmethod
    def forward(ctx: Any, q: Any, k: Any) -> Any:
        scale = 1 / math.sqrt(q.shape[-1])
        p = torch.softmax(q @ k.T * scale, dim=-1)
        ctx.save_for_backward(q, k, p)
        ctx.scale = scale
        return p

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        q, k, p = ctx.saved_tensors
        ds = p * (g - (g * p).sum(-1, keepdim=True)) * ctx.scale
        return ds @ k, ds.T @ q


class CubeSin(torch.autograd.Function):
    """x³ + sin x with setup_context, a backward and a jvp (forward mode)."""

    @staticmethod
    def forward(x: Any) -> Any:
        return x**3 + torch.sin(x)

    @staticmethod
    def setup_context(ctx: Any, inputs: Any, output: Any) -> None:
        (x,) = inputs
        ctx.save_for_backward(x)
        ctx.save_for_forward(x)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return g * (3 * x**2 + torch.cos(x))

    @staticmethod
    def jvp(ctx: Any, t: Any) -> Any:
        (x,) = ctx.saved_tensors
        return t * (3 * x**2 + torch.cos(x))


class OnceSigmoid(torch.autograd.Function):
    """σ(x) with a once_differentiable backward (no double backward)."""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        y = torch.sigmoid(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    @once_differentiable  # type: ignore[untyped-decorator,misc]
    def backward(ctx: Any, g: Any) -> Any:
        (y,) = ctx.saved_tensors
        return g * y * (1 - y)


class SinCos(torch.autograd.Function):
    """Two outputs, sin x and cos x."""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        ctx.save_for_backward(x)
        return torch.sin(x), torch.cos(x)

    @staticmethod
    def backward(ctx: Any, gs: Any, gc: Any) -> Any:
        (x,) = ctx.saved_tensors
        return gs * torch.cos(x) - gc * torch.sin(x)


class MatMul(torch.autograd.Function):
    """A B."""

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        a, b = ctx.saved_tensors
        ga = g @ b.T if ctx.needs_input_grad[0] else None
        gb = a.T @ g if ctx.needs_input_grad[1] else None
        return ga, gb


class MSELoss(torch.autograd.Function):
    """mean((p − t)²), differentiable in both."""

    @staticmethod
    def forward(ctx: Any, p: Any, t: Any) -> Any:
        d = p - t
        ctx.save_for_backward(d)
        return d.pow(2).mean()

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (d,) = ctx.saved_tensors
        grad = 2 * g * d / d.numel()
        return grad, -grad


class L2Normalize(torch.autograd.Function):
    """Each row divided by its Euclidean norm."""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        n = x.norm(dim=1, keepdim=True)
        y = x / n
        ctx.save_for_backward(y, n)
        return y

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        y, n = ctx.saved_tensors
        return (g - y * (g * y).sum(1, keepdim=True)) / n


class LogSumExp(torch.autograd.Function):
    """Row-wise log Σ eˣ, shifted by the row maximum; the backward is the softmax."""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        m = x.max(dim=1, keepdim=True).values
        y = m.squeeze(1) + torch.log(torch.exp(x - m).sum(1))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        x, y = ctx.saved_tensors
        return g[:, None] * torch.exp(x - y[:, None])


class GeluTanh(torch.autograd.Function):
    """½x(1 + tanh(√(2/π)(x + 0.044715x³)))."""

    K = math.sqrt(2 / math.pi)

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        t = torch.tanh(GeluTanh.K * (x + 0.044715 * x**3))
        ctx.save_for_backward(x, t)
        return 0.5 * x * (1 + t)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        x, t = ctx.saved_tensors
        du = GeluTanh.K * (1 + 3 * 0.044715 * x**2)
        return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)


class BilinearForm(torch.autograd.Function):
    """out_n = x_nᵀ A y_n."""

    @staticmethod
    def forward(ctx: Any, x: Any, a: Any, y: Any) -> Any:
        ctx.save_for_backward(x, a, y)
        return ((x @ a) * y).sum(1)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        x, a, y = ctx.saved_tensors
        gx = g[:, None] * (y @ a.T)
        ga = (x * g[:, None]).T @ y
        gy = g[:, None] * (x @ a)
        return gx, ga, gy


class Correlate1d(torch.autograd.Function):
    """Valid 1-D correlation y_i = Σ_k x_{i+k} w_k; the backward written with loops."""

    @staticmethod
    def forward(ctx: Any, x: Any, w: Any) -> Any:
        windows = x.unfold(0, w.shape[0], 1)
        ctx.save_for_backward(x, w)
        return windows @ w

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        x, w = ctx.saved_tensors
        k, n = w.shape[0], g.shape[0]
        gx = torch.zeros_like(x)
        for j in range(k):
            gx[j : j + n] += g * w[j]
        gw = torch.stack([(g * x[j : j + n]).sum() for j in range(k)])
        return gx, gw


class RMSNorm(torch.autograd.Function):
    """x/√(mean(x²) + ε)·w over the last dimension, with setup_context."""

    @staticmethod
    def forward(x: Any, w: Any) -> Any:
        r = (x.pow(2).mean(-1, keepdim=True) + 1e-6).rsqrt()
        return x * r * w

    @staticmethod
    def setup_context(ctx: Any, inputs: Any, output: Any) -> None:
        x, w = inputs
        ctx.save_for_backward(x, w)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        x, w = ctx.saved_tensors
        r = (x.pow(2).mean(-1, keepdim=True) + 1e-6).rsqrt()
        xhat = x * r
        dxhat = g * w
        dx = r * (dxhat - xhat * (dxhat * xhat).mean(-1, keepdim=True))
        return dx, (g * xhat).sum(0)


class Huber(torch.autograd.Function):
    """mean of ½d² for |d| ≤ δ, δ(|d| − ½δ) beyond; the backward is clamp(d, −δ, δ)/N."""

    @staticmethod
    def forward(ctx: Any, p: Any, t: Any, delta: float = 1.0) -> Any:
        d = p - t
        ctx.save_for_backward(d)
        ctx.delta = delta
        small = d.abs() <= delta
        loss = torch.where(small, 0.5 * d * d, delta * (d.abs() - 0.5 * delta))
        return loss.mean()

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (d,) = ctx.saved_tensors
        grad = g * torch.clamp(d, -ctx.delta, ctx.delta) / d.numel()
        return grad, -grad, None


class Polynomial(torch.autograd.Function):
    """y = Σ_k c_k xᵏ elementwise, by Horner's rule; differentiable in x and c."""

    @staticmethod
    def forward(ctx: Any, x: Any, c: Any) -> Any:
        y = torch.zeros_like(x)
        for ck in reversed(c):
            y = y * x + ck
        ctx.save_for_backward(x, c)
        return y

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        x, c = ctx.saved_tensors
        dy = torch.zeros_like(x)
        for k in range(len(c) - 1, 0, -1):
            dy = dy * x + k * c[k]
        gc = torch.stack([(g * x**k).sum() for k in range(len(c))])
        return g * dy, gc


class Gram(torch.autograd.Function):
    """X Xᵀ."""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        ctx.save_for_backward(x)
        return x @ x.T

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return (g + g.T) @ x


class ScaledExp(torch.autograd.Function):
    """s·eˣ for a Python float s, which gets no gradient."""

    @staticmethod
    def forward(ctx: Any, x: Any, s: float) -> Any:
        y = s * torch.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (y,) = ctx.saved_tensors
        return (g * y if ctx.needs_input_grad[0] else None), None


class LogDetSPD(torch.autograd.Function):
    """log det of the symmetric part S = (A + Aᵀ)/2 through its Cholesky factor; the
    gradient with respect to A is S⁻¹."""

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        chol = torch.linalg.cholesky((a + a.T) / 2)
        ctx.save_for_backward(chol)
        return 2 * torch.log(torch.diagonal(chol)).sum()

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (chol,) = ctx.saved_tensors
        return g * torch.cholesky_inverse(chol)


class Softmax(torch.autograd.Function):
    """Row-wise softmax; the backward is y ⊙ (g − Σ g ⊙ y)."""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        e = torch.exp(x - x.max(dim=1, keepdim=True).values)
        y = e / e.sum(1, keepdim=True)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (y,) = ctx.saved_tensors
        return y * (g - (g * y).sum(1, keepdim=True))


class BatchNorm(torch.autograd.Function):
    """Training-mode batch norm over dim 0, γ and β per feature."""

    @staticmethod
    def forward(ctx: Any, x: Any, gamma: Any, beta: Any) -> Any:
        mu = x.mean(0)
        rstd = ((x - mu).pow(2).mean(0) + 1e-5).rsqrt()
        xhat = (x - mu) * rstd
        ctx.save_for_backward(xhat, rstd, gamma)
        return xhat * gamma + beta

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        xhat, rstd, gamma = ctx.saved_tensors
        dxhat = g * gamma
        dx = rstd * (dxhat - dxhat.mean(0) - xhat * (dxhat * xhat).mean(0))
        return dx, (g * xhat).sum(0), g.sum(0)


_EMBED_INDEX = (0, 3, 1, 3, 4)


def _sincos(x: Any) -> Any:
    s, c = SinCos.apply(x)  # type: ignore[no-untyped-call]
    return torch.stack((s, c))


X: Part = normal(3, 4)
_ALL = [
    TorchOp("tanh_linear", TanhLinear.apply, build(normal(3, 4), normal(2, 4), normal(2))),
    TorchOp("stable_softplus", StableSoftplus.apply, build(normal(3, 4, scale=3.0))),
    TorchOp("layer_norm", LayerNorm.apply, build(X, normal(4), normal(4))),
    TorchOp("softmax_cross_entropy", SoftmaxCrossEntropy.apply, build(normal(5, 4), labels(5, 4))),
    TorchOp("swish", Swish.apply, build(X)),
    TorchOp("cumsum", CumSum.apply, build(X)),
    TorchOp("pairwise_distance", PairwiseDistance.apply, build(normal(3, 2), normal(4, 2))),
    TorchOp(
        "embedding",
        lambda w: Embedding.apply(w, torch.tensor(_EMBED_INDEX)),  # type: ignore[no-untyped-call]
        build(normal(5, 3)),
    ),
    TorchOp("attention_scores", AttentionScores.apply, build(normal(3, 4), normal(5, 4))),
    TorchOp("cube_sin_jvp", CubeSin.apply, build(X)),
    TorchOp("once_sigmoid", OnceSigmoid.apply, build(X)),
    TorchOp("multi_output", _sincos, build(X)),
    TorchOp("matmul", MatMul.apply, build(normal(2, 3), normal(3, 4))),
    TorchOp("mse_loss", MSELoss.apply, build(X, X)),
    TorchOp("l2_normalize", L2Normalize.apply, build(X)),
    TorchOp("logsumexp", LogSumExp.apply, build(X)),
    TorchOp("gelu_tanh", GeluTanh.apply, build(X)),
    TorchOp("bilinear_form", BilinearForm.apply, build(normal(4, 3), normal(3, 2), normal(4, 2))),
    TorchOp("correlate1d", Correlate1d.apply, build(normal(8), normal(3))),
    TorchOp("rms_norm", RMSNorm.apply, build(X, normal(4))),
    TorchOp("huber", Huber.apply, build(normal(3, 4, scale=2.0), normal(3, 4))),
    TorchOp("polynomial", Polynomial.apply, build(X, normal(4))),
    TorchOp("gram", Gram.apply, build(normal(3, 4))),
    TorchOp("scaled_exp", lambda x: ScaledExp.apply(x, 0.7), build(X)),  # type: ignore[no-untyped-call]
    TorchOp("logdet_spd", LogDetSPD.apply, build(spd(3))),
    TorchOp("softmax", Softmax.apply, build(X)),
    TorchOp("batch_norm", BatchNorm.apply, build(normal(5, 3), positive(3), normal(3))),
]

ZOO: dict[str, TorchOp] = {op.name: op for op in _ALL}
assert len(ZOO) == len(_ALL), "duplicate names"
