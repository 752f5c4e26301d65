"""The options of a gradient check, shared by ``check_gradients``, ``check_layer`` and the
pytest fixture: one dataclass, so that a new option is added, validated and documented once.

``mode`` chooses full (every entry), probe (random directions, then bisection) or auto (full
up to ``gradients.FULL_LIMIT`` parameters); ``method`` the numerical derivative (complex step,
Richardson central differences, or auto: complex step where ``loss_fn`` verifiably supports
it); ``probes`` the probe budget; ``rtol`` and ``atol`` replace the dtype's defaults of
``numeric.steps.black_box_tolerance``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Literal

import numpy as np

from gradcheck.errors import GradcheckError
from gradcheck.numeric.probes import ProbeSettings
from gradcheck.numeric.steps import Tolerance, black_box_tolerance

__all__ = ["METHODS", "MODES", "CheckOptions", "Method", "Mode"]

Mode = Literal["auto", "full", "probe"]
Method = Literal["auto", "complex_step", "central"]
MODES: tuple[Mode, ...] = ("auto", "full", "probe")
METHODS: tuple[Method, ...] = ("auto", "complex_step", "central")


@dataclass(frozen=True)
class CheckOptions:
    mode: Mode = "auto"
    seed: int = 0
    method: Method = "auto"
    probes: ProbeSettings | None = None
    rtol: float | None = None
    atol: float | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise GradcheckError(f"mode must be 'auto', 'full' or 'probe', not {self.mode!r}")
        if self.method not in METHODS:
            raise GradcheckError(
                f"method must be 'auto', 'complex_step' or 'central', not {self.method!r}"
            )
        black_box_tolerance("float64").overridden(self.rtol, self.atol)  # refuses NaN, < 0

    def tolerance(self, dtype: np.dtype[Any]) -> Tolerance:
        """The tolerance for gradients of ``dtype``, with ``rtol``/``atol`` where given."""
        return black_box_tolerance(dtype).overridden(self.rtol, self.atol)

    def probe_settings(self) -> ProbeSettings:
        return self.probes or ProbeSettings()

    def keywords(self) -> dict[str, Any]:
        """The options as the keyword arguments of ``check_gradients``."""
        return {f.name: getattr(self, f.name) for f in fields(CheckOptions)}
