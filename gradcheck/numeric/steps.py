"""The error model per dtype: step sizes for finite differences and comparison tolerances.

All the numbers that decide a verdict live here, keyed by dtype, so that they can be read,
argued about and changed in one place.

Tolerances are *relative to a scale*: an entry i of a gradient tensor passes when

    |a_i − b_i| ≤ rtol·|b_i| + atol·s + k·e_i + r·ε·M_i

where s = max(‖a‖∞, ‖b‖∞) of that tensor (floored at ``scale_floor`` times the largest
gradient entry of the whole network), e_i is the error bar of a numerical estimate (zero
between two analytic engines), and M_i bounds the size of the terms summed into entry i
(``rounding.term_magnitudes``), so that r·ε·M_i bounds the rounding error of any correct
evaluation order: a gradient that cancels to 1e-16 in one engine and to exactly 0 in
another is not a failure. Differences below 4× the dtype's smallest normal number always
pass: some engines flush subnormal results to zero.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from gradcheck.errors import GradcheckError

__all__ = [
    "TOLERANCES",
    "Tolerance",
    "black_box_tolerance",
    "fd_step",
    "machine_eps",
    "tolerance_for",
]

Kind = Literal["analytic", "numerical"]


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float
    error_bar_factor: float = 0.0
    scale_floor: float = 0.0
    rounding_factor: float = 64.0
    floor: float = 0.0  # an absolute allowance every entry gets (subnormal results)

    def overridden(self, rtol: float | None = None, atol: float | None = None) -> Tolerance:
        """This tolerance with ``rtol``/``atol`` replaced where given; each must be a finite
        number ≥ 0 (a NaN would make every comparison pass)."""
        for name, value in (("rtol", rtol), ("atol", atol)):
            if value is not None and not (np.isfinite(value) and value >= 0):
                raise GradcheckError(f"{name} must be a finite number >= 0, not {value!r}")
        return replace(
            self,
            rtol=self.rtol if rtol is None else float(rtol),
            atol=self.atol if atol is None else float(atol),
        )

    def to_text(self) -> str:
        text = f"rtol={self.rtol:g} atol={self.atol:g}·scale"
        if self.error_bar_factor:
            text += f" + {self.error_bar_factor:g}·errbar"
        return text + f" + {self.rounding_factor:g}·ε·M"


def machine_eps(dtype: str | np.dtype[np.floating]) -> float:
    return float(np.finfo(np.dtype(dtype)).eps)


def fd_step(theta: np.ndarray, dtype: str | np.dtype[np.floating]) -> np.ndarray:
    """h = ε^(1/3)·max(1, |θ|) per entry: balances O(h²) truncation against O(ε/h) rounding."""
    return machine_eps(dtype) ** (1 / 3) * np.maximum(1.0, np.abs(np.asarray(theta, np.float64)))


# Analytic vs analytic: both sides are exact up to rounding, so the bounds are a few hundred
# ulps of the tensor's scale, with room for cancellation in the batch sums. (The complex
# step counts as analytic; its tiny error bar, the method's O(t²) term, is the only one.)
# Numerical pairs: the error bar of the finite difference carries most of the weight; rtol
# and atol only cover what the error bar cannot see (rounding in the analytic side).
TOLERANCES: dict[tuple[str, Kind], Tolerance] = {
    ("float64", "analytic"): Tolerance(
        rtol=1e-9, atol=1e-9, error_bar_factor=4.0, scale_floor=1e-6
    ),
    ("float32", "analytic"): Tolerance(
        rtol=1e-4, atol=1e-4, error_bar_factor=4.0, scale_floor=1e-3
    ),
    ("float64", "numerical"): Tolerance(
        rtol=1e-6, atol=1e-7, error_bar_factor=4.0, scale_floor=1e-6
    ),
    ("float32", "numerical"): Tolerance(
        rtol=2e-6, atol=2e-6, error_bar_factor=4.0, scale_floor=1e-3, rounding_factor=8.0
    ),
}


def tolerance_for(dtype: str, kinds: tuple[Kind, Kind]) -> Tolerance:
    """The tolerance of a comparison in ``dtype`` between engines of the two kinds."""
    kind: Kind = "numerical" if "numerical" in kinds else "analytic"
    return TOLERANCES[(str(dtype), kind)]


# A user's gradient (``check_gradients``) is compared with a numerical estimate taken in
# float64, entry by entry or along a direction u, and is allowed
#
#     k·e + r·ε·(|n| + s·‖u‖₁)
#
# where e is the estimate's error bar, n the numerical value (Σ|g_i u_i| for a direction),
# s the largest gradient entry of the whole network and ε the machine epsilon of the
# gradient's own dtype: r·ε·s is the rounding a correct gradient carries at the scale of
# the network, however small its own entry. Nothing in the bound grows with the number of
# parameters except through ‖u‖₁, which is 1 for a coordinate and stays below 1e-6·s for
# a float64 direction over 10⁵ entries.
ROUNDING_ULPS = {"float64": 64.0, "float32": 1024.0}


def black_box_tolerance(grad_dtype: str | np.dtype[np.floating]) -> Tolerance:
    """The tolerance of ``check_gradients`` for gradients of dtype ``grad_dtype``."""
    name = np.dtype(grad_dtype).name
    ulps = ROUNDING_ULPS.get(name, ROUNDING_ULPS["float32"])
    bound = ulps * machine_eps(name)
    # A gradient that underflows to a subnormal in one computation and to 0 in another is
    # not wrong: anything below 4× the smallest normal number passes.
    return Tolerance(
        rtol=bound,
        atol=bound,
        error_bar_factor=4.0,
        scale_floor=1.0,
        rounding_factor=0.0,
        floor=4 * float(np.finfo(name).tiny),
    )
