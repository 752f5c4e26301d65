"""A registry of named, optionally parametrised entries.

Activations and losses are looked up by text such as ``"tanh"`` or
``"leaky_relu(slope=0.2)"``. The canonical text of an entry omits parameters at
their defaults, so that one entry has exactly one spelling in specs, reports and
reproduction lines.
"""

from __future__ import annotations

import difflib
import importlib
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from gradcheck.errors import GradcheckError, ParameterError, UnknownNameError

__all__ = ["Registry", "Table", "format_call", "parse_call"]

T = TypeVar("T")

_CALL = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*$")


def parse_call(text: str) -> tuple[str, dict[str, float]]:
    """Split ``"name(key=1.5, other=2)"`` into ``("name", {"key": 1.5, "other": 2.0})``."""
    match = _CALL.match(text)
    if match is None:
        raise UnknownNameError(f"cannot read {text!r}: expected NAME or NAME(key=value, ...)")
    name, inner = match.group(1), match.group(2)
    params: dict[str, float] = {}
    if inner and inner.strip():
        for item in inner.split(","):
            key, sep, value = item.partition("=")
            key = key.strip()
            if not sep or not key.isidentifier():
                raise UnknownNameError(
                    f"cannot read {text!r}: parameter {item.strip()!r} is not key=value"
                )
            try:
                number = float(value)
            except ValueError:
                raise UnknownNameError(
                    f"cannot read {text!r}: parameter {key} must be a number, got {value.strip()!r}"
                ) from None
            if not math.isfinite(number):
                raise UnknownNameError(f"cannot read {text!r}: parameter {key} must be finite")
            params[key] = number
    return name, params


def format_call(name: str, params: Mapping[str, float]) -> str:
    """The inverse of :func:`parse_call`, with keys sorted and numbers in shortest form."""
    if not params:
        return name
    inner = ", ".join(f"{key}={params[key]!r}" for key in sorted(params))
    return f"{name}({inner})"


@dataclass(frozen=True)
class _Entry(Generic[T]):
    factory: Callable[..., T]
    defaults: Mapping[str, float]
    summary: str


class Registry(Generic[T]):
    """Named factories. ``get("name(k=v)")`` builds the entry; ``sorted(registry)`` lists names.

    A factory is called as ``factory(canonical_text, **params)`` with every parameter
    filled in from the defaults, so the built entry can carry its own canonical name.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, _Entry[T]] = {}
        self._cache: dict[str, T] = {}

    def register(
        self, name: str, factory: Callable[..., T], *, summary: str = "", **defaults: float
    ) -> None:
        if not name.isidentifier():
            raise ValueError(f"{self.kind} name {name!r} must be an identifier")
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = _Entry(factory, dict(defaults), summary)

    def __contains__(self, text: object) -> bool:
        if not isinstance(text, str):
            return False
        try:
            self.get(text)
        except GradcheckError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def summary(self, name: str) -> str:
        return self._entry(name).summary

    def defaults(self, name: str) -> Mapping[str, float]:
        return dict(self._entry(name).defaults)

    def canonical(self, text: str) -> str:
        """The one spelling of ``text``: parameters at their defaults are dropped."""
        name, params = parse_call(text)
        entry = self._entry(name)
        unknown = sorted(set(params) - set(entry.defaults))
        if unknown:
            allowed = ", ".join(sorted(entry.defaults)) or "none"
            raise UnknownNameError(
                f"{self.kind} {name!r} has no parameter {unknown[0]!r} (parameters: {allowed})"
            )
        changed = {k: v for k, v in params.items() if v != entry.defaults[k]}
        return format_call(name, changed)

    def get(self, text: str) -> T:
        """Build (once, then cached) the entry that ``text`` names."""
        cached = self._cache.get(text)  # any spelling seen before: no parsing on hot paths
        if cached is not None:
            return cached
        key = self.canonical(text)
        if key not in self._cache:
            name, params = parse_call(key)
            entry = self._entries[name]
            try:
                self._cache[key] = entry.factory(key, **{**entry.defaults, **params})
            except ValueError as error:
                raise ParameterError(f"{self.kind} {key}: {error}") from None
        self._cache[text] = self._cache[key]
        return self._cache[key]

    def _entry(self, name: str) -> _Entry[T]:
        try:
            return self._entries[name]
        except KeyError:
            close = difflib.get_close_matches(name, self._entries, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            known = ", ".join(sorted(self._entries))
            raise UnknownNameError(f"unknown {self.kind} {name!r}{hint} (known: {known})") from None


class Table(Mapping[str, T]):
    """Entries by plain name (assignments, layer functions, model classes): ``register``
    refuses a name twice, and a lookup of an unknown name raises UnknownNameError with the
    closest name and every known one. The ``modules`` that register the entries are
    imported on the first lookup, so that the table is complete whoever asks first."""

    def __init__(self, kind: str, modules: tuple[str, ...] = ()) -> None:
        self.kind = kind
        self._modules = modules
        self._loaded = not modules
        self._entries: dict[str, T] = {}

    def register(self, name: str, value: T) -> T:
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = value
        return value

    def load(self) -> Table[T]:
        if not self._loaded:
            self._loaded = True
            for module in self._modules:
                importlib.import_module(module)
        return self

    def lookup(self, name: str) -> T:
        entries = self.load()._entries
        try:
            return entries[name]
        except KeyError:
            close = difflib.get_close_matches(name, entries, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            known = ", ".join(sorted(entries))
            raise UnknownNameError(f"unknown {self.kind} {name!r}{hint} (known: {known})") from None

    def __getitem__(self, name: str) -> T:
        return self.load()._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.load()._entries)

    def __len__(self) -> int:
        return len(self.load()._entries)
