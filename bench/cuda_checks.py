"""The CUDA checks of ``gradcheck.torch``, as one short script for a machine with a GPU.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python -m bench.cuda_checks \
        [--out reports/bench/cuda.json]

On each CUDA device it checks, in float64 and float32, a few ops whose kernels differ from
the CPU's (matmul, conv2d, softmax, layer_norm, an atomics-based scatter_add backward) and
a planted 1e-4 (float64) / 1e-3 (float32) error in one Jacobian entry, with TF32 off and on.
It prints one row per check: the verdict, whether the planted entry was named, whether TF32
was recorded and named in a note, the nondeterminism measured, and the time. Without CUDA it
says so and exits 0, so it can run anywhere; the CPU test suite covers everything else.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from bench._threads import pin_threads

THREADS = 1


def _ops(torch: Any) -> dict[str, Any]:
    functional = torch.nn.functional
    return {
        "matmul+tanh": lambda x, w: torch.tanh(x @ w),
        "conv2d": lambda x, w: functional.conv2d(x.reshape(1, 1, 4, 4), w.reshape(1, 1, 2, 2)),
        "softmax": lambda x, w: torch.softmax(x @ w, dim=-1),
        "layer_norm": lambda x, w: functional.layer_norm(x @ w, (w.shape[1],)),
        "scatter_add": lambda x, w: torch.zeros(3, device=x.device, dtype=x.dtype).scatter_add(
            0, torch.tensor([0, 1, 1, 2, 0, 2, 1, 0], device=x.device), (x @ w).reshape(-1)[:8]
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=Path("reports/bench/cuda.json"))
    args = parser.parse_args(argv)
    pin_threads(THREADS)
    import torch

    import gradcheck.torch as gt
    from gradcheck.io import atomic_write_text
    from tests.frameworks.planted import plant_torch

    torch.set_num_threads(THREADS)
    if not torch.cuda.is_available():
        print("no CUDA device: nothing to check here (the CPU suite covers the rest)")
        return 0
    rows: list[dict[str, Any]] = []
    for device in range(torch.cuda.device_count()):
        name = torch.cuda.get_device_name(device)
        for tf32 in (False, True):
            torch.backends.cuda.matmul.allow_tf32 = tf32
            torch.backends.cudnn.allow_tf32 = tf32
            for dtype, rel in ((torch.float64, 1e-4), (torch.float32, 1e-3)):
                gen = torch.Generator(device="cpu").manual_seed(0)
                x = torch.randn(4, 4, generator=gen, dtype=dtype).to(f"cuda:{device}")
                w = torch.randn(4, 4, generator=gen, dtype=dtype).to(f"cuda:{device}")
                x.requires_grad_()
                w.requires_grad_()
                for op, fn in _ops(torch).items():
                    for planted in (False, True):
                        f = plant_torch(fn, (x, w), rel) if planted else fn
                        start = time.perf_counter()
                        try:
                            result = gt.check(f, (x, w), nondet_tol=1e-12)
                            verdict: str = result.verdict
                            notes = list(result.notes)
                            tf32_seen = bool(result.meta.get("tf32"))
                        except Exception as error:  # a crash is a finding: record it
                            verdict, notes, tf32_seen = "crash", [repr(error)], False
                        rows.append(
                            {
                                "device": name,
                                "tf32": tf32,
                                "dtype": str(dtype).removeprefix("torch."),
                                "op": op,
                                "planted": planted,
                                "verdict": verdict,
                                "tf32_recorded": tf32_seen,
                                "tf32_named": any("TF32" in n for n in notes),
                                "notes": notes,
                                "seconds": round(time.perf_counter() - start, 4),
                            }
                        )
    header = "| device | tf32 | dtype | op | planted | verdict | TF32 named | s |"
    print(header)
    print("|---" * 8 + "|")
    for r in rows:
        print(
            f"| {r['device']} | {r['tf32']} | {r['dtype']} | {r['op']} | {r['planted']} "
            f"| {r['verdict']} | {r['tf32_named']} | {r['seconds']} |"
        )
    false_failures = sum(r["verdict"] == "fail" and not r["planted"] for r in rows)
    caught = sum(r["verdict"] == "fail" and r["planted"] for r in rows)
    planted_total = sum(r["planted"] for r in rows)
    print(
        f"\nfalse failures {false_failures}/{len(rows) - planted_total}, "
        f"caught {caught}/{planted_total}"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out, json.dumps({"threads": THREADS, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
