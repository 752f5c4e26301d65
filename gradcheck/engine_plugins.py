"""Engines from outside gradcheck: a module named on the command line, or an installed
package's entry point (read by :mod:`gradcheck.engines` itself, when a name is unknown).

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
import sys
from collections.abc import Sequence

from gradcheck.engines import ENGINES
from gradcheck.errors import GradcheckError

__all__ = ["load_engine_modules"]


def load_engine_modules(modules: Sequence[str]) -> tuple[str, ...]:
    """Import each module (once; Python caches it) and return the engine names registered
    by the ones imported now. A module that is missing or raises is a GradcheckError; so is
    one imported here for the first time that registers no engine."""
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
