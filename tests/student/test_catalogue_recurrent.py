"""The recurrent family of the layer catalogue (rnn, lstm, word embedding, temporal affine,
temporal softmax loss): each NumPy reference against its torch twin (forward values and
autograd gradients, float64), against central finite differences of its own forward, and
each mutant against the reference it must differ from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradcheck.student.catalogue.registry import get_function
from gradcheck.student.catalogue.spec import LayerFunction, Reference

torch = pytest.importorskip("torch")
from reference_impls.torch_catalogue import load as load_twins  # noqa: E402

NAMES = (
    "rnn_step",
    "rnn",
    "lstm_step",
    "lstm",
    "word_embedding",
    "temporal_affine",
    "temporal_softmax_loss",
)
# Sizes where every mutant must show: T > 1, H > 1, a vocabulary below N·T (repeated words).
RICH = {"N": 2, "T": 3, "D": 3, "H": 3, "4H": 12, "V": 3, "M": 2}
FAST = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass(frozen=True)
class Case:
    sizes: Mapping[str, int]
    values: dict[str, Any]
    douts: dict[str, np.ndarray]


def draw_case(fn: LayerFunction, sizes: Mapping[str, int], seed: int) -> Case:
    """Inputs by domain and upstream gradients (``"d" + output``) of the given sizes."""
    rng = np.random.default_rng(seed)
    values: dict[str, Any] = {}
    for spec in fn.inputs:
        shape = spec.resolve(sizes)
        if spec.domain in ("index", "labels"):
            assert spec.high is not None
            values[spec.name] = rng.integers(0, sizes[spec.high], size=shape)
        elif spec.domain == "mask":
            values[spec.name] = rng.random(shape) < 0.6
        else:
            values[spec.name] = rng.uniform(-spec.bound, spec.bound, size=shape)
    douts = {f"d{o.name}": rng.normal(size=o.resolve(sizes)) for o in fn.outputs}
    return Case(sizes, values, douts)


def cases(name: str) -> st.SearchStrategy[Case]:
    fn = get_function(name)
    return st.tuples(fn.sizes(), st.integers(0, 2**32 - 1)).map(lambda p: draw_case(fn, *p))


def rich_case(name: str, seed: int) -> Case:
    case = draw_case(get_function(name), RICH, seed)
    if "mask" in case.values:
        case.values["mask"][0, :2] = (False, True)
    return case


def reference(name: str) -> Reference:
    ref = get_function(name).reference
    assert ref is not None
    return ref


def upstream(name: str, case: Case) -> dict[str, np.ndarray]:
    """A backward=None entry's value is its own output: its upstream gradient is 1."""
    return case.douts if get_function(name).backward is not None else {"dloss": np.ones(())}


def torch_values(fn: LayerFunction, values: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for spec in fn.inputs:
        tensor = torch.from_numpy(np.array(values[spec.name]))
        out[spec.name] = tensor.requires_grad_(True) if spec.differentiable else tensor
    return out


def pairing(name: str, values: Mapping[str, Any], douts: Mapping[str, np.ndarray]) -> float:
    """⟨dout, out⟩ summed over the outputs: its gradient is what the backward returns."""
    outs = reference(name).forward(values)
    return float(sum(np.sum(d * outs[k[1:]]) for k, d in douts.items()))


@pytest.mark.parametrize("name", NAMES)
@FAST
@given(data=st.data())
def test_reference_forward_matches_the_torch_twin(name: str, data: st.DataObject) -> None:
    fn = get_function(name)
    case = data.draw(cases(name))
    got = reference(name).forward(case.values)
    want = load_twins()[name](torch_values(fn, case.values))
    assert set(got) == set(want) == {o.name for o in fn.outputs}
    for output in fn.outputs:
        assert np.shape(got[output.name]) == output.resolve(case.sizes)
        np.testing.assert_allclose(
            got[output.name], want[output.name].detach().numpy(), rtol=1e-12, atol=1e-12
        )


@pytest.mark.parametrize("name", NAMES)
@FAST
@given(data=st.data())
def test_reference_backward_matches_torch_autograd(name: str, data: st.DataObject) -> None:
    fn = get_function(name)
    case = data.draw(cases(name))
    tensors = torch_values(fn, case.values)
    outs = load_twins()[name](tensors)
    total = sum(
        (outs[k[1:]] * torch.from_numpy(np.array(d))).sum() for k, d in upstream(name, case).items()
    )
    want = torch.autograd.grad(total, [tensors[fn.wrt(g)] for g in fn.grads])
    got = reference(name).backward(case.values, case.douts)
    assert set(got) == set(fn.grads)
    for g, tensor in zip(fn.grads, want, strict=True):
        np.testing.assert_allclose(got[g], tensor.numpy(), rtol=1e-10, atol=1e-12, err_msg=g)


@pytest.mark.parametrize("name", NAMES)
@settings(FAST, max_examples=8)
@given(data=st.data())
def test_reference_backward_matches_finite_differences(name: str, data: st.DataObject) -> None:
    fn = get_function(name)
    case = data.draw(cases(name))
    douts = upstream(name, case)
    got = reference(name).backward(case.values, case.douts)
    step = 1e-6
    for g in fn.grads:
        base = case.values[fn.wrt(g)]
        numeric = np.zeros_like(base)
        for index in np.ndindex(base.shape):
            plus, minus = base.copy(), base.copy()
            plus[index] += step
            minus[index] -= step
            hi = pairing(name, {**case.values, fn.wrt(g): plus}, douts)
            lo = pairing(name, {**case.values, fn.wrt(g): minus}, douts)
            numeric[index] = (hi - lo) / (2 * step)
        np.testing.assert_allclose(got[g], numeric, rtol=1e-6, atol=1e-7, err_msg=g)


def mutants_of(name: str, case: Case) -> list[Any]:
    ref = reference(name)
    assert ref.mutants is not None
    return ref.mutants(case.values, case.douts)


def mutant_ids() -> list[tuple[str, int]]:
    return [(name, k) for name in NAMES for k in range(len(mutants_of(name, rich_case(name, 0))))]


@pytest.mark.parametrize("name", NAMES)
def test_the_mutants_are_the_same_list_at_every_size(name: str) -> None:
    """The diagnosis pairs mutants across trials of different sizes by position."""
    fn = get_function(name)
    tiny = draw_case(fn, {k: 4 if k == "4H" else 1 for k in RICH} | {"V": 2}, 0)
    labels = [(label, what) for label, what, _ in mutants_of(name, rich_case(name, 0))]
    assert [(label, what) for label, what, _ in mutants_of(name, tiny)] == labels


@pytest.mark.parametrize(("name", "index"), mutant_ids(), ids=lambda p: str(p))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_each_mutant_differs_from_the_reference(name: str, index: int, seed: int) -> None:
    """On sizes where the mistake matters, every tensor a mutant names has the reference's
    shape and at least one of them differs clearly."""
    ref = reference(name)
    case = rich_case(name, seed)
    right = {**ref.forward(case.values), **ref.backward(case.values, case.douts)}
    _, what, tensors = mutants_of(name, case)[index]
    assert tensors, what
    for key, tensor in tensors.items():
        assert np.shape(tensor) == np.shape(right[key]), (what, key)
    gaps = [np.max(np.abs(tensors[k] - right[k]), initial=0.0) for k in tensors]
    assert max(gaps) > 1e-3, what
