"""Argument types shared by the command-line front ends (argparse ``type=`` callables)."""

from __future__ import annotations

import argparse
import math

__all__ = ["names", "nonnegative", "positive", "seeds"]


def names(text: str) -> tuple[str, ...]:
    """``"core, torch"`` → ``("core", "torch")``; empty items are dropped."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def nonnegative(text: str) -> float:
    """A finite number ≥ 0 (a tolerance: NaN would let every comparison pass)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


def positive(text: str) -> int:
    """An integer ≥ 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def seeds(text: str) -> tuple[int, ...]:
    """``"0,1,2"`` or a range ``"0-4"`` (inclusive) → the seeds, each ≥ 0."""
    chosen: list[int] = []
    for part in names(text):
        low, dash, high = part.partition("-")
        try:
            span = range(int(low), int(high) + 1) if dash else [int(part)]
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a seed or a range of seeds: {part!r}") from None
        chosen.extend(span)
    if not chosen or min(chosen) < 0:
        raise argparse.ArgumentTypeError(f"seeds must be integers >= 0, got {text!r}")
    return tuple(chosen)
