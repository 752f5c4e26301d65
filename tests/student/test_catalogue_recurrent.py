"""What is particular to the recurrent family of the layer catalogue (rnn, lstm, word
embedding, temporal affine, temporal softmax loss); tests/student/test_catalogue.py checks
every entry against finite differences, its torch twin and its mutants.

Here: on sizes where every mistake matters (T > 1, H > 1, repeated words, a mixed mask)
each mutant differs from the reference on every draw, in the reference's shapes; the
mutants are the same list at every size (the diagnosis pairs them by position); the sizes
keep recurrences short and make repeated words likely."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from gradcheck.student.catalogue.registry import get_function
from gradcheck.student.catalogue.spec import LayerFunction, Reference

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


@pytest.mark.parametrize("name", NAMES)
@settings(FAST, max_examples=40)
@given(data=st.data())
def test_the_sizes_keep_recurrences_short_and_weights_small(name: str, data: st.DataObject) -> None:
    """Long recurrences amplify rounding: T ≤ 4, H ≤ 4 and weights in ±1 keep the float64
    evaluation-order differences far inside the tolerance."""
    fn = get_function(name)
    sizes = data.draw(fn.sizes())
    assert sizes.get("T", 1) <= 4 and sizes.get("H", 1) <= 4
    if "4H" in sizes:
        assert sizes["4H"] == 4 * sizes["H"]
    for spec in fn.inputs:
        if spec.name in ("Wx", "Wh", "b", "W", "w"):
            assert spec.bound <= 1.0, spec.name


@FAST
@given(data=st.data())
def test_the_vocabulary_is_small_so_that_words_repeat(data: st.DataObject) -> None:
    """dW[x] += dout is wrong only where a word repeats: with V ≤ 4 any case of five or
    more words has a repeat (pigeonhole)."""
    sizes = data.draw(get_function("word_embedding").sizes())
    assert 2 <= sizes["V"] <= 4


def test_cases_with_repeated_words_are_drawn() -> None:
    fn = get_function("word_embedding")
    found = find(
        st.tuples(fn.sizes(), st.integers(0, 2**32 - 1)),
        lambda p: len(np.unique(draw_case(fn, *p).values["x"])) < p[0]["N"] * p[0]["T"],
        settings=settings(database=None, max_examples=50),
    )
    assert found[0]["N"] * found[0]["T"] > 1
