"""Helpers shared by the tests. Cross-engine checks go through the plugin's ``gradcheck``
fixture (``gradcheck.assert_case``)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Sequence

import pytest

REFERENCE_ENGINES = ("torch", "jax")


def available_engines() -> list[str]:
    """core, fd, cs and every reference engine that is installed. In CI a missing reference is
    an error, not a skip: CI installs both, so their tests must really run there."""
    engines = ["core", "fd", "cs"]
    for name in REFERENCE_ENGINES:
        if importlib.util.find_spec(name) is not None:
            engines.append(name)
        elif os.environ.get("CI") == "true":
            pytest.fail(f"{name} is not installed in CI; `make test` installs the [{name}] extra")
    return engines


def modules_imported_by(statement: str, candidates: Sequence[str]) -> list[str]:
    """Which of ``candidates`` a fresh interpreter has imported after ``statement``."""
    found = f"sorted(set(sys.modules) & set({list(candidates)!r}))"
    code = f"import sys, json; {statement}; print(json.dumps({found}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return list(json.loads(out.stdout))
