"""An engine module for the Dask tests: ``dies_once`` computes the core's gradients, but the
first process that runs it on a ``tanh`` network while ``GRADCHECK_TEST_DIE_MARKER`` names a
file that does not exist yet creates that file and exits at once, as a worker killed by the
OOM killer or a signal would. Every later run, in any process, computes normally."""

from __future__ import annotations

import os
from pathlib import Path

import gradcheck
from gradcheck.nn.network import loss_and_grads


def _dies_once(spec, params, X, y):  # type: ignore[no-untyped-def]
    marker = os.environ.get("GRADCHECK_TEST_DIE_MARKER")
    if marker and spec.hidden == "tanh":
        try:
            Path(marker).open("x").close()
        except FileExistsError:
            pass
        else:
            os._exit(9)
    return loss_and_grads(spec, params, X, y)


gradcheck.register_engine(
    "dies_once", _dies_once, summary="the core, after killing its process once"
)
