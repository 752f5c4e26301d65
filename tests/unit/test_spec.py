"""NetworkSpec: canonical text, parameter naming and shapes, defaults, and every error."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from gradcheck.errors import SpecError, UnknownNameError
from gradcheck.nn.activations import ACTIVATIONS
from gradcheck.nn.losses import LOSSES
from gradcheck.nn.spec import NetworkSpec, param_names

EXAMPLES = {
    "plain": NetworkSpec((4, 8, 3)),
    "residual": NetworkSpec((3, 4, 4, 4, 2), hidden="relu", residual=(2, 3), loss="huber"),
    "parametrised": NetworkSpec(
        (2, 5, 5, 1),
        hidden="leaky_relu(slope=0.2)",
        output="elu(alpha=0.5)",
        loss="huber(delta=0.5)",
        reduction="mean",
        residual=(2,),
        dtype="float32",
    ),
    "bce": NetworkSpec((3, 2, 1), loss="bce"),
    "softmax": NetworkSpec((3, 6, 4), hidden="gelu", loss="softmax_ce"),
}


def _raises(error: type[Exception], fragment: str, **kwargs: object) -> None:
    """NetworkSpec(**kwargs) raises ``error`` whose message contains ``fragment``."""
    kwargs.setdefault("widths", (3, 4, 2))
    with pytest.raises(error) as info:
        NetworkSpec(**kwargs)  # type: ignore[arg-type]
    assert fragment in str(info.value), str(info.value)


# text form ---------------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(EXAMPLES))
def test_to_text_then_parse_round_trips(key: str) -> None:
    spec = EXAMPLES[key]
    text = spec.to_text()
    assert NetworkSpec.parse(text) == spec
    assert NetworkSpec.parse(text).to_text() == text
    assert str(spec) == text


def test_to_text_spells_every_field() -> None:
    assert EXAMPLES["plain"].to_text() == (
        "4-8-3 hidden=tanh output=identity loss=mse reduction=sum residual=- dtype=float64"
    )
    assert EXAMPLES["parametrised"].to_text() == (
        "2-5-5-1 hidden=leaky_relu(slope=0.2) output=elu(alpha=0.5) loss=huber(delta=0.5) "
        "reduction=mean residual=2 dtype=float32"
    )
    assert " residual=2,3 " in EXAMPLES["residual"].to_text()


def test_parse_fills_in_omitted_keys_and_keeps_parenthesised_spaces() -> None:
    assert NetworkSpec.parse("4-8-3") == NetworkSpec((4, 8, 3))
    parsed = NetworkSpec.parse("  2-3-3-1   hidden=leaky_relu( slope = 0.2 )  residual=2 ")
    assert parsed == NetworkSpec((2, 3, 3, 1), hidden="leaky_relu(slope=0.2)", residual=(2,))


def test_canonical_spellings_compare_equal() -> None:
    a = NetworkSpec((3, 3, 3, 1), hidden="leaky_relu(slope=0.01)", output=None, residual=(2, 2))
    b = NetworkSpec((3, 3, 3, 1), hidden="leaky_relu", output="identity", residual=(2,))
    assert a == b
    assert hash(a) == hash(b)
    assert a.hidden == "leaky_relu"
    assert NetworkSpec((3, 1), hidden="elu( alpha = 0.50 )").hidden == "elu(alpha=0.5)"
    assert NetworkSpec((3, 1), loss="huber(delta=1.0)").loss == "huber"
    assert NetworkSpec((4, 4, 4, 1), residual=(2, 1)).residual == (1, 2)
    assert NetworkSpec((3, 2)) != NetworkSpec((3, 2), hidden="relu")


def test_numpy_integer_widths_are_stored_as_int() -> None:
    spec = NetworkSpec((np.int64(3), np.int32(2)))
    assert spec.widths == (3, 2)
    assert all(type(width) is int for width in spec.widths)


# derived views -----------------------------------------------------------------------------


def test_param_names_and_shapes_follow_the_textbook_orientation() -> None:
    spec = NetworkSpec((3, 5, 4, 2))
    assert spec.depth == 3
    assert spec.param_names == ("W1", "b1", "W2", "b2", "W3", "b3") == param_names(3)
    assert spec.param_shapes() == {
        "W1": (5, 3),
        "b1": (5,),
        "W2": (4, 5),
        "b2": (4,),
        "W3": (2, 4),
        "b3": (2,),
    }
    assert list(spec.param_shapes()) == list(spec.param_names)
    assert spec.n_params == 5 * 3 + 5 + 4 * 5 + 4 + 2 * 4 + 2
    assert spec.np_dtype == np.dtype("float64")


@pytest.mark.parametrize("widths", [(1, 1), (7, 2), (2, 9, 9, 9, 1), (4, 1, 4)])
def test_n_params_counts_every_weight_and_bias(widths: tuple[int, ...]) -> None:
    spec = NetworkSpec(widths)
    expected = sum(n_out * (n_in + 1) for n_in, n_out in itertools.pairwise(widths))
    assert spec.n_params == expected
    assert spec.depth == len(widths) - 1
    assert len(spec.param_names) == 2 * spec.depth


def test_activation_of_each_layer() -> None:
    spec = NetworkSpec((3, 4, 4, 2), hidden="relu", output="tanh")
    assert [spec.activation(layer).name for layer in (1, 2, 3)] == ["relu", "relu", "tanh"]
    assert NetworkSpec((3, 2), hidden="relu", output="tanh").activation(1).name == "tanh"


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_output_defaults_to_the_loss_pairing(loss: str) -> None:
    widths = (3, 4, 1) if loss != "softmax_ce" else (3, 4, 2)
    expected = "sigmoid" if loss == "bce" else "identity"
    assert NetworkSpec(widths, loss=loss).output == expected


def test_replace_revalidates() -> None:
    spec = NetworkSpec((3, 4, 2))
    assert spec.replace(hidden="relu").hidden == "relu"
    assert spec.replace(dtype="float32").widths == spec.widths
    with pytest.raises(SpecError):
        spec.replace(residual=(1,))


# errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("widths", "fragment"),
    [
        ((), "need at least an input and an output width"),
        ((3,), "need at least an input and an output width"),
        ((3, 0), "widths[1] = 0 must be a positive integer"),
        ((3, -2, 1), "widths[1] = -2 must be a positive integer"),
        ((3.0, 2), "widths[0] = 3.0 must be a positive integer"),
        (("3", 2), "widths[0] = '3' must be a positive integer"),
        ((3, True), "widths[1] = True must be a positive integer"),
    ],
    ids=["empty", "one", "zero", "negative", "float", "str", "bool"],
)
def test_bad_widths_are_spec_errors(widths: tuple[object, ...], fragment: str) -> None:
    _raises(SpecError, fragment, widths=widths)


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("hidden", "tanhh", "unknown activation 'tanhh'; did you mean 'tanh'?"),
        ("output", "soft_plus", "unknown activation 'soft_plus'"),
        ("loss", "mse2", "unknown loss 'mse2'"),
        ("hidden", "relu(slope=0.1)", "activation 'relu' has no parameter 'slope'"),
        ("reduction", "average", "unknown reduction 'average' (known: sum, mean)"),
        ("dtype", "float16", "unsupported dtype 'float16' (supported: float64, float32)"),
    ],
)
def test_unknown_names_are_unknown_name_errors(field: str, value: str, fragment: str) -> None:
    _raises(UnknownNameError, fragment, **{field: value})


def test_numpy_dtype_objects_are_accepted() -> None:
    assert NetworkSpec((3, 2), dtype=np.dtype("float32")).dtype == "float32"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("widths", "residual", "fragment"),
    [
        ((3, 4, 2), (1,), "residual layer 1 maps width 3 to 4"),
        ((3, 4, 4, 2), (3,), "residual layer 3 maps width 4 to 2"),
        ((3, 4, 4, 2), (0,), "residual layer 0 does not exist (layers 1..3)"),
        ((3, 4, 4, 2), (4,), "residual layer 4 does not exist (layers 1..3)"),
    ],
)
def test_bad_residual_layers_are_spec_errors(
    widths: tuple[int, ...], residual: tuple[int, ...], fragment: str
) -> None:
    _raises(SpecError, fragment, widths=widths, residual=residual)


@pytest.mark.parametrize("output", ["identity", "tanh", "relu", "softplus", "gelu"])
def test_bce_needs_an_output_inside_the_unit_interval(output: str) -> None:
    _raises(SpecError, "loss bce needs outputs in (0.0, 1.0)", loss="bce", output=output)


def test_bce_on_a_residual_output_layer_is_a_spec_error() -> None:
    _raises(SpecError, "a residual output cannot", widths=(2, 2), loss="bce", residual=(1,))


def test_softmax_ce_needs_two_classes() -> None:
    _raises(SpecError, "needs at least 2 output classes, got 1", widths=(3, 1), loss="softmax_ce")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty network description"),
        ("   ", "empty network description"),
        ("four-8-3", "cannot read widths 'four-8-3'"),
        ("4-8-3 hidden", "cannot read 'hidden'"),
        ("4-8-3 colour=red", "cannot read 'colour=red'"),
        ("4-4-4 residual=a,b", "cannot read residual='a,b'"),
    ],
)
def test_parse_garbage_is_a_spec_error(text: str, fragment: str) -> None:
    with pytest.raises(SpecError) as info:
        NetworkSpec.parse(text)
    assert fragment in str(info.value)


def test_parse_reports_bad_names_and_values_like_the_constructor() -> None:
    with pytest.raises(UnknownNameError, match="unknown activation 'nope'"):
        NetworkSpec.parse("4-8-3 hidden=nope")
    with pytest.raises(SpecError, match="must be a positive integer"):
        NetworkSpec.parse("4-0-3")


@pytest.mark.parametrize(
    ("field", "value"), [("hidden", "leaky_relu(slope=2)"), ("output", "elu(alpha=-1)")]
)
def test_invalid_activation_parameter_is_a_spec_error_at_construction(
    field: str, value: str
) -> None:
    with pytest.raises(SpecError):
        NetworkSpec((3, 4, 2), **{field: value})  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_every_activation_can_be_a_hidden_layer(name: str) -> None:
    spec = NetworkSpec((2, 3, 1), hidden=name)
    assert spec.hidden == name
    assert spec.hidden_fn.name == name
