"""Every entry of the layer catalogue, automatically: its declaration is consistent, its
reference backward agrees with finite differences of its reference forward and with torch
autograd of its torch twin, and each of its mutants differs from it.

A new entry gets these tests by being registered; the family test files add what is
particular to a family (modes, ties, the corpus of submissions)."""

from __future__ import annotations

from random import Random
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from gradcheck.student.catalogue.check import FunctionCase, FunctionCheck
from gradcheck.student.catalogue.registry import CATALOGUE, load
from gradcheck.student.catalogue.spec import LayerFunction

load()
NAMES = sorted(CATALOGUE)
_SETTINGS = settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _random_case(fn: LayerFunction, data: st.DataObject) -> FunctionCase:
    """Drawn sizes and configs, then uniform random values: away from kinks and ties,
    where finite differences are exact enough to judge a reference by."""
    check = FunctionCheck(fn)
    case = data.draw(check.cases())
    seed = data.draw(st.integers(0, 2**31 - 1))
    return check.variant(case, seed)


def test_the_catalogue_has_every_family_of_the_course() -> None:
    families = {fn.family for fn in CATALOGUE.values()}
    assert {"affine", "activation", "sandwich"} <= families


@pytest.mark.parametrize("name", NAMES)
def test_the_declaration_is_consistent(name: str) -> None:
    fn = CATALOGUE[name]
    assert all(e.isidentifier() for e in fn.entry_points)
    known = {i.name for i in fn.inputs} | {c.name for c in fn.configs}
    assert set(fn.call_order) == known and len(fn.call_order) == len(known)
    for grad in fn.grads:
        assert grad.startswith("d") and fn.input(fn.wrt(grad)).differentiable, grad
    assert fn.reference is not None and fn.description


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
@_SETTINGS
def test_the_reference_backward_agrees_with_finite_differences(
    name: str, data: st.DataObject
) -> None:
    fn = CATALOGUE[name]
    case = _random_case(fn, data)
    records = FunctionCheck(fn).references(case)
    assert records or (not case.douts and fn.backward is not None)
    for record in records:
        assert record.verdict == "pass", record


def _to_torch(fn: LayerFunction, case: FunctionCase) -> tuple[dict[str, Any], list[str]]:
    import torch

    values: dict[str, Any] = {}
    wrt = [fn.wrt(g) for g in fn.grads]
    for name, value in case.values.items():
        if isinstance(value, np.ndarray):
            tensor = torch.tensor(value)
            if name in wrt:
                tensor = tensor.to(torch.float64).requires_grad_(True)
            values[name] = tensor
        else:
            values[name] = value
    return values, wrt


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
@_SETTINGS
def test_the_reference_agrees_with_its_torch_twin(name: str, data: st.DataObject) -> None:
    pytest.importorskip("torch")
    import torch

    from reference_impls.torch_catalogue import load as load_twins

    twins = load_twins()
    assert name in twins, f"{name} has no torch twin in reference_impls/torch_catalogue"
    fn = CATALOGUE[name]
    case = _random_case(fn, data)
    check = FunctionCheck(fn)
    ours = check.reference_tensors(case)
    values, wrt = _to_torch(fn, case)
    theirs = twins[name](values)
    if case.douts or fn.backward is None:  # no douts where backward_when says no backward
        if fn.backward is None:
            objective = theirs[fn.outputs[0].name]
        else:
            objective = sum(
                (theirs[o.name] * torch.tensor(case.douts[f"d{o.name}"])).sum() for o in fn.outputs
            )
        grads = torch.autograd.grad(objective, [values[n] for n in wrt], allow_unused=True)
        theirs.update({f"d{n}": g for n, g in zip(wrt, grads, strict=True) if g is not None})
    scale = max(1.0, *(float(np.max(np.abs(v), initial=0.0)) for v in ours.values()))
    for key, value in theirs.items():
        if key in ours:
            got = value.detach().numpy() if hasattr(value, "detach") else np.asarray(value)
            np.testing.assert_allclose(ours[key], got, rtol=1e-10, atol=1e-10 * scale, err_msg=key)
    assert set(ours) <= set(theirs), f"the twin lacks {sorted(set(ours) - set(theirs))}"


def _differs(check: FunctionCheck, case: FunctionCase, mistake: str) -> bool:
    reference = check.reference_tensors(case)
    for mutant in check.mutants(case):
        if mutant.mistake == mistake:
            return any(
                np.shape(v) != np.shape(reference[k]) or not np.allclose(v, reference[k])
                for k, v in mutant.tensors.items()
            )
    return False


@pytest.mark.parametrize("name", [n for n in NAMES if CATALOGUE[n].reference.mutants])  # type: ignore[union-attr]
def test_every_mutant_differs_from_the_reference(name: str) -> None:
    """Some drawn case tells each mutant from the reference (on a degenerate one, a batch
    of one row or a single output, a mutant may well coincide with it)."""
    fn = CATALOGUE[name]
    check = FunctionCheck(fn)
    random_cases = check.cases().map(lambda c: check.variant(c, 0))
    config = settings(max_examples=60, phases=[Phase.generate], database=None, deadline=None)
    mistakes = {m.mistake for m in check.mutants(find(random_cases, lambda c: True))}
    for mistake in mistakes:
        try:
            find(
                random_cases,
                lambda c, m=mistake: _differs(check, c, m),  # type: ignore[misc]
                settings=config,
                random=Random(0),
            )
        except NoSuchExample:
            pytest.fail(f"{name}: the mutant '{mistake}' equals the reference on every case")
