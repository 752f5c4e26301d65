"""gradcheck's torch and JAX front ends beside torch.autograd.gradcheck and JAX's
check_grads, on corpora of real ops, hand-written custom rules and planted errors.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python -m bench.frameworks \
        [--quick] [--out reports/bench/frameworks.json]

Corpora: ``tests/frameworks/torch_ops.py`` (real torch ops), ``tests/frameworks/torch_zoo.py``
(hand-written ``autograd.Function``s) and ``tests/frameworks/jax_funcs.py`` (jnp, lax,
jax.nn, jitted functions, ``custom_vjp`` and ``custom_jvp`` rules). Every entry runs in
float64 and float32, correct and with a planted error (``tests/frameworks/planted.py``:
1e-4 relative in the largest Jacobian entry in float64, 1e-3 in float32), through:

* torch: ``gradcheck.torch.check``; ``torch.autograd.gradcheck`` with its defaults (slow
  mode) and with ``fast_mode=True`` (``raise_exception=False``);
* JAX: ``gradcheck.jax.check``; ``jax.test_util.check_grads(f, args, order=1)`` in its
  default modes (fwd and rev).

A tool false-fails when it fails (or raises AssertionError) on a correct sample, and
catches a planted error when it fails on the planted sample; any other exception is a
crash. Each tool is timed on the same samples in the same run, one after the other; no
figure is asserted. One probe-mode case (a row-wise function of 10⁵ inputs with a planted
float64 error) times gradcheck against torch's slow mode, which runs in a child process and
is stopped after ``--slow-limit`` seconds (the time then is a lower bound). Threads are
pinned to 1 for every library. The figures go to ``--out`` (JSON, written atomically) and a
Markdown table to stdout.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import platform
import re
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench._threads import pin_threads

THREADS = 1
PLANT_REL = {"float64": 1e-4, "float32": 1e-3}
GRADCHECK_TOOLS = ("gradcheck.torch", "gradcheck.jax")
QUICK = {
    "torch_ops": ("sin", "softmax", "inv", "cross_entropy"),
    "torch_zoo": ("tanh_linear", "multi_output"),
    "jax_funcs": ("jnp_sin", "vjp_softplus", "jvp_logsumexp"),
}


@dataclass
class Outcome:
    """One tool on one sample: ``verdict`` is pass, fail, inconclusive or crash."""

    corpus: str
    tool: str
    dtype: str
    name: str
    planted: bool
    verdict: str
    seconds: float
    message: str = ""
    named: bool | None = None  # gradcheck, planted: a failing record names the entry
    notes: list[str] = field(default_factory=list)


@dataclass
class Sample:
    """A function and its arguments, and where the planted error sits if there is one."""

    corpus: str
    name: str
    dtype: str
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    planted: Any = None  # tests.frameworks.planted.Planted
    blocks: dict[str, tuple[int, tuple[int, ...]]] = field(default_factory=dict)
    out_shape: tuple[int, ...] = ()


Tool = Callable[[Sample], Outcome]


# -- tools --------------------------------------------------------------------------------


def _outcome(sample: Sample, tool: str, verdict: str, seconds: float, **kw: Any) -> Outcome:
    return Outcome(
        sample.corpus,
        tool,
        sample.dtype,
        sample.name,
        sample.planted is not None,
        verdict,
        seconds,
        **kw,
    )


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:300] if text else ''}"


def _named(result: Any, sample: Sample) -> bool:
    """Whether a failing record of ``result`` is the planted entry (i, j): records are named
    ∂out/∂in with the output's index first, j counts the checked inputs end to end."""
    planted = sample.planted
    for record in result.failures:
        match = re.fullmatch(r"∂(.+)/∂(.+)", record.tensor)
        if match is None or match.group(2) not in sample.blocks:
            continue
        offset, shape = sample.blocks[match.group(2)]
        n_out = len(sample.out_shape)
        out_index, in_index = record.index[:n_out], record.index[n_out:]
        i = _ravel(out_index, sample.out_shape)
        j = offset + _ravel(in_index, shape)
        if (i, j) == (planted.i, planted.j):
            return True
    return False


