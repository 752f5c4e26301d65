"""The README's torch and JAX examples, whole: a custom ``autograd.Function`` and a
``custom_vjp`` rule, each correct and with one entry of its gradient 0.1 % off.

Run it with ``python examples/custom_rules.py``; ``examples/test_custom_rules.py`` checks the
same rules through the pytest fixture.
"""

import jax
import jax.numpy as jnp
import numpy as np
import torch
from jax.test_util import check_grads

import gradcheck.jax as gj
import gradcheck.torch as gt

PLANTED = 1.001  # the planted error: one entry of the gradient 0.1 % off


class Softplus(torch.autograd.Function):
    """softplus(x @ w), with its backward written by hand."""

    @staticmethod
    def forward(ctx, x, w):
        z = x @ w
        ctx.save_for_backward(x, w, z)
        return torch.nn.functional.softplus(z)

    @staticmethod
    def backward(ctx, g):
        x, w, z = ctx.saved_tensors
        gz = g * torch.sigmoid(z)
        return gz @ w.T, x.T @ gz


class SoftplusOff(Softplus):
    """The same Function with ∂L/∂w[2, 1] 0.1 % off."""

    @staticmethod
    def backward(ctx, g):
        gx, gw = Softplus.backward(ctx, g)
        gw[2, 1] *= PLANTED
        return gx, gw


def _logsumexp(x):
    m = jnp.max(x)
    return m + jnp.log(jnp.sum(jnp.exp(x - m)))


def _logsumexp_fwd(x):
    y = _logsumexp(x)
    return y, (x, y)


def _logsumexp_bwd(residuals, g):
    x, y = residuals
    return (g * jnp.exp(x - y),)


def _logsumexp_off_bwd(residuals, g):
    (gx,) = _logsumexp_bwd(residuals, g)
    return (gx.at[1].multiply(PLANTED),)


logsumexp = jax.custom_vjp(_logsumexp)
logsumexp.defvjp(_logsumexp_fwd, _logsumexp_bwd)
logsumexp_off = jax.custom_vjp(_logsumexp)
logsumexp_off.defvjp(_logsumexp_fwd, _logsumexp_off_bwd)

torch.manual_seed(0)
x = torch.randn(4, 3, requires_grad=True)  # float32
w = torch.randn(3, 2, requires_grad=True)
x_jax = jnp.asarray(np.random.default_rng(0).normal(size=5), dtype=jnp.float32)


def main():
    print(torch.autograd.gradcheck(Softplus.apply, (x, w), raise_exception=False))
    print(gt.check(Softplus.apply, (x, w)).summary())
    print(gt.check(SoftplusOff.apply, (x, w)).summary())
    try:
        check_grads(logsumexp, (x_jax,), order=1)
    except TypeError as error:  # forward mode is not defined for a custom_vjp rule
        print("check_grads raised TypeError:", error)
    print(gj.check(logsumexp, (x_jax,)).summary())
    print(gj.check(logsumexp_off, (x_jax,)).summary())
    # What the README says of them:
    assert gt.check(Softplus.apply, (x, w)).verdict == "pass"
    assert gt.check(SoftplusOff.apply, (x, w)).verdict == "fail"
    assert gj.check(logsumexp, (x_jax,)).verdict == "pass"
    assert gj.check(logsumexp_off, (x_jax,)).verdict == "fail"


if __name__ == "__main__":
    main()
