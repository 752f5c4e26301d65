"""Hypothesis draws that depend on the seed alone, not on what the process has imported.

Hypothesis (6.131 on) mixes into its draws constants that it harvests from the source of
every *local* module imported so far (not site-packages, not tests). So the same
``@seed`` draws different cases in processes that imported different modules: a sweep run by
``gradcheck check`` (which imports the CLI), by ``run_sweep`` in a notebook, in a pytest
session, or in a fresh Dask worker. A sweep promises the same report for the same ``--seed``
wherever it runs, so its cells draw with an empty pool of local constants (Hypothesis's own
global constants, the same in every process, are kept).

It also silences Hypothesis's note "Do not use the `random` module inside strategies"
while a draw runs: Hypothesis gives it when the global ``random`` state moved during a draw,
and in a Dask worker the event loop's thread moves it (retry jitter) while a task draws on
another. The draws never read that state (Hypothesis has its own generator), so the note is
wrong there, and it would flood a worker's log.

This reaches into ``hypothesis.internal``; where it does not look as expected (another
Hypothesis version), the draw is left as it is.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["draws_independent_of_imports"]


@contextmanager
def draws_independent_of_imports() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_OTHER_THREADS, category=Warning)
        with _without_local_constants():
            yield


_OTHER_THREADS = "Do not use the `random` module inside strategies"


@contextmanager
def _without_local_constants() -> Iterator[None]:
    try:
        from hypothesis.internal.conjecture import providers
        from hypothesis.internal.constants_ast import Constants
    except ImportError:  # pragma: no cover - a Hypothesis without local constants
        yield
        return
    original = getattr(providers, "_get_local_constants", None)
    cache: Any = getattr(providers, "CONSTANTS_CACHE", None)
    if original is None or cache is None:  # pragma: no cover
        yield
        return
    empty = Constants()
    providers._get_local_constants = lambda: empty  # type: ignore[attr-defined]
    cache.cache.clear()  # permitted constants computed from the local pool are stale
    try:
        yield
    finally:
        providers._get_local_constants = original  # type: ignore[attr-defined]
        cache.cache.clear()