def _ravel(index: Sequence[int], shape: tuple[int, ...]) -> int:
    flat = 0
    for k, n in zip(index, shape, strict=True):
        flat = flat * n + int(k)
    return flat


def gradcheck_tool(tool: str, check: Callable[..., Any]) -> Tool:
    """gradcheck.torch.check or gradcheck.jax.check, with its defaults."""

    def run(sample: Sample) -> Outcome:
        start = time.perf_counter()
        try:
            result = check(sample.fn, sample.args)
        except Exception as error:  # a crash is a finding: record it
            return _outcome(
                sample, tool, "crash", time.perf_counter() - start, message=_first_line(error)
            )
        seconds = time.perf_counter() - start
        named = _named(result, sample) if sample.planted is not None else None
        return _outcome(
            sample,
            tool,
            result.verdict,
            seconds,
            message=result.summary(),
            named=named,
            notes=list(result.notes),
        )

    return run


def torch_autograd_tool(fast: bool) -> Tool:
    """torch.autograd.gradcheck with default tolerances, slow or fast mode."""
    import torch

    tool = "torch fast" if fast else "torch slow"

    from torch.autograd.gradcheck import GradcheckError

    def run(sample: Sample) -> Outcome:
        start = time.perf_counter()
        try:
            ok = torch.autograd.gradcheck(
                sample.fn, sample.args, raise_exception=False, fast_mode=fast
            )
        except (AssertionError, GradcheckError) as error:  # torch's own failure, raised
            return _outcome(
                sample, tool, "fail", time.perf_counter() - start, message=_first_line(error)
            )
        except Exception as error:
            return _outcome(
                sample, tool, "crash", time.perf_counter() - start, message=_first_line(error)
            )
        return _outcome(sample, tool, "pass" if ok else "fail", time.perf_counter() - start)

    return run


def jax_check_grads_tool() -> Tool:
    """jax.test_util.check_grads(f, args, order=1), default modes (fwd, rev)."""
    from jax.test_util import check_grads

    def run(sample: Sample) -> Outcome:
        start = time.perf_counter()
        try:
            check_grads(sample.fn, sample.args, order=1)  # type: ignore[no-untyped-call]
        except AssertionError as error:
            return _outcome(
                sample,
                "jax check_grads",
                "fail",
                time.perf_counter() - start,
                message=_first_line(error),
            )
        except Exception as error:
            return _outcome(
                sample,
                "jax check_grads",
                "crash",
                time.perf_counter() - start,
                message=_first_line(error),
            )
        return _outcome(sample, "jax check_grads", "pass", time.perf_counter() - start)

    return run


# -- samples ------------------------------------------------------------------------------


def _contiguous_grads(fn: Callable[..., Any], args: Sequence[Any]) -> Callable[..., Any]:
    """``fn`` for planting: the checked inputs pass through an identity whose backward makes
    the gradient contiguous, and float targets that are not checked are cast to the checked
    inputs' dtype. plant_torch writes into ``grad.view(-1)``, which fails on the transposed
    gradients of linalg ops, and computes its Jacobian in float64 with the targets as given;
    the function's values and derivatives are unchanged."""
    import torch

    class Contiguous(torch.autograd.Function):
        @staticmethod
        def forward(x: Any) -> Any:
            return x.clone()

        @staticmethod
        def setup_context(ctx: Any, inputs: Any, output: Any) -> None:
            pass

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            return g.contiguous()

    checked = [k for k, a in enumerate(args) if isinstance(a, torch.Tensor) and a.requires_grad]

    def wrapped(*xs: Any) -> Any:
        dtype = xs[checked[0]].dtype
        call = [
            Contiguous.apply(x)  # type: ignore[no-untyped-call]
            if k in checked
            else x.to(dtype)
            if isinstance(x, torch.Tensor) and x.is_floating_point()
            else x
            for k, x in enumerate(xs)
        ]
        return fn(*call)

    return wrapped


