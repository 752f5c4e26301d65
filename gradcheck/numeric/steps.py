"""The error model per dtype: step sizes for finite differences and comparison tolerances.

All the numbers that decide a verdict live here, keyed by dtype where they depend on one,
so that they can be read, argued about and changed in one place: the steps (``fd_step``,
``COMPLEX_STEP``), the comparison tolerances (``TOLERANCES``, ``black_box_tolerance``), the
thresholds that call a point a kink, the agreement a complex step must show, the domain
margins of drawn cases, the scales, expected errors and bands of the comparison matrix,
and the scales of training trajectories. Each constant's comment says where it is used and
why it has its value.

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

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Literal

import numpy as np

from gradcheck.errors import GradcheckError

__all__ = [
    "BLACK_BOX_ROUNDING_ULPS",
    "COMPLEX_AGREEMENT_BARS",
    "COMPLEX_AGREEMENT_ULPS",
    "COMPLEX_STEP",
    "COMPLEX_STEP_BAR",
    "FRAMEWORK_DTYPES",
    "FRAMEWORK_ROUNDING_ULPS",
    "KINK_BAND_ULPS",
    "KINK_MARGIN",
    "KINK_NOISE_FACTOR",
    "KINK_RATIO",
    "MATRIX_BANDS",
    "MATRIX_EXPECTED_ULPS",
    "MATRIX_SCALE_FRACTION",
    "MAX_EFFECTIVE_EPS",
    "MEASURABLE_FACTOR",
    "PROBABILITY_MARGIN",
    "SUBNORMAL_FLOOR",
    "TOLERANCES",
    "TRAJECTORY_TOLERANCES",
    "Tolerance",
    "black_box_tolerance",
    "fd_step",
    "framework_tolerance",
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


# The complex step: Im L(θ + i·t·v)/t with t = COMPLEX_STEP (times max(1, |θ_i|) for a
# coordinate of the core). No difference is formed, so t can sit far below ε: the method's
# own error, t²·L‴/6, is then ~1e-40 relative. The error bar of a core complex-step
# derivative, COMPLEX_STEP_BAR·(t·max(1, |θ_i|))²·max(1, |L|), bounds that term generously.
COMPLEX_STEP = 1e-20
COMPLEX_STEP_BAR = 1e6

# A black-box loss earns the complex step when its complex-step slope along a direction
# lies within COMPLEX_AGREEMENT_BARS error bars of the Richardson central difference, plus
# COMPLEX_AGREEMENT_ULPS·ε of both slopes for their rounding; its real part at complex input
# must match L to COMPLEX_AGREEMENT_ULPS·ε·max(1, |L|).
COMPLEX_AGREEMENT_BARS = 4.0
COMPLEX_AGREEMENT_ULPS = 1e3

# The central oracle's step is ε_eff^(1/3) with ε_eff = max(ε, σ/|L|), capped at
# MAX_EFFECTIVE_EPS: a loss whose noise rivals its value gets no step beyond 0.1.
MAX_EFFECTIVE_EPS = 1e-3


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
BLACK_BOX_ROUNDING_ULPS: Mapping[str, float] = MappingProxyType(
    {"float64": 64.0, "float32": 1024.0}
)
# A gradient that underflows to a subnormal in one computation and to 0 in another is not
# wrong: any difference below SUBNORMAL_FLOOR × the dtype's smallest normal number passes.
SUBNORMAL_FLOOR = 4


def black_box_tolerance(grad_dtype: str | np.dtype[np.floating]) -> Tolerance:
    """The tolerance of ``check_gradients`` for gradients of dtype ``grad_dtype``."""
    name = np.dtype(grad_dtype).name
    ulps = BLACK_BOX_ROUNDING_ULPS.get(name, BLACK_BOX_ROUNDING_ULPS["float32"])
    return _black_box(ulps * machine_eps(name), float(np.finfo(name).tiny))


def _black_box(bound: float, tiny: float) -> Tolerance:
    """rtol = atol = ``bound`` of the scale, 4 error bars, and the subnormal floor."""
    return Tolerance(
        rtol=bound,
        atol=bound,
        error_bar_factor=4.0,
        scale_floor=1.0,
        rounding_factor=0.0,
        floor=SUBNORMAL_FLOOR * tiny,
    )


# Kinks. Two correct engines' pre-activations z may lie KINK_BAND_ULPS·ε of the terms summed
# into z apart (the analytic ``rounding_factor``), so a z that close to a kink is "on" it
# (``kinks.subgradient_ambiguity``). Along a probe, the second differences S(t) and S(2t) of
# a smooth loss agree to O(t²); they differ by more than KINK_RATIO of the larger one, and
# by more than KINK_NOISE_FACTOR times the noise that reaches them, only near a kink
# (``directional.CentralOracle.refine``). Drawn cases keep every pre-activation at least
# KINK_MARGIN·max(1, |kink|) from a kink unless asked not to (``strategies.cases``).
KINK_BAND_ULPS = 64
KINK_RATIO = 1e-3
KINK_NOISE_FACTOR = 10
KINK_MARGIN = 1e-3

# How far from 0 and 1 a drawn case's ``bce`` prediction must stay, per dtype, so that the
# loss and its finite differences stay finite.
PROBABILITY_MARGIN: Mapping[str, float] = MappingProxyType({"float64": 1e-6, "float32": 1e-3})

# The comparison matrix measures |g − g_ref| / max(|g_ref|, s) with
# s = MATRIX_SCALE_FRACTION·max|g_ref| of the tensor, so that entries near zero do not
# dominate. Its summary tells two worst errors apart only beyond MEASURABLE_FACTOR.
MATRIX_SCALE_FRACTION = 1e-3
MEASURABLE_FACTOR = 2.0

# The matrix colours a cell by its worst |g − g_ref| / x, where x, the error a correct engine
# is expected to show in dtype d, is per entry
#
#     x = MATRIX_EXPECTED_ULPS[d]·ε_d·S + k·e_ref
#
# with S the largest |g_ref| of the entry's tensor (of the network when the tensor is all
# zero), e_ref the reference's error bar and k the verdict's error_bar_factor (4), floored at
# SUBNORMAL_FLOOR times d's smallest normal number. Correct engines (core, torch, jax on the
# CPU, MLPs 16-32-32-8 to 64-128-128-10, tanh/relu/sigmoid/gelu, mse/softmax_ce/bce) sit at
# most 3.1 ulps of S from float64 differences in float32, and within 0.11 of x in float64
# (the reference's bars); a gradient 1e-3 off relative is 500× x in float32. 16 ulps leaves
# 5× room for longer sums. MATRIX_BANDS names the bands of worst / x: each holds the ratios
# up to its bound, and their names key the writers' markers.
MATRIX_EXPECTED_ULPS: Mapping[str, float] = MappingProxyType({"float64": 16.0, "float32": 16.0})
MATRIX_BANDS: tuple[tuple[str, float], ...] = (
    ("expected", 1.0),
    ("above", 10.0),
    ("far", float("inf")),
)

# How far (relative, ∞-norm) a reference's SGD parameters may drift from the core's before a
# step counts as diverged. Two correct engines differ by rounding only, and rounding grows
# along a trajectory: a few hundred ulps per step, amplified by the loss's curvature. float64:
# 1e-10 (≈ 5·10⁵ ulps, a tenth of the analytic rtol above); float32: 1e-4 (≈ 800 ulps, the
# analytic rtol itself). Measured drift of a correct 3-5-2 tanh network over 50 steps at
# lr 0.1: 5e-16 (float64) and 2e-7 (float32).
TRAJECTORY_TOLERANCES: Mapping[str, float] = MappingProxyType({"float64": 1e-10, "float32": 1e-4})

# Frameworks (``gradcheck.torch``, ``gradcheck.jax``) compute in dtypes that NumPy's finfo
# does not all know: each one's machine epsilon and smallest normal number.
FRAMEWORK_DTYPES: Mapping[str, tuple[float, float]] = MappingProxyType(
    {
        "float64": (2.0**-52, 2.0**-1022),
        "float32": (2.0**-23, 2.0**-126),
        "float16": (2.0**-10, 2.0**-14),
        "bfloat16": (2.0**-7, 2.0**-126),
    }
)
# A framework's derivative computed in dtype d is judged like ``black_box_tolerance``'s, with
# FRAMEWORK_ROUNDING_ULPS[d]·ε_d as rtol and atol: float64 and float32 as for NumPy code; the
# half types round every intermediate to 8 or 11 bits, and their products and sums are
# accumulated in float32 by the frameworks' kernels, so a correct derivative sits a few ulps
# of the scale from the truth (32 ulps: 3 % of the scale in float16, 25 % in bfloat16).
FRAMEWORK_ROUNDING_ULPS: Mapping[str, float] = MappingProxyType(
    {**BLACK_BOX_ROUNDING_ULPS, "float16": 32.0, "bfloat16": 32.0}
)


def framework_tolerance(dtype: str) -> Tolerance:
    """The tolerance of a framework's derivative computed in ``dtype`` (a name of
    ``FRAMEWORK_DTYPES``), against float64 numerical derivatives."""
    if dtype not in FRAMEWORK_DTYPES:
        raise GradcheckError(
            f"unsupported dtype {dtype!r} (supported: {', '.join(FRAMEWORK_DTYPES)})"
        )
    eps, tiny = FRAMEWORK_DTYPES[dtype]
    return _black_box(FRAMEWORK_ROUNDING_ULPS[dtype] * eps, tiny)
