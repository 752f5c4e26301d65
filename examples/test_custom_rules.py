"""The README's fixture example: the rules of ``custom_rules.py``, checked in pytest."""

import pytest
from custom_rules import Softplus, SoftplusOff, logsumexp, w, x, x_jax

from gradcheck.testing.fixture import GradientAssertionError


def test_softplus(gradcheck):
    gradcheck.assert_torch(Softplus.apply, (x, w))
    gradcheck.assert_jax(logsumexp, (x_jax,))


def test_the_planted_error_fails(gradcheck):
    with pytest.raises(GradientAssertionError, match=r"inputs\[1\]\[2, 1\]"):
        gradcheck.assert_torch(SoftplusOff.apply, (x, w))
