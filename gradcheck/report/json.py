"""The JSON writer: the whole report, schema-versioned, with NumPy values as plain numbers."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import numpy as np

from gradcheck.case import Case
from gradcheck.report.model import Report

__all__ = ["render_json", "to_data"]


def _plain(value: Any) -> Any:
    if isinstance(value, Case):
        return {"spec": value.spec.to_text(), "batch": value.batch, "seed": value.seed}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for name in ("verdict", "pair", "name"):
            if hasattr(type(value), name) and isinstance(getattr(type(value), name), property):
                data[name] = getattr(value, name)
        return data
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no NaN or Infinity
    return value


def to_data(report: Report) -> dict[str, Any]:
    data: dict[str, Any] = _plain(dataclasses.replace(report, images=()))
    # Pictures are files beside the report; the JSON names them.
    data["images"] = [
        {"filename": i.filename, "title": i.title, "caption": i.caption} for i in report.images
    ]
    data["verdict"] = report.sweep.verdict
    return data


def render_json(report: Report) -> str:
    return json.dumps(to_data(report), indent=2, allow_nan=False) + "\n"
