"""Off the kinks nothing is hidden: on a network with relu-like hidden units whose
pre-activations all lie more than KINK_MARGIN from the kink, every entry of every tensor is
compared by every pair of core, fd and cs. A kink band that grows too wide would quietly
leave entries (or whole tensors, "inconclusive") uncompared, and a wrong gradient there
would never fail."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck.case import UNIFORM_DRAWS, draw_case
from gradcheck.check import check_case
from gradcheck.nn.activations import ACTIVATIONS
from gradcheck.nn.network import forward
from gradcheck.nn.spec import NetworkSpec
from gradcheck.numeric.kinks import subgradient_ambiguity
from gradcheck.numeric.steps import KINK_MARGIN

KINKED = [name for name in sorted(ACTIVATIONS) if ACTIVATIONS.get(name).kinks]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("activation", KINKED)
def test_every_entry_is_compared_off_the_kinks(activation: str, dtype: str) -> None:
    spec = NetworkSpec((4, 5, 3), hidden=activation, loss="mse", dtype=dtype)
    case = draw_case(spec, np.random.default_rng(0), 6, UNIFORM_DRAWS, seed=0)
    cache = forward(spec, case.params, case.X)
    for layer, z in enumerate(cache.zs, start=1):
        for kink in spec.activation(layer).kinks:
            assert np.min(np.abs(z.astype(np.float64) - kink)) > KINK_MARGIN  # off the kinks
    assert subgradient_ambiguity(spec, case.params, cache, case.y) is None

    result = check_case(case, ["core", "fd", "cs"])
    assert result.verdict == "pass" and result.ambiguous_entries == 0
    pairs = {record.pair for record in result.records}
    assert pairs == {"core vs fd", "core vs cs", "fd vs cs"}
    shapes = {name: case.params[name].shape for name in spec.param_names}
    for record in result.records:
        size = int(np.prod(shapes.get(record.tensor, ())))
        assert (record.kink_entries, record.checked) == (0, size), (record.pair, record.tensor)
        assert record.verdict == "pass"
