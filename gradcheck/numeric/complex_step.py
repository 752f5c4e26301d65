"""Does a black-box loss support the complex step? Ask it, then check its answer.

The complex-step derivative Im L(θ + i·t·v)/t is exact only if every operation inside L is
the analytic continuation of its real counterpart. Code that calls ``abs``, ``maximum``,
``clip``, takes ``.real``, or casts to a real dtype either raises, warns (NumPy's
``ComplexWarning``, turned into an error here) or silently returns a wrong derivative. The
first two are caught directly; the third is caught by comparing the complex-step slope
along a random direction with the Richardson central difference along the same
direction, two independent estimates of one number. A loss that passes both may be
probed by complex step; any other falls back to central differences, and the reason is
recorded in the result.
"""

from __future__ import annotations

import numpy as np

from gradcheck.numeric.directional import (
    CentralOracle,
    ComplexStepOracle,
    Directional,
    complex_value,
)
from gradcheck.numeric.evaluator import LossFunctionError
from gradcheck.numeric.steps import COMPLEX_AGREEMENT_BARS, COMPLEX_AGREEMENT_ULPS, machine_eps

__all__ = ["complex_support"]


def complex_support(central: CentralOracle, reference: Directional) -> str | None:
    """None if ``central``'s loss supports the complex step, else the reason.

    ``reference`` is a refined central estimate along some direction; the complex step is
    taken along exactly the direction that estimate probed. The two slopes must agree to
    ``COMPLEX_AGREEMENT_BARS`` error bars of the central one plus ``COMPLEX_AGREEMENT_ULPS``·ε
    of both (``steps``).
    """
    oracle = ComplexStepOracle(central.evaluator, central.params, central.loss)
    try:
        probe = oracle.derivative(reference.direction)  # exactly the direction probed
        real = complex_value(
            central.evaluator,
            {name: value.astype(np.complex128) for name, value in central.params.items()},
        )
    except LossFunctionError as error:
        return str(error)
    eps = machine_eps("float64")
    if abs(real.real - central.loss) > COMPLEX_AGREEMENT_ULPS * eps * max(1.0, abs(central.loss)):
        return f"loss_fn's value at complex input ({real.real!r}) differs from L ({central.loss!r})"
    if reference.kinked:
        return "the probe direction crosses a kink, so the complex step could not be verified"
    rounding = COMPLEX_AGREEMENT_ULPS * eps * (abs(reference.estimate) + abs(probe.estimate))
    slack = COMPLEX_AGREEMENT_BARS * reference.error_bar + rounding
    if not abs(probe.estimate - reference.estimate) <= slack:
        return (
            f"the complex-step slope {probe.estimate:.9g} disagrees with central differences "
            f"{reference.estimate:.9g} ± {reference.error_bar:.2g}: loss_fn is not analytic in "
            "its parameters (abs, maximum, clip, .real or a cast to a real dtype?), or the "
            "parameters sit on one of its kinks"
        )
    return None
