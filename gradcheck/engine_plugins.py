"""Engines from outside gradcheck: a module named on the command line, or an installed
package's entry point.

- ``--engine-module pkg.mod`` (``SweepConfig.engine_modules``): the module is imported, and
  its import registers engines with :func:`gradcheck.register_engine`. Sweep workers import
  the same modules when they start, so the engines exist in them however they were started
  (fork or spawn).
- The ``gradcheck.engines`` entry-point group: an installed package declares, in its
  ``pyproject.toml``::

      [project.entry-points."gradcheck.engines"]
      mine = "mypkg.engines:loss_and_grads"

  and ``--engines core,fd,mine`` finds it. The object an entry point names is one of: a
  function ``fn(spec, params, X, y) -> (loss, grads)`` (registered as with
  ``register_engine``), an :class:`~gradcheck.engines.Engine` instance, or an ``Engine``
  subclass that takes no arguments. Entry points are read the first time a name is not
  found, or when the names are listed (``gradcheck check --help``).

A module that cannot be imported raises GradcheckError naming it. An entry point that cannot
be loaded, or names an object of another kind, is set aside with its problem: one broken
package never stops a run that does not ask for its engine, and a run that does gets a
GradcheckError naming the entry point (:func:`entry_point_problem`).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Sequence
from importlib import metadata

from gradcheck.errors import GradcheckError

__all__ = ["ENTRY_POINT_GROUP", "entry_point_problem", "load_engine_modules", "load_entry_points"]

ENTRY_POINT_GROUP = "gradcheck.engines"
_loaded_entry_points = False
_broken: dict[str, str] = {}


def load_engine_modules(modules: Sequence[str]) -> tuple[str, ...]:
    """Import each module (once; Python caches it) and return the engine names registered
    by the ones imported now. A module that is missing or raises is a GradcheckError; so is
    one imported here for the first time that registers no engine."""
    import sys

    from gradcheck.engines import ENGINES

    added: list[str] = []
    for module in modules:
        before = set(ENGINES)
        fresh = module not in sys.modules
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as error:
            raise GradcheckError(
                f"--engine-module {module}: no module named {error.name!r} "
                "(is it on PYTHONPATH, or installed?)"
            ) from None
        except Exception as error:  # the user's module: any failure is theirs to read
            raise GradcheckError(
                f"--engine-module {module}: importing it raised {type(error).__name__}: {error}"
            ) from None
        new = [name for name in ENGINES if name not in before]
        if fresh and not new:
            raise GradcheckError(
                f"--engine-module {module}: it registers no engine "
                "(call gradcheck.register_engine(name, fn) at import)"
            )
        added += new
    return tuple(added)


def load_entry_points() -> tuple[str, ...]:
    """Register every engine of the ``gradcheck.engines`` entry-point group not registered
    yet, once per process; return their names."""
    global _loaded_entry_points
    if _loaded_entry_points:
        return ()
    _loaded_entry_points = True
    from gradcheck.engines import ENGINES

    added = []
    for point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if point.name in ENGINES:
            continue
        try:
            _register(point)
        except GradcheckError as error:
            _broken[point.name] = str(error)
            continue
        added.append(point.name)
    return tuple(added)


def entry_point_problem(name: str) -> str | None:
    """Why the entry point called ``name`` could not be registered, or None when no
    entry point of that name failed."""
    load_entry_points()
    return _broken.get(name)


def _register(point: metadata.EntryPoint) -> None:
    from gradcheck.engines import ENGINES, Engine, register_engine

    where = f"entry point {point.name} = {point.value!r} (group {ENTRY_POINT_GROUP})"
    try:
        target = point.load()
    except Exception as error:
        raise GradcheckError(
            f"{where}: loading it raised {type(error).__name__}: {error}"
        ) from None
    if isinstance(target, Engine):
        engine = target
        ENGINES.register(point.name, lambda _: engine, summary=engine.summary)
    elif inspect.isclass(target) and issubclass(target, Engine):
        cls = target
        ENGINES.register(point.name, lambda _: cls(), summary=cls.summary)
    elif callable(target):
        register_engine(point.name, target, summary=f"{point.value} (entry point)")
    else:
        raise GradcheckError(
            f"{where}: it names a {type(target).__name__}, not an Engine or a function "
            "(spec, params, X, y) -> (loss, grads)"
        )
