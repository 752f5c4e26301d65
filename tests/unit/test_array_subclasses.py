"""Masked arrays and np.matrix returns: the wire format tags them (``protocol.encode``), the
decoder accepts only the known tags, and ``trial.conform`` names the type as bad_return
instead of comparing its data (a masked array's mask would be dropped silently)."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck.student.labels import Label
from gradcheck.student.protocol import ArraySubclass, ProtocolError, decode, encode
from gradcheck.student.trial import conform


def _roundtrip(value: object) -> object:
    arrays: dict[str, np.ndarray] = {}
    return decode(encode(value, arrays), arrays)


def test_a_masked_array_travels_tagged_with_its_data() -> None:
    masked = np.ma.masked_array([[1.0, 2.0]], mask=[[True, False]])
    arrays: dict[str, np.ndarray] = {}
    assert encode(masked, arrays) == {"$a": "a0", "$s": "MaskedArray"}
    assert type(arrays["a0"]) is np.ndarray
    back = decode({"$a": "a0", "$s": "MaskedArray"}, arrays)
    assert isinstance(back, ArraySubclass) and back.kind == "MaskedArray"
    assert np.array_equal(np.asarray(back), [[1.0, 2.0]])


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_a_matrix_travels_tagged_and_a_plain_array_does_not() -> None:
    back = _roundtrip({"dw": np.asmatrix([[1.0], [2.0]]), "db": np.ones(2)})
    assert isinstance(back, dict)
    assert isinstance(back["dw"], ArraySubclass) and back["dw"].kind == "matrix"
    assert type(back["db"]) is np.ndarray
    assert np.asarray(back["dw"], dtype=np.float32).dtype == np.float32


@pytest.mark.parametrize("tag", ["recarray", "", 3, None])
def test_an_unknown_subclass_tag_is_refused(tag: object) -> None:
    with pytest.raises(ProtocolError, match="unexpected structure"):
        decode({"$a": "a0", "$s": tag}, {"a0": np.ones(2)})


def test_a_second_key_beside_an_array_must_be_the_tag() -> None:
    with pytest.raises(ProtocolError, match="unexpected structure"):
        decode({"$a": "a0", "path": "MaskedArray"}, {"a0": np.ones(2)})


def test_conform_names_a_masked_array_and_a_matrix() -> None:
    expected = {"dx": np.ones((1, 2)), "dw": np.ones((2, 1)), "db": np.ones(1)}
    values = {
        "dx": ArraySubclass("MaskedArray", np.ones((1, 2))),
        "dw": ArraySubclass("matrix", np.ones((2, 1))),
        "db": np.ones(1),
    }
    tensors, problems = conform(expected, values)
    assert list(tensors) == ["db"]
    assert [p.label for p in problems] == [Label.BAD_RETURN, Label.BAD_RETURN]
    assert problems[0].message.startswith(
        "dx is a numpy masked array; return a plain numpy.ndarray of shape (1, 2)"
    )
    assert problems[1].message.startswith("dw is a numpy.matrix, which is always 2-D")
