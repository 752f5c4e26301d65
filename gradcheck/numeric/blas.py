"""Matrix products without OpenBLAS's spurious floating-point flags.

Some OpenBLAS kernels leave the CPU's "invalid" (or "overflow", "divide") flag set after a
product whose every input and output is finite: garbage in unused SIMD lanes
(numpy/numpy#24067, #28967). NumPy reads the flags after ``@`` and warns, and under
``-W error`` the warning is an exception, from a correct product and only on some CPUs and
shapes. Inside ``blas_errstate()`` those flags are ignored. Nothing is hidden by it: a real
overflow leaves inf or NaN in the result, and every caller checks its results for that
(the loss, ``compare``, the finite-difference error model).
"""

from __future__ import annotations

import numpy as np

__all__ = ["blas_errstate"]


def blas_errstate() -> np.errstate:
    """A context in which matrix products do not report floating-point flags."""
    return np.errstate(invalid="ignore", over="ignore", divide="ignore")
