"""A corpus of JAX functions for benchmarking gradient checkers: jnp ops, lax ops, jax.nn,
jitted (and vmapped) functions, and derivative rules written by hand with ``jax.custom_vjp``
(reverse mode only) and ``jax.custom_jvp`` (both modes).

Each entry is a name, a function of floating arrays returning one array, an argument
builder ``build(dtype, seed)`` (NumPy arrays drawn in float64 from a seeded generator,
then cast, so that the float32 point is the float64 one rounded) and its kind. Integer
data (labels, indices, masks) is closed over, so that every argument is checked. Domains
are the ones a user would pick; nothing is tuned to make any checker pass. Float64
arguments need ``jax_enable_x64`` (or a checker that scopes it) to be computed in float64.

    from tests.frameworks.jax_funcs import FUNCS
    entry = FUNCS["nn_softmax"]
    args = entry.build(np.dtype("float64"), 0)
    entry.fn(*args)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

__all__ = ["FUNCS", "JaxFunc"]

Array = np.ndarray
Part = Callable[[np.random.Generator], Array]
Builder = Callable[[np.dtype[Any], int], tuple[Array, ...]]


@dataclass(frozen=True)
class JaxFunc:
    """``fn(*build(dtype, seed))`` is one array; ``kind`` is jnp, lax, nn, jit, custom_vjp
    or custom_jvp; ``kinks`` marks functions not differentiable everywhere."""

    name: str
    fn: Callable[..., Any]
    build: Builder
    kind: str
    kinks: bool = False


# -- argument parts -------------------------------------------------------------------------


def normal(*shape: int, scale: float = 1.0) -> Part:
    return lambda rng: rng.standard_normal(shape) * scale


def uniform(*shape: int, low: float, high: float) -> Part:
    return lambda rng: rng.uniform(low, high, shape)


def positive(*shape: int) -> Part:
    """Uniform on (0.5, 2)."""
    return uniform(*shape, low=0.5, high=2.0)


def spd(n: int) -> Part:
    """A Aᵀ + n·I."""

    def part(rng: np.random.Generator) -> Array:
        a = rng.standard_normal((n, n))
        return a @ a.T + n * np.eye(n)

    return part


def symmetric(n: int) -> Part:
    def part(rng: np.random.Generator) -> Array:
        a = rng.standard_normal((n, n))
        return (a + a.T) / 2

    return part


def well_conditioned(n: int) -> Part:
    """A Gaussian matrix plus n·I."""
    return lambda rng: rng.standard_normal((n, n)) + n * np.eye(n)


def build(*parts: Part) -> Builder:
    def builder(dtype: np.dtype[Any], seed: int) -> tuple[Array, ...]:
        rng = np.random.default_rng(seed)
        return tuple(np.asarray(p(rng), dtype=dtype) for p in parts)

    return builder


_ALL: list[JaxFunc] = []


def _f(name: str, kind: str, fn: Callable[..., Any], *parts: Part, kinks: bool = False) -> None:
    _ALL.append(JaxFunc(name, fn, build(*parts), kind, kinks))


X = normal(3, 4)
P = positive(3, 4)
U = uniform(3, 4, low=-0.9, high=0.9)
_LABELS = np.array([2, 0, 3, 1, 1])
_MASK = np.random.default_rng(1).random((3, 4)) > 0.5

# -- jnp ------------------------------------------------------------------------------------
_f("jnp_sin", "jnp", jnp.sin, X)
_f("jnp_log", "jnp", jnp.log, P)
_f("jnp_tanh", "jnp", jnp.tanh, X)
_f("jnp_expm1", "jnp", jnp.expm1, X)
_f("jnp_arcsin", "jnp", jnp.arcsin, U)
_f("jnp_arctan2", "jnp", jnp.arctan2, X, X)
_f("jnp_power", "jnp", jnp.power, P, X)
_f("jnp_prod", "jnp", lambda x: jnp.prod(x, axis=1), X)
_f("jnp_var", "jnp", lambda x: jnp.var(x, axis=0), X)
_f("jnp_std", "jnp", lambda x: jnp.std(x, axis=1, ddof=1), X)
_f("jnp_cumsum", "jnp", lambda x: jnp.cumsum(x, axis=1), X)
_f("jnp_cumprod", "jnp", lambda x: jnp.cumprod(x, axis=1), X)
_f("jnp_matmul", "jnp", jnp.matmul, X, normal(4, 2))
_f(
    "jnp_einsum",
    "jnp",
    lambda a, b: jnp.einsum("bij,bjk->bik", a, b),
    normal(2, 2, 3),
    normal(2, 3, 2),
)
_f("jnp_norm", "jnp", jnp.linalg.norm, X)
_f("jnp_inv", "jnp", jnp.linalg.inv, well_conditioned(3))
_f("jnp_det", "jnp", jnp.linalg.det, well_conditioned(3))
_f("jnp_solve", "jnp", jnp.linalg.solve, well_conditioned(3), normal(3, 2))
_f("jnp_cholesky", "jnp", jnp.linalg.cholesky, spd(3))
_f("jnp_eigh_values", "jnp", lambda a: jnp.linalg.eigh(a)[0], symmetric(4))
_f("jnp_svdvals", "jnp", lambda a: jnp.linalg.svd(a, compute_uv=False), normal(4, 3))
_f("jnp_qr_r", "jnp", lambda a: jnp.linalg.qr(a)[1], normal(4, 3))
_f("jnp_slogdet", "jnp", lambda a: jnp.linalg.slogdet(a)[1], well_conditioned(3))
_f("jnp_pinv", "jnp", jnp.linalg.pinv, normal(4, 3))
_f("jnp_where", "jnp", lambda x, y: jnp.where(_MASK, x, y), X, X)
_f("jnp_take", "jnp", lambda x: jnp.take(x, np.array([0, 5, 11, 5])), X)
_f(
    "jnp_index_update",
    "jnp",
    lambda x, v: jnp.asarray(x).at[np.array([0, 2])].add(v),
    X,
    normal(2, 4),
)
_f(
    "jnp_concat_flip",
    "jnp",
    lambda a, b: jnp.flip(jnp.concatenate([a, b], axis=1), 0),
    X,
    normal(3, 2),
)
_f("jnp_sort", "jnp", lambda x: jnp.sort(x, axis=1), X, kinks=True)
_f("jnp_max", "jnp", lambda x: jnp.max(x, axis=0), X, kinks=True)
_f("jnp_abs", "jnp", jnp.abs, X, kinks=True)
_f("jnp_clip", "jnp", lambda x: jnp.clip(x, -0.5, 0.5), X, kinks=True)

# -- lax ------------------------------------------------------------------------------------
_f("lax_logistic", "lax", lax.logistic, X)
_f("lax_erf_inv", "lax", lax.erf_inv, U)
_f("lax_rsqrt", "lax", lax.rsqrt, P)
_f(
    "lax_conv",
    "lax",
    lambda x, w: lax.conv_general_dilated(x, w, (1, 1), "VALID"),
    normal(1, 2, 4, 4),
    normal(3, 2, 2, 2),
)
_f(
    "lax_max_pool",
    "lax",
    lambda x: lax.reduce_window(x, -jnp.inf, lax.max, (2, 2), (2, 2), "VALID"),
    normal(4, 4),
    kinks=True,
)
_f("lax_dynamic_slice", "lax", lambda x: lax.dynamic_slice(x, (1, 1), (2, 2)), X)
_f("lax_cumlogsumexp", "lax", lambda x: lax.cumlogsumexp(x, axis=1), X)


def _rnn(xs: Any, w: Any) -> Any:
    """h ← tanh(w·h + x) over the rows of xs, by lax.scan; every h returned."""

    def step(h: Any, x: Any) -> tuple[Any, Any]:
        h = jnp.tanh(w @ h + x)
        return h, h

    return lax.scan(step, jnp.zeros(xs.shape[1], xs.dtype), xs)[1]


def _newton_sqrt(x: Any) -> Any:
    """Five Newton steps for √x by lax.fori_loop (fixed trip count: reverse mode works)."""
    return lax.fori_loop(0, 5, lambda _, y: 0.5 * (y + x / y), x)


_f("lax_scan_rnn", "lax", _rnn, normal(4, 3), normal(3, 3, scale=0.5))
_f("lax_fori_newton", "lax", _newton_sqrt, P)
_f("lax_cond", "lax", lambda x: lax.cond(x.sum() > 0, jnp.sin, jnp.cos, x), X)

# -- jax.nn ---------------------------------------------------------------------------------
_f("nn_softmax", "nn", lambda x: jax.nn.softmax(x, axis=1), X)
_f("nn_log_softmax", "nn", lambda x: jax.nn.log_softmax(x, axis=1), X)
_f("nn_gelu", "nn", jax.nn.gelu, X)
_f("nn_silu", "nn", jax.nn.silu, X)
_f("nn_softplus", "nn", jax.nn.softplus, X)
_f("nn_elu", "nn", jax.nn.elu, X)
_f("nn_logsumexp", "nn", lambda x: jax.nn.logsumexp(x, axis=1), X)
_f("nn_standardize", "nn", lambda x: jax.nn.standardize(x, axis=1), X)
_f(
    "nn_cross_entropy",
    "nn",
    lambda z: (
        -jnp.mean(
            jnp.sum(jax.nn.one_hot(_LABELS, 4, dtype=z.dtype) * jax.nn.log_softmax(z), axis=1)
        )
    ),
    normal(5, 4),
)
_f("nn_relu", "nn", jax.nn.relu, X, kinks=True)
_f(
    "nn_attention",
    "nn",
    jax.nn.dot_product_attention,
    normal(1, 3, 1, 2),
    normal(1, 4, 1, 2),
    normal(1, 4, 1, 2),
)

# -- jitted ---------------------------------------------------------------------------------
_f(
    "jit_mlp",
    "jit",
    jax.jit(lambda x, w1, w2: jnp.tanh(x @ w1) @ w2),
    X,
    normal(4, 3),
    normal(3, 2),
)
_f(
    "jit_vmap",
    "jit",
    jax.jit(jax.vmap(lambda v, w: jnp.dot(jnp.sin(v), w), in_axes=(0, None))),
    X,
    normal(4),
)
_f(
    "jit_layer_norm",
    "jit",
    jax.jit(
        lambda x, g, b: (
            (x - x.mean(-1, keepdims=True)) * lax.rsqrt(x.var(-1, keepdims=True) + 1e-5) * g + b
        )
    ),
    X,
    normal(4),
    normal(4),
)
_f("jit_grad", "jit", jax.jit(jax.grad(lambda x: jnp.sum(jnp.sin(x) ** 2 * x))), X)

# -- custom_vjp: reverse-mode rules written by hand -----------------------------------------


@jax.custom_vjp
def vjp_softplus(x: Any) -> Any:
    return jnp.logaddexp(x, 0.0)


def _softplus_fwd(x: Any) -> tuple[Any, Any]:
    return vjp_softplus(x), x


def _softplus_bwd(x: Any, g: Any) -> tuple[Any]:
    return (g * jax.nn.sigmoid(x),)


vjp_softplus.defvjp(_softplus_fwd, _softplus_bwd)


@jax.custom_vjp
def vjp_logsumexp(x: Any) -> Any:
    m = jnp.max(x, axis=1, keepdims=True)
    return jnp.squeeze(m, 1) + jnp.log(jnp.sum(jnp.exp(x - m), axis=1))


def _lse_fwd(x: Any) -> tuple[Any, Any]:
    y = vjp_logsumexp(x)
    return y, (x, y)


def _lse_bwd(res: Any, g: Any) -> tuple[Any]:
    x, y = res
    return (g[:, None] * jnp.exp(x - y[:, None]),)


vjp_logsumexp.defvjp(_lse_fwd, _lse_bwd)


@jax.custom_vjp
def vjp_safe_norm(x: Any) -> Any:
    return jnp.sqrt(jnp.sum(x * x, axis=1))


def _norm_fwd(x: Any) -> tuple[Any, Any]:
    n = vjp_safe_norm(x)
    return n, (x, n)


def _norm_bwd(res: Any, g: Any) -> tuple[Any]:
    x, n = res
    return (g[:, None] * x / jnp.where(n == 0, 1.0, n)[:, None],)


vjp_safe_norm.defvjp(_norm_fwd, _norm_bwd)


@jax.custom_vjp
def vjp_layer_norm(x: Any, gamma: Any, beta: Any) -> Any:
    mu = x.mean(-1, keepdims=True)
    xhat = (x - mu) * lax.rsqrt(((x - mu) ** 2).mean(-1, keepdims=True) + 1e-5)
    return xhat * gamma + beta


def _ln_fwd(x: Any, gamma: Any, beta: Any) -> tuple[Any, Any]:
    mu = x.mean(-1, keepdims=True)
    rstd = lax.rsqrt(((x - mu) ** 2).mean(-1, keepdims=True) + 1e-5)
    xhat = (x - mu) * rstd
    return xhat * gamma + beta, (xhat, rstd, gamma)


def _ln_bwd(res: Any, g: Any) -> tuple[Any, Any, Any]:
    xhat, rstd, gamma = res
    d = g * gamma
    dx = rstd * (d - d.mean(-1, keepdims=True) - xhat * (d * xhat).mean(-1, keepdims=True))
    return dx, (g * xhat).sum(0), g.sum(0)


vjp_layer_norm.defvjp(_ln_fwd, _ln_bwd)


@jax.custom_vjp
def vjp_softmax_xent(z: Any) -> Any:
    """Mean cross-entropy of logits z against the fixed labels."""
    return jnp.mean(jax.nn.logsumexp(z, axis=1) - z[np.arange(len(_LABELS)), _LABELS])


def _xent_fwd(z: Any) -> tuple[Any, Any]:
    return vjp_softmax_xent(z), z


def _xent_bwd(z: Any, g: Any) -> tuple[Any]:
    p = jax.nn.softmax(z, axis=1) - jax.nn.one_hot(_LABELS, z.shape[1], dtype=z.dtype)
    return (g * p / len(_LABELS),)


vjp_softmax_xent.defvjp(_xent_fwd, _xent_bwd)


@jax.custom_vjp
def vjp_swish(x: Any) -> Any:
    return x * jax.nn.sigmoid(x)


def _swish_fwd(x: Any) -> tuple[Any, Any]:
    s = jax.nn.sigmoid(x)
    return x * s, (x, s)


def _swish_bwd(res: Any, g: Any) -> tuple[Any]:
    x, s = res
    return (g * (s + x * s * (1 - s)),)


vjp_swish.defvjp(_swish_fwd, _swish_bwd)


@jax.custom_vjp
def vjp_cumsum(x: Any) -> Any:
    return jnp.cumsum(x, axis=1)


def _cumsum_fwd(x: Any) -> tuple[Any, None]:
    return jnp.cumsum(x, axis=1), None


def _cumsum_bwd(_: None, g: Any) -> tuple[Any]:
    return (jnp.flip(jnp.cumsum(jnp.flip(g, 1), axis=1), 1),)


vjp_cumsum.defvjp(_cumsum_fwd, _cumsum_bwd)


@jax.custom_vjp
def vjp_attention(q: Any, k: Any) -> Any:
    return jax.nn.softmax(q @ k.T / math.sqrt(q.shape[-1]), axis=-1)


def _attn_fwd(q: Any, k: Any) -> tuple[Any, Any]:
    p = vjp_attention(q, k)
    return p, (q, k, p)


def _attn_bwd(res: Any, g: Any) -> tuple[Any, Any]:
    q, k, p = res
    ds = p * (g - jnp.sum(g * p, axis=-1, keepdims=True)) / math.sqrt(q.shape[-1])
    return ds @ k, ds.T @ q


vjp_attention.defvjp(_attn_fwd, _attn_bwd)


@jax.custom_vjp
def vjp_matmul(a: Any, b: Any) -> Any:
    return a @ b


def _mm_fwd(a: Any, b: Any) -> tuple[Any, Any]:
    return a @ b, (a, b)


def _mm_bwd(res: Any, g: Any) -> tuple[Any, Any]:
    a, b = res
    return g @ b.T, a.T @ g


vjp_matmul.defvjp(_mm_fwd, _mm_bwd)


@jax.custom_vjp
def vjp_gelu_tanh(x: Any) -> Any:
    return 0.5 * x * (1 + jnp.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def _gelu_fwd(x: Any) -> tuple[Any, Any]:
    return vjp_gelu_tanh(x), x


def _gelu_bwd(x: Any, g: Any) -> tuple[Any]:
    k = math.sqrt(2 / math.pi)
    t = jnp.tanh(k * (x + 0.044715 * x**3))
    du = k * (1 + 3 * 0.044715 * x**2)
    return (g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du),)


vjp_gelu_tanh.defvjp(_gelu_fwd, _gelu_bwd)

_f("vjp_softplus", "custom_vjp", vjp_softplus, normal(3, 4, scale=3.0))
_f("vjp_logsumexp", "custom_vjp", vjp_logsumexp, X)
_f("vjp_safe_norm", "custom_vjp", vjp_safe_norm, X)
_f("vjp_layer_norm", "custom_vjp", vjp_layer_norm, X, normal(4), normal(4))
_f("vjp_softmax_xent", "custom_vjp", vjp_softmax_xent, normal(5, 4))
_f("vjp_swish", "custom_vjp", vjp_swish, X)
_f("vjp_cumsum", "custom_vjp", vjp_cumsum, X)
_f("vjp_attention", "custom_vjp", vjp_attention, normal(3, 4), normal(5, 4))
_f("vjp_matmul", "custom_vjp", vjp_matmul, normal(2, 3), normal(3, 4))
_f("vjp_gelu_tanh", "custom_vjp", vjp_gelu_tanh, X)

# -- custom_jvp: forward-mode rules written by hand (reverse mode by transposition) ---------


@jax.custom_jvp
def jvp_logsumexp(x: Any) -> Any:
    m = lax.stop_gradient(jnp.max(x, axis=1, keepdims=True))
    return jnp.squeeze(m, 1) + jnp.log(jnp.sum(jnp.exp(x - m), axis=1))


@jvp_logsumexp.defjvp
def _jvp_logsumexp(primals: Any, tangents: Any) -> tuple[Any, Any]:
    (x,), (t,) = primals, tangents
    y = jvp_logsumexp(x)
    return y, jnp.sum(jnp.exp(x - y[:, None]) * t, axis=1)


@jax.custom_jvp
def jvp_softplus(x: Any) -> Any:
    return jnp.maximum(x, 0.0) + jnp.log1p(jnp.exp(-jnp.abs(x)))


@jvp_softplus.defjvp
def _jvp_softplus(primals: Any, tangents: Any) -> tuple[Any, Any]:
    (x,), (t,) = primals, tangents
    return jvp_softplus(x), jax.nn.sigmoid(x) * t


@jax.custom_jvp
def jvp_xlogx(x: Any) -> Any:
    return x * jnp.log(x)


@jvp_xlogx.defjvp
def _jvp_xlogx(primals: Any, tangents: Any) -> tuple[Any, Any]:
    (x,), (t,) = primals, tangents
    return jvp_xlogx(x), (jnp.log(x) + 1) * t


@jax.custom_jvp
def jvp_safe_norm(x: Any) -> Any:
    return jnp.sqrt(jnp.sum(x * x, axis=-1))


@jvp_safe_norm.defjvp
def _jvp_safe_norm(primals: Any, tangents: Any) -> tuple[Any, Any]:
    (x,), (t,) = primals, tangents
    n = jvp_safe_norm(x)
    return n, jnp.sum(x * t, axis=-1) / jnp.where(n == 0, 1.0, n)


@jax.custom_jvp
def jvp_logaddexp(a: Any, b: Any) -> Any:
    m = jnp.maximum(a, b)
    return m + jnp.log(jnp.exp(a - m) + jnp.exp(b - m))


@jvp_logaddexp.defjvp
def _jvp_logaddexp(primals: Any, tangents: Any) -> tuple[Any, Any]:
    (a, b), (ta, tb) = primals, tangents
    y = jvp_logaddexp(a, b)
    return y, jnp.exp(a - y) * ta + jnp.exp(b - y) * tb


_f("jvp_logsumexp", "custom_jvp", jvp_logsumexp, X)
_f("jvp_softplus", "custom_jvp", jvp_softplus, normal(3, 4, scale=3.0))
_f("jvp_xlogx", "custom_jvp", jvp_xlogx, P)
_f("jvp_safe_norm", "custom_jvp", jvp_safe_norm, X)
_f("jvp_logaddexp", "custom_jvp", jvp_logaddexp, X, X)

FUNCS: dict[str, JaxFunc] = {f.name: f for f in _ALL}
assert len(FUNCS) == len(_ALL), "duplicate names"