def torch_samples(corpus: str, entries: Sequence[Any], dtypes: Sequence[str]) -> Iterator[Sample]:
    """Each entry in each dtype, correct and then planted."""
    import torch

    from tests.frameworks.planted import plant_torch

    for entry in entries:
        for dtype in dtypes:
            args = entry.build(getattr(torch, dtype), 0)
            checked = [
                k for k, a in enumerate(args) if isinstance(a, torch.Tensor) and a.requires_grad
            ]
            blocks, offset = {}, 0
            for k in checked:
                blocks[f"inputs[{k}]"] = (offset, tuple(args[k].shape))
                offset += args[k].numel()
            out_shape = tuple(entry.fn(*args).shape)
            base = Sample(corpus, entry.name, dtype, entry.fn, args, None, blocks, out_shape)
            yield base
            try:
                planted = plant_torch(_contiguous_grads(entry.fn, args), args, PLANT_REL[dtype])
            except Exception as error:
                print(f"  could not plant {corpus}/{entry.name} {dtype}: {_first_line(error)}")
                continue
            yield Sample(corpus, entry.name, dtype, planted, args, planted, blocks, out_shape)


def jax_samples(entries: Sequence[Any], dtypes: Sequence[str]) -> Iterator[Sample]:
    """Each JAX function in each dtype, correct and then planted (custom_vjp)."""
    import numpy as np

    from tests.frameworks.planted import plant_jax

    for entry in entries:
        for dtype in dtypes:
            args = entry.build(np.dtype(dtype), 0)
            blocks, offset = {}, 0
            for k, a in enumerate(args):
                blocks[f"args[{k}]"] = (offset, tuple(a.shape))
                offset += int(np.size(a))
            out_shape = tuple(np.shape(entry.fn(*args)))
            yield Sample("jax_funcs", entry.name, dtype, entry.fn, args, None, blocks, out_shape)
            try:
                planted = plant_jax(entry.fn, args, PLANT_REL[dtype])
            except Exception as error:
                print(f"  could not plant jax_funcs/{entry.name} {dtype}: {_first_line(error)}")
                continue
            yield Sample("jax_funcs", entry.name, dtype, planted, args, planted, blocks, out_shape)


def run_samples(samples: Iterator[Sample], tools: dict[str, Tool], outcomes: list[Outcome]) -> None:
    """Every tool on each sample in turn, so that a slow spell of the machine hits all."""
    for sample in samples:
        for run in tools.values():
            outcomes.append(run(sample))


# -- the probe-mode case ------------------------------------------------------------------


