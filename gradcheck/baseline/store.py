"""The baseline file: recorded gradients in a compressed ``.npz`` and a JSON index beside it.

    baselines/core.npz    e0.float64, e1.float32, … (each entry's tensors, packed flat)
    baselines/core.json   {"format": "gradcheck.baseline/1", "entries": [{key, source, …}]}

An entry is keyed by a stable string: ``case:<engine>:<spec>:seed=<n>:batch=<b>`` for a
fixed case recorded by ``gradcheck baseline record``, ``<test node id>::<label>`` for a check
recorded by the pytest plugin. ``inputs`` is a SHA-256 fingerprint of the inputs the
gradients were taken at, so that a drift can be told apart: different inputs (initialisation
or data changed) or the same inputs and different gradients (backprop or the loss changed).
Both files are written atomically, the arrays first.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gradcheck.errors import GradcheckError
from gradcheck.io import atomic_write_bytes, atomic_write_text, npz_json_pair, pair_stem

__all__ = ["BASELINE_FORMAT", "Baseline", "BaselineEntry", "fingerprint", "stem_of"]

BASELINE_FORMAT = "gradcheck.baseline/1"
Array = np.ndarray


def fingerprint(arrays: Mapping[str, object]) -> str:
    """SHA-256 over each array's name, dtype, shape and bytes (in name order)."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        array = np.ascontiguousarray(np.asarray(arrays[name]))
        digest.update(f"{name}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class BaselineEntry:
    """The loss and gradients of one check, and where they came from (``source``)."""

    key: str
    source: Mapping[str, Any]
    loss: float
    grads: Mapping[str, Array]
    inputs: str = ""

    @property
    def dtype(self) -> str:
        dtypes = {np.asarray(g).dtype.name for g in self.grads.values()}
        return dtypes.pop() if len(dtypes) == 1 else "mixed"

    def packed(self, number: int) -> tuple[dict[str, Array], dict[str, Any]]:
        """The entry's gradients packed into one flat array per dtype, and its index record
        (each tensor's array, offset and shape): a few arrays per entry keep the .npz small."""
        flats: dict[str, list[Array]] = {}
        offsets: dict[str, int] = {}
        tensors = {}
        for name, g in self.grads.items():
            array = np.asarray(g)
            array_name = f"e{number}.{array.dtype.name}"
            offset = offsets.get(array_name, 0)
            flats.setdefault(array_name, []).append(array.ravel())
            offsets[array_name] = offset + array.size
            tensors[name] = {
                "array": array_name,
                "offset": offset,
                "shape": list(array.shape),
                "max_abs": float(np.max(np.abs(array), initial=0.0)),
            }
        record = {
            "key": self.key,
            "source": dict(self.source),
            "loss": self.loss,
            "inputs": self.inputs,
            "dtype": self.dtype,
            "tensors": tensors,
        }
        return {k: np.concatenate(v) for k, v in flats.items()}, record


# ``baselines/core`` from ``baselines/core``, ``…/core.npz`` or ``…/core.json``.
stem_of = pair_stem


@dataclass
class Baseline:
    """The entries of one baseline file, by key."""

    entries: dict[str, BaselineEntry] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, key: str) -> BaselineEntry | None:
        return self.entries.get(key)

    def update(self, entries: Iterable[BaselineEntry]) -> None:
        for entry in entries:
            self.entries[entry.key] = entry

    @classmethod
    def load(cls, path: str | Path) -> Baseline:
        """Read ``path`` (the stem, .npz or .json); a missing or damaged file is an error."""
        stem = stem_of(path)
        arrays_path, index_path = npz_json_pair(stem)
        for required in (index_path, arrays_path):
            if not required.is_file():
                raise GradcheckError(f"baseline file {required} does not exist")
        try:
            index = json.loads(index_path.read_text())
        except (OSError, ValueError) as error:
            raise GradcheckError(
                f"baseline index {index_path} is not valid JSON: {error}"
            ) from error
        if not isinstance(index, dict) or index.get("format") != BASELINE_FORMAT:
            raise GradcheckError(
                f"{index_path} is not a gradcheck baseline (expected format {BASELINE_FORMAT!r})"
            )
        digest = hashlib.sha256(arrays_path.read_bytes()).hexdigest()
        if index.get("arrays_sha256") not in (None, digest):
            raise GradcheckError(
                f"{arrays_path} does not match its index {index_path} (an interrupted save, or "
                "one of the two files was replaced); record the baseline again"
            )
        try:
            with np.load(arrays_path, allow_pickle=False) as arrays:
                entries = [_entry(item, arrays) for item in index["entries"]]
        except (KeyError, TypeError, ValueError, OSError, zipfile.BadZipFile) as error:
            raise GradcheckError(f"baseline {stem} is damaged: {error!r}") from error
        meta = {k: v for k, v in index.items() if k not in ("format", "entries", "arrays_sha256")}
        return cls({e.key: e for e in entries}, meta)

    def save(self, path: str | Path, meta: Mapping[str, Any] | None = None) -> tuple[Path, Path]:
        """Write the arrays, then the index, each atomically. The index records the digest of
        the arrays file, so a save interrupted between the two is caught by :meth:`load`."""
        stem = stem_of(path)
        entries = sorted(self.entries.values(), key=lambda e: e.key)
        arrays: dict[str, Array] = {}
        records = []
        for number, entry in enumerate(entries):
            packed, record = entry.packed(number)
            arrays.update(packed)
            records.append(record)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
        data = buffer.getvalue()
        index = {
            "format": BASELINE_FORMAT,
            "arrays_sha256": hashlib.sha256(data).hexdigest(),
            **(meta if meta is not None else self.meta),
            "entries": records,
        }
        arrays_path, index_path = npz_json_pair(stem)
        arrays_path = atomic_write_bytes(arrays_path, data)
        index_path = atomic_write_text(index_path, json.dumps(index, indent=1) + "\n")
        return arrays_path, index_path


def _entry(item: Mapping[str, Any], arrays: Any) -> BaselineEntry:
    grads = {}
    for name, tensor in item["tensors"].items():
        flat = arrays[tensor["array"]]
        shape = tuple(int(n) for n in tensor["shape"])
        start = int(tensor["offset"])
        size = int(np.prod(shape, dtype=np.int64))
        if start < 0 or start + size > flat.size:
            raise ValueError(f"{item['key']}: {name} lies outside its array {tensor['array']}")
        grads[name] = flat[start : start + size].reshape(shape)
    return BaselineEntry(
        key=item["key"],
        source=item.get("source", {}),
        loss=float(item["loss"]),
        grads=grads,
        inputs=item.get("inputs", ""),
    )
