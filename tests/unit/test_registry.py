"""Registry: the text form of names (parse/format/canonical) and its error messages."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradcheck.errors import UnknownNameError
from gradcheck.nn.activations import ACTIVATIONS
from gradcheck.nn.losses import LOSSES
from gradcheck.registry import Registry, format_call, parse_call

REGISTRIES = {"activations": ACTIVATIONS, "losses": LOSSES}

identifiers = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
finite = st.floats(allow_nan=False, allow_infinity=False)


def _toy_registry() -> Registry[tuple[str, dict[str, float]]]:
    """A private registry whose entries are (canonical text, parameters as filled in)."""
    registry: Registry[tuple[str, dict[str, float]]] = Registry("toy")
    registry.register("plain", lambda text: (text, {}))
    registry.register("scaled", lambda text, **kw: (text, kw), k=1.0, shift=0.0)
    return registry


# parse_call / format_call ------------------------------------------------------------------


def test_parse_call_reads_name_and_float_params() -> None:
    assert parse_call("name") == ("name", {})
    assert parse_call("name()") == ("name", {})
    assert parse_call("  name ( key = 1.5 , other=2 ) ") == ("name", {"key": 1.5, "other": 2.0})
    assert parse_call("x(k=-3e-2)") == ("x", {"k": -0.03})


@given(name=identifiers, params=st.dictionaries(identifiers, finite, max_size=4))
def test_format_then_parse_is_the_identity(name: str, params: dict[str, float]) -> None:
    text = format_call(name, params)
    assert parse_call(text) == (name, params)
    # Formatting is deterministic in the key order.
    assert format_call(name, dict(reversed(list(params.items())))) == text


def test_format_call_sorts_keys_and_uses_shortest_numbers() -> None:
    assert format_call("f", {}) == "f"
    assert format_call("f", {"b": 0.2, "a": 1.0}) == "f(a=1.0, b=0.2)"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("1abc", "expected NAME or NAME(key=value, ...)"),
        ("f(", "expected NAME or NAME(key=value, ...)"),
        ("f(1.5)", "parameter '1.5' is not key=value"),
        ("f(a=1,)", "parameter '' is not key=value"),
        ("f(k=abc)", "parameter k must be a number, got 'abc'"),
        ("f(k=nan)", "parameter k must be finite"),
        ("f(k=inf)", "parameter k must be finite"),
        ("f(k=1e400)", "parameter k must be finite"),
    ],
)
def test_parse_call_rejects_malformed_text(text: str, fragment: str) -> None:
    with pytest.raises(UnknownNameError) as info:
        parse_call(text)
    assert fragment in str(info.value)
    assert repr(text) in str(info.value)


# canonical / get ---------------------------------------------------------------------------


def test_canonical_drops_parameters_at_their_defaults() -> None:
    assert ACTIVATIONS.canonical("leaky_relu(slope=0.01)") == "leaky_relu"
    assert ACTIVATIONS.canonical("leaky_relu( slope = 1e-2 )") == "leaky_relu"
    assert ACTIVATIONS.canonical("leaky_relu(slope=0.20)") == "leaky_relu(slope=0.2)"
    assert LOSSES.canonical("huber(delta=1)") == "huber"
    registry = _toy_registry()
    assert registry.canonical("scaled(shift=0, k=2)") == "scaled(k=2.0)"
    assert registry.canonical("scaled(shift=-1, k=2)") == "scaled(k=2.0, shift=-1.0)"


@pytest.mark.parametrize("kind", sorted(REGISTRIES))
def test_every_registered_name_is_its_own_canonical_form(kind: str) -> None:
    registry = REGISTRIES[kind]
    for name in registry:
        assert registry.canonical(name) == name
        defaults = registry.defaults(name)
        assert registry.canonical(format_call(name, defaults)) == name


def test_get_fills_in_defaults_and_passes_the_canonical_text() -> None:
    registry = _toy_registry()
    assert registry.get("scaled") == ("scaled", {"k": 1.0, "shift": 0.0})
    assert registry.get("scaled(k=3)") == ("scaled(k=3.0)", {"k": 3.0, "shift": 0.0})
    # One entry per canonical spelling: equal spellings build one object.
    assert registry.get("scaled(k=3, shift=0)") is registry.get("scaled(k=3.0)")


def test_unknown_name_suggests_the_close_match_and_lists_known_names() -> None:
    with pytest.raises(UnknownNameError) as info:
        ACTIVATIONS.get("tanhh")
    message = str(info.value)
    assert "unknown activation 'tanhh'" in message
    assert "did you mean 'tanh'?" in message
    assert f"(known: {', '.join(sorted(ACTIVATIONS))})" in message
    # UnknownNameError is a KeyError whose str() is not quoted.
    assert isinstance(info.value, KeyError)
    assert not message.startswith(("'", '"'))


def test_unknown_name_without_a_close_match_has_no_suggestion() -> None:
    with pytest.raises(UnknownNameError) as info:
        LOSSES.get("zzzzzzzz")
    assert "did you mean" not in str(info.value)
    assert "known: bce" in str(info.value)


def test_unknown_parameter_names_the_parameter_and_the_allowed_ones() -> None:
    with pytest.raises(UnknownNameError) as info:
        ACTIVATIONS.get("leaky_relu(alpha=0.2)")
    assert str(info.value) == (
        "activation 'leaky_relu' has no parameter 'alpha' (parameters: slope)"
    )
    with pytest.raises(UnknownNameError, match=r"\(parameters: none\)"):
        ACTIVATIONS.get("tanh(k=1)")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("leaky_relu(slope=abc)", "must be a number"), ("leaky_relu(slope=nan)", "must be finite")],
)
def test_non_numeric_or_non_finite_parameter_is_an_unknown_name_error(
    text: str, fragment: str
) -> None:
    with pytest.raises(UnknownNameError, match=fragment):
        ACTIVATIONS.get(text)


# membership and registration ---------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(REGISTRIES))
def test_in_operator_and_iteration(kind: str) -> None:
    registry = REGISTRIES[kind]
    names = list(registry)
    assert names == sorted(names)
    assert len(registry) == len(names) > 0
    for name in names:
        assert name in registry
        assert name.upper() + "_X" not in registry
    assert "no_such_entry" not in registry
    assert "not valid text(" not in registry
    assert 3 not in registry
    assert None not in registry


def test_in_operator_accepts_parametrised_spellings() -> None:
    assert "leaky_relu(slope=0.2)" in ACTIVATIONS
    assert "leaky_relu(alpha=0.2)" not in ACTIVATIONS
    assert "huber(delta=0.5)" in LOSSES


def test_in_operator_answers_for_an_invalid_parameter_value() -> None:
    assert "leaky_relu(slope=2)" not in ACTIVATIONS


def test_register_rejects_duplicates_and_non_identifiers() -> None:
    registry = _toy_registry()
    with pytest.raises(ValueError, match="toy 'plain' is already registered"):
        registry.register("plain", lambda text: (text, {}))
    with pytest.raises(ValueError, match="must be an identifier"):
        registry.register("two words", lambda text: (text, {}))
    assert sorted(registry) == ["plain", "scaled"]


def test_summary_and_defaults_come_from_the_entry() -> None:
    assert ACTIVATIONS.defaults("leaky_relu") == {"slope": 0.01}
    assert LOSSES.defaults("huber") == {"delta": 1.0}
    assert ACTIVATIONS.defaults("tanh") == {}
    defaults = ACTIVATIONS.defaults("elu")
    defaults["alpha"] = 5.0  # a copy: the registry is not changed
    assert math.isclose(ACTIVATIONS.defaults("elu")["alpha"], 1.0)
    for name in ACTIVATIONS:
        assert ACTIVATIONS.summary(name)
