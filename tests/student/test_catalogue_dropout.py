"""The dropout entry of the layer catalogue: the NumPy reference against its torch twin and
central differences, the seed-replayed mask and the modes as values, adopting a
submission's own valid mask (and refusing invalid ones), and every mutant a real mistake."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcheck.student.catalogue import get_function
from gradcheck.student.catalogue.dropout import replayed_mask
from tests.student.norm_cases import cases, central_differences, torch_values

FN = get_function("dropout")
REF = FN.reference
assert REF is not None and REF.adopt is not None and REF.mutants is not None


def _case(
    mode: str, p: float = 0.4, seed: int = 3, shape: tuple[int, ...] = (4, 5)
) -> dict[str, Any]:
    x = np.random.default_rng(seed).uniform(0.5, 2.0, shape) * np.where(
        np.arange(np.prod(shape)).reshape(shape) % 2, 1.0, -1.0
    )
    return {"x": x, "dropout_param": {"mode": mode, "p": p, "seed": seed}}


def _global_draws(seed: int, shape: tuple[int, int], p: float) -> list[np.ndarray]:
    """What the course's code draws: np.random.seed(seed), then two masks from the global
    generator (whose state is put back afterwards)."""
    state = np.random.get_state()  # noqa: NPY002
    try:
        np.random.seed(seed)  # noqa: NPY002
        return [np.random.rand(*shape) < p for _ in range(2)]  # noqa: NPY002
    finally:
        np.random.set_state(state)  # noqa: NPY002


def test_the_mask_is_the_courses_seed_replay() -> None:
    course = _global_draws(0, (2, 3), 0.6)[0]
    np.testing.assert_array_equal(replayed_mask((2, 3), 0.6, 0), course)
    # RandomState(0).rand(2, 3) = .549 .715 .603 / .545 .424 .646
    np.testing.assert_array_equal(course, [[True, False, False], [True, True, False]])


def test_train_mode_is_inverted_dropout_and_test_mode_the_identity() -> None:
    train = _case("train", p=0.6, seed=0, shape=(2, 3))
    out = REF.forward(train)["out"]
    keep = replayed_mask((2, 3), 0.6, 0)
    np.testing.assert_allclose(out, np.where(keep, train["x"] / 0.6, 0.0))
    dout = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(REF.backward(train, {"dout": dout})["dx"], dout * keep / 0.6)
    test = _case("test", shape=(2, 3))
    np.testing.assert_array_equal(REF.forward(test)["out"], test["x"])
    np.testing.assert_array_equal(REF.backward(test, {"dout": dout})["dx"], dout)


@given(data=st.data())
@settings(max_examples=30, deadline=None)
def test_reference_matches_the_twin_and_central_differences(data: st.DataObject) -> None:
    torch = pytest.importorskip("torch")
    from reference_impls.torch_catalogue import load

    values, douts = data.draw(cases(FN))
    out = REF.forward(values)["out"]
    tvalues, leaves = torch_values(FN, values)
    theirs = load()["dropout"](tvalues)["out"]
    np.testing.assert_allclose(out, theirs.detach().numpy(), rtol=1e-12, atol=1e-12)
    (tdx,) = torch.autograd.grad((theirs * torch.as_tensor(douts["dout"])).sum(), [leaves["x"]])
    dx = REF.backward(values, douts)["dx"]
    np.testing.assert_allclose(dx, tdx.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, central_differences(FN, values, douts)["dx"], atol=1e-6)


def _binomial_out(values: dict[str, Any], keep: float) -> tuple[np.ndarray, np.ndarray]:
    x, p = values["x"], values["dropout_param"]["p"]
    mask = np.random.default_rng(11).binomial(1, keep, x.shape).astype(bool)
    return mask, x * mask / p


def test_a_valid_mask_drawn_another_way_is_adopted_and_checked_in_the_backward() -> None:
    values = _case("train")
    mask, out = _binomial_out(values, 0.4)
    assert not np.array_equal(mask, replayed_mask(values["x"].shape, 0.4, 3))
    adopted = REF.adopt(values, {"out": out})
    np.testing.assert_array_equal(REF.forward(adopted)["out"], out)
    dout = np.ones_like(out)
    np.testing.assert_allclose(REF.backward(adopted, {"dout": dout})["dx"], mask / 0.4)


def test_a_not_inverted_dropout_is_adopted_but_still_wrong_and_named() -> None:
    values = _case("train")
    _, out = _binomial_out(values, 0.4)
    adopted = REF.adopt(values, {"out": out * 0.4})  # x · mask
    assert not np.allclose(REF.forward(adopted)["out"], out * 0.4)
    named = [m for m in REF.mutants(adopted, {"dout": np.ones_like(out)}) if "out" in m[2]]
    matching = [label for label, _, t in named if np.allclose(t["out"], out * 0.4)]
    assert matching == ["wrong_mode"]


@pytest.mark.parametrize(
    "why",
    ["test mode", "keep and drop swapped", "implausible keep rate", "not a mask", "x * 2"],
)
def test_invalid_outputs_are_not_adopted(why: str) -> None:
    # at p = 0.4 the swapped mask keeps 14 of 24, a plausible count: only the swap shows
    p = 0.4 if why == "keep and drop swapped" else 0.25
    values = _case("test" if why == "test mode" else "train", p=p, shape=(4, 6))
    x, replayed = values["x"], replayed_mask((4, 6), p, 3)
    out = {
        "test mode": x * replayed / p,
        "keep and drop swapped": x * ~replayed / p,
        "implausible keep rate": x / p,  # all 24 kept at p = 0.25
        "not a mask": x * replayed / p + 1.0,
        "x * 2": x * 2.0,
    }[why]
    assert REF.adopt(values, {"out": out}) is values


@pytest.mark.parametrize("mode", ["train", "test"])
def test_every_mutant_differs_from_the_reference(mode: str) -> None:
    values = _case(mode)
    dout = np.random.default_rng(5).standard_normal(values["x"].shape)
    right = {**REF.forward(values), **REF.backward(values, {"dout": dout})}
    mutants = REF.mutants(values, {"dout": dout})
    assert mutants
    for label, mistake, tensors in mutants:
        assert tensors and set(tensors) <= set(right), mistake
        worst = max(float(np.max(np.abs(tensors[k] - right[k]))) for k in tensors)
        assert worst > 1e-3, f"{label}: {mistake}"


def test_the_new_mask_mutant_is_the_next_draw_of_the_seeded_generator() -> None:
    values = _case("train")
    second = _global_draws(3, (4, 5), 0.4)[1]
    dout = np.ones((4, 5))
    fresh = [t for _, m, t in REF.mutants(values, {"dout": dout}) if "new mask" in m]
    np.testing.assert_allclose(fresh[0]["dx"], second / 0.4)


def test_an_adopted_mask_skips_dx_only_where_x_is_zero() -> None:
    assert REF.skip is not None
    values = _case("train")
    values["x"][0, 0] = 0.0
    assert REF.skip(values) == {}
    _, out = _binomial_out(values, 0.4)
    skip = REF.skip(REF.adopt(values, {"out": out}))
    assert skip["dx"][0, 0] and skip["dx"].sum() == 1


def test_a_ge_one_minus_p_mask_is_adopted_even_where_it_equals_the_swapped_one() -> None:
    # on this small x no draw falls in [0.4, 0.6): rand >= 0.6 is also rand >= 0.4
    values = _case("train", p=0.4, seed=807727, shape=(2, 6))
    draws = np.random.RandomState(807727).rand(2, 6)
    keep = draws >= 0.6
    np.testing.assert_array_equal(keep, draws >= 0.4)
    adopted = REF.adopt(values, {"out": values["x"] * keep / 0.4})
    np.testing.assert_array_equal(adopted["mask"], keep)


def test_a_binomial_mask_is_adopted_whole_even_where_x_is_zero() -> None:
    # binomial(1, p) draws rand > 1 - p: at seed 4 on this x it equals rand >= p on the
    # entries x shows, so it must be recognised as a known draw, x = 0 entry included
    values = _case("train", p=0.25, seed=4, shape=(2, 3))
    values["x"][0, 0] = 0.0
    binomial = np.random.RandomState(4).binomial(1, 0.25, (2, 3)).astype(bool)
    adopted = REF.adopt(values, {"out": values["x"] * binomial / 0.25})
    np.testing.assert_array_equal(adopted["mask"], binomial)