def probe_case(rows: int, cols: int) -> tuple[Callable[..., Any], Any, Any]:
    """Row-wise logsumexp of a rows × cols float64 input, and the same with a 1e-4
    relative error planted in its largest Jacobian entry."""
    import torch

    from tests.frameworks.planted import plant_torch

    x = torch.randn(rows, cols, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    x.requires_grad_()

    def rowwise(t: Any) -> Any:
        return torch.logsumexp(t, dim=1)

    return rowwise, x, plant_torch(rowwise, (x,), PLANT_REL["float64"])


def _probe_child(tool: str, rows: int, cols: int, queue: Any) -> None:
    """Child process: torch's gradcheck (slow or fast mode) on the planted probe case."""
    warnings.simplefilter("ignore")
    import torch

    torch.set_num_threads(THREADS)
    _, x, planted = probe_case(rows, cols)
    queue.put(("start", time.perf_counter()))
    start = time.perf_counter()
    try:
        ok = torch.autograd.gradcheck(
            planted, (x,), raise_exception=False, fast_mode=tool == "torch fast"
        )
        verdict, message = ("pass" if ok else "fail"), ""
    except Exception as error:
        verdict, message = "crash", _first_line(error)
    queue.put(("done", verdict, time.perf_counter() - start, message))


def _timed_child(tool: str, rows: int, cols: int, limit: float) -> dict[str, Any]:
    """``_probe_child`` with a wall-clock limit on the check itself; past it, the child is
    stopped and the time reported is a lower bound."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_probe_child, args=(tool, rows, cols, queue))
    child.start()
    try:
        first = queue.get(timeout=600)
        started = time.monotonic()
        if first[0] != "start":
            raise RuntimeError(f"unexpected message from the child: {first}")
        try:
            _, verdict, seconds, message = queue.get(timeout=limit)
            return {
                "tool": tool,
                "verdict": verdict,
                "seconds": seconds,
                "message": message,
                "stopped": False,
            }
        except Exception:
            return {
                "tool": tool,
                "verdict": "stopped",
                "seconds": time.monotonic() - started,
                "message": f"stopped after {limit:.0f} s: the time is a lower bound",
                "stopped": True,
            }
    finally:
        if child.is_alive():
            child.terminate()
        child.join()


def run_probe_case(rows: int, cols: int, limit: float) -> dict[str, Any]:
    import gc

    import gradcheck.torch as gt

    fn, x, planted = probe_case(rows, cols)
    out_shape = tuple(fn(x).shape)
    sample = Sample(
        "probe",
        f"logsumexp rows {rows}x{cols}",
        "float64",
        planted,
        (x,),
        planted,
        {"inputs[0]": (0, (rows, cols))},
        out_shape,
    )
    results: list[dict[str, Any]] = []
    start = time.perf_counter()
    result = gt.check(planted, (x,))  # mode="auto": probe mode at this size
    results.append(
        {
            "tool": "gradcheck.torch",
            "verdict": result.verdict,
            "seconds": time.perf_counter() - start,
            "named": _named(result, sample),
            "mode": result.mode,
            "evaluations": result.evaluations,
            "message": result.summary(),
        }
    )
    start = time.perf_counter()
    correct = gt.check(fn, (x,))
    results.append(
        {
            "tool": "gradcheck.torch on the correct function",
            "verdict": correct.verdict,
            "seconds": time.perf_counter() - start,
            "mode": correct.mode,
            "evaluations": correct.evaluations,
            "message": correct.summary(),
        }
    )
    where = {"i": planted.i, "j": planted.j, "delta": planted.delta}
    del fn, x, planted, sample
    gc.collect()
    for tool in ("torch slow", "torch fast"):
        results.append(_timed_child(tool, rows, cols, limit))
    return {
        "rows": rows,
        "cols": cols,
        "inputs": rows * cols,
        "outputs": rows,
        "planted": where,
        "limit_s": limit,
        "results": results,
    }


# -- figures ------------------------------------------------------------------------------


def rows_of(outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    """One row per corpus, tool and dtype."""
    keys = list(dict.fromkeys((o.corpus, o.tool, o.dtype) for o in outcomes))
    table = []
    for corpus, tool, dtype in keys:
        mine = [o for o in outcomes if (o.corpus, o.tool, o.dtype) == (corpus, tool, dtype)]
        correct = [o for o in mine if not o.planted]
        planted = [o for o in mine if o.planted]
        seconds = [o.seconds for o in mine]
        table.append(
            {
                "corpus": corpus,
                "tool": tool,
                "dtype": dtype,
                "correct": len(correct),
                "planted": len(planted),
                "false_failures": sum(o.verdict == "fail" for o in correct),
                "caught": sum(o.verdict == "fail" for o in planted),
                "named": sum(bool(o.named) for o in planted),
                "inconclusive_correct": sum(o.verdict == "inconclusive" for o in correct),
                "inconclusive_planted": sum(o.verdict == "inconclusive" for o in planted),
                "crashes_correct": sum(o.verdict == "crash" for o in correct),
                "crashes_planted": sum(o.verdict == "crash" for o in planted),
                "median_s": statistics.median(seconds),
                "total_s": math.fsum(seconds),
            }
        )
    return table


def markdown(table: Sequence[dict[str, Any]]) -> str:
    lines = [
        "| corpus | tool | dtype | false failures | caught | inconclusive | crashes "
        "| median s | total s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in table:
        lines.append(
            f"| {r['corpus']} | {r['tool']} | {r['dtype']} "
            f"| {r['false_failures']}/{r['correct']} | {r['caught']}/{r['planted']} "
            f"| {r['inconclusive_correct']} + {r['inconclusive_planted']} "
            f"| {r['crashes_correct']} + {r['crashes_planted']} "
            f"| {r['median_s']:.4f} | {r['total_s']:.2f} |"
        )
    return "\n".join(lines)


def findings(outcomes: Sequence[Outcome]) -> list[Outcome]:
    """gradcheck's false failures, misses, inconclusive verdicts, crashes and unnamed catches."""
    return [
        o
        for o in outcomes
        if o.tool in GRADCHECK_TOOLS
        and (
            o.verdict in ("inconclusive", "crash")
            or (o.verdict == "fail") != o.planted
            or (o.planted and o.verdict == "fail" and not o.named)
        )
    ]


def print_crashes(outcomes: Sequence[Outcome], first: int = 4) -> None:
    tools = list(dict.fromkeys(o.tool for o in outcomes))
    for tool in tools:
        crashed = [o for o in outcomes if o.tool == tool and o.verdict == "crash"]
        if not crashed:
            continue
        print(f"\n{tool}: {len(crashed)} crashes; the first {min(first, len(crashed))}:")
        for o in crashed[:first]:
            kind = "planted" if o.planted else "correct"
            print(f"  {o.corpus}/{o.name} {o.dtype} {kind}: {o.message}")


def _versions() -> dict[str, str]:
    import numpy as np
    import torch

    versions = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
    }
    try:
        import jax

        versions["jax"] = jax.__version__
    except ImportError:
        pass
    return versions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a small subset (a smoke test)")
    parser.add_argument("--out", type=Path, default=Path("reports/bench/frameworks.json"))
    parser.add_argument(
        "--corpora",
        default="torch_ops,torch_zoo,jax_funcs,probe",
        help="comma-separated subset of torch_ops, torch_zoo, jax_funcs, probe",
    )
    parser.add_argument(
        "--slow-limit",
        type=float,
        default=None,
        help="seconds before torch's slow mode is stopped on the probe case "
        "(120, or 15 with --quick)",
    )
    args = parser.parse_args(argv)
    wanted = set(args.corpora.split(","))
    began = time.perf_counter()
    pin_threads(THREADS)
    warnings.simplefilter("ignore")  # torch warns on every float32 gradcheck
    import torch

    torch.set_num_threads(THREADS)
    import gradcheck.torch as gt
    from gradcheck.io import atomic_write_text

    dtypes = ("float64", "float32")
    outcomes: list[Outcome] = []
    torch_tools = {
        "gradcheck.torch": gradcheck_tool("gradcheck.torch", gt.check),
        "torch slow": torch_autograd_tool(fast=False),
        "torch fast": torch_autograd_tool(fast=True),
    }
    print(
        f"threads={THREADS} (OpenBLAS, MKL, OMP, XLA, torch.get_num_threads()="
        f"{torch.get_num_threads()}); quick={args.quick}"
    )
    if "torch_ops" in wanted:
        from tests.frameworks.torch_ops import OPS

        ops = [OPS[n] for n in QUICK["torch_ops"]] if args.quick else list(OPS.values())
        run_samples(torch_samples("torch_ops", ops, dtypes), torch_tools, outcomes)
    if "torch_zoo" in wanted:
        from tests.frameworks.torch_zoo import ZOO

        zoo = [ZOO[n] for n in QUICK["torch_zoo"]] if args.quick else list(ZOO.values())
        run_samples(torch_samples("torch_zoo", zoo, dtypes), torch_tools, outcomes)
    jax_note = ""
    if "jax_funcs" in wanted:
        jax_note = run_jax(args.quick, dtypes, outcomes)
    probe: dict[str, Any] | None = None
    if "probe" in wanted:
        rows, cols = (30, 100) if args.quick else (1000, 100)
        limit = args.slow_limit or (15.0 if args.quick else 120.0)
        probe = run_probe_case(rows, cols, limit)

    table = rows_of(outcomes)
    if table:
        print()
        print(markdown(table))
    print(
        "\nfalse failures: fails on correct samples; caught: fails on planted ones (1e-4 "
        "relative in float64, 1e-3 in float32); inconclusive and crashes: on correct + "
        "planted samples."
    )
    for r in table:
        if r["tool"] in GRADCHECK_TOOLS:
            print(
                f"{r['tool']} {r['corpus']} {r['dtype']}: named the planted entry in "
                f"{r['named']} of {r['caught']} catches"
            )
    if jax_note:
        print(jax_note)
    print_crashes(outcomes)
    found = findings(outcomes)
    print(f"\ngradcheck findings ({len(found)}):")
    for o in found:
        kind = "planted" if o.planted else "correct"
        named = "" if o.named is None else f", named={o.named}"
        summary = o.message.splitlines()
        print(f"  {o.corpus}/{o.name} {o.dtype} {kind}: {o.verdict}{named}")
        for line in summary[:4]:
            print(f"      {line}")
    if probe is not None:
        print(
            f"\nprobe case: row-wise logsumexp, {probe['inputs']} inputs, {probe['outputs']} "
            f"outputs, float64, planted at (i={probe['planted']['i']}, "
            f"j={probe['planted']['j']})"
        )
        for r in probe["results"]:
            extra = f", named={r['named']}" if "named" in r else ""
            mode = f", {r['mode']} mode, {r['evaluations']} evaluations" if "mode" in r else ""
            print(
                f"  {r['tool']}: {r['verdict']} in {r['seconds']:.2f} s{mode}{extra}"
                + (f" ({r['message'].splitlines()[0]})" if r.get("message") else "")
            )
    total = time.perf_counter() - began
    print(f"\ntotal run time {total:.1f} s")
    report = {
        "threads": THREADS,
        "quick": args.quick,
        "command": "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python -m "
        "bench.frameworks" + (" --quick" if args.quick else ""),
        "versions": _versions(),
        "plant_rel": PLANT_REL,
        "rows": table,
        "probe": probe,
        "findings": [asdict(o) for o in found],
        "samples": [asdict(o) for o in outcomes],
        "jax_note": jax_note,
        "total_s": total,
    }
    atomic_write_text(args.out, json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


def run_jax(quick: bool, dtypes: Sequence[str], outcomes: list[Outcome]) -> str:
    """The JAX corpus through gradcheck.jax.check and check_grads; x64 on, so that float64
    arguments are float64. Returns a note (empty when all ran)."""
    import jax

    jax.config.update("jax_enable_x64", True)  # type: ignore[no-untyped-call]
    try:
        import gradcheck.jax as gj
    except ImportError as error:
        return f"JAX corpus not run: gradcheck.jax is not importable ({_first_line(error)})"
    from tests.frameworks.jax_funcs import FUNCS

    entries = [FUNCS[n] for n in QUICK["jax_funcs"]] if quick else list(FUNCS.values())
    tools = {
        "gradcheck.jax": gradcheck_tool("gradcheck.jax", gj.check),
        "jax check_grads": jax_check_grads_tool(),
    }
    run_samples(jax_samples(entries, dtypes), tools, outcomes)
    mine = [o for o in outcomes if o.tool == "gradcheck.jax" and o.planted]
    noted = sum(any("forward mode not checked" in n for n in o.notes) for o in mine)
    return (
        f"gradcheck.jax on planted (custom_vjp) samples: forward mode noted as not checked in "
        f"{noted} of {len(mine)}"
    )


if __name__ == "__main__":
    sys.exit(main())
