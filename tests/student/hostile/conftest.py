"""The hostile tests skip where bubblewrap cannot run, since the weak fallback promises less.
CI sets GRADCHECK_REQUIRE_ISOLATION=1 (``.ci/run``, after installing bubblewrap), so that a
sandbox that fails to start there stops the run instead of skipping every attack."""

from __future__ import annotations

import os

from gradcheck.student.isolation import probe

if os.environ.get("GRADCHECK_REQUIRE_ISOLATION") == "1" and not probe().strong:
    raise RuntimeError(
        f"GRADCHECK_REQUIRE_ISOLATION=1, but the sandbox is weak here: {probe().reason}"
    )
