"""Pin every numerical library to the same thread count, before any of them is imported."""

from __future__ import annotations

import os


def pin_threads(threads: int) -> None:
    """OpenMP, OpenBLAS, MKL and XLA read these at import; torch is set where it is imported."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    os.environ["XLA_FLAGS"] = (
        f"--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads={threads}"
    )
