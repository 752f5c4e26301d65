"""``make mutation``: mutation testing of the core and the verdict logic, with cosmic-ray.

Each target of ``targets.toml`` (a module and the tests that exercise it) is mutated in a copy
of the working tree, one operator at one place at a time, and its tests run against each
mutant (``pytest -x``), except inside annotations, which ``from __future__ import
annotations`` never evaluates: a failing run kills the mutant, a run past the timeout counts as
killed too (the mutant made the code hang), and a passing run is a survivor. A survivor
listed in ``equivalents/<module>.toml`` (with the reason its code computes the same thing)
counts as killed. The report gives, per module, the raw score (killed / all), the score with
the listed equivalents, and every survivor with its diff. It is written atomically to
``OUT/mutation.md`` and ``OUT/mutation.json``.

    .venv/bin/python -m tests.mutation.run [--module gradcheck/compare.py] [--sample N]
        [--seed S] [--out reports/mutation] [--jobs 2]

``--sample N`` runs N mutants per module, drawn evenly with ``--seed``, for an estimate in
minutes; without it every mutant runs (hours for the whole list). ``--rerun`` runs again only
the survivors of the report already in OUT (after new tests were added: a killed mutant stays
killed when tests are only added), and keeps every other outcome. Modules not run this time
keep their outcomes from the earlier report, so modules can be run one at a time. The tests
run with the derandomized ``ci`` Hypothesis profile, so a verdict does not depend on luck.
Exit status: 0 when every survivor is listed as equivalent, 1 when some are not, 2 on bad
usage.

An equivalent is listed as the report names the survivor, with the reason the two forms agree
on every input the function can receive::

    [[equivalent]]
    module = "gradcheck/compare.py"
    function = "_entries"
    operator = "core/ReplaceBinaryOperator_Add_Mul"
    line = 200
    reason = "why the two forms agree"
"""

from __future__ import annotations

import argparse
import ast
import fcntl
import json
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import tomllib
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
COSMIC_RAY = Path(sys.executable).with_name("cosmic-ray")
TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Mutant:
    module: str
    function: str
    operator: str
    occurrence: int
    line: int
    outcome: str  # killed, survived, timeout, incompetent
    diff: str


@dataclass
class ModuleScore:
    module: str
    mutants: int = 0
    killed: int = 0
    equivalent: int = 0
    survivors: list[Mutant] = field(default_factory=list)
    listed: list[dict[str, Any]] = field(default_factory=list)
    outcomes: list[Mutant] = field(default_factory=list)
    sample: int | None = None

    @property
    def raw(self) -> float:
        return self.killed / self.mutants if self.mutants else 1.0

    @property
    def with_equivalents(self) -> float:
        return (self.killed + self.equivalent) / self.mutants if self.mutants else 1.0


def _targets(chosen: list[str]) -> list[dict[str, Any]]:
    targets: list[dict[str, Any]] = tomllib.loads((HERE / "targets.toml").read_text())["target"]
    known = {t["module"] for t in targets}
    unknown = sorted(set(chosen) - known)
    if unknown:
        raise ValueError(f"unknown module {unknown[0]!r} (known: {', '.join(sorted(known))})")
    return [t for t in targets if not chosen or t["module"] in chosen]


def _equivalents() -> list[dict[str, Any]]:
    """The listed equivalents: one file per module under ``equivalents/``."""
    entries: list[dict[str, Any]] = []
    files = sorted((HERE / "equivalents").glob("*.toml"))
    for path in filter(Path.exists, files):
        for entry in tomllib.loads(path.read_text()).get("equivalent", []):
            missing = {"module", "function", "operator", "line", "reason"} - set(entry)
            if missing or not str(entry.get("reason", "")).strip():
                raise ValueError(
                    f"{path.name}: entry {entry} lacks {sorted(missing) or ['reason']}"
                )
            entries.append(entry)
    return entries


def _copy_tree(into: Path) -> None:
    """The tracked and untracked-but-not-ignored files, as they are in the working tree."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, listed):
        source = ROOT / name.decode()
        if source.is_file():
            target = into / name.decode()
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def _session(
    work: Path, target: dict[str, Any], sample: int | None, seed: int, only: list[Mutant] | None
) -> Path:
    tests = " ".join(target["tests"])
    config = work / "cosmic-ray.toml"
    config.write_text(
        "[cosmic-ray]\n"
        f'module-path = "{target["module"]}"\n'
        f"timeout = {TIMEOUT_S}\n"
        "excluded-modules = []\n"
        f'test-command = "env HYPOTHESIS_PROFILE=ci {sys.executable} -m pytest -x -q '
        f'-p no:cacheprovider {tests}"\n'
        '[cosmic-ray.distributor]\nname = "local"\n'
    )
    session = work / "session.sqlite"
    subprocess.run([str(COSMIC_RAY), "init", str(config), str(session)], cwd=work, check=True)
    _drop_annotations(session, work / target["module"])
    if only is not None:
        _keep_only(session, only)
    elif sample is not None:
        _keep_sample(session, sample, seed)
    return session


def _keep_only(session: Path, only: list[Mutant]) -> None:
    """Keep the jobs that are one of ``only`` (by operator, occurrence and line)."""
    wanted = {(m.operator, m.occurrence, m.line) for m in only}
    with sqlite3.connect(session) as db:
        rows = db.execute(
            "SELECT job_id, operator_name, occurrence, start_pos_row FROM mutation_specs"
        ).fetchall()
        drop = [(job,) for job, op, occ, row in rows if (op, int(occ), int(row)) not in wanted]
        db.executemany("DELETE FROM mutation_specs WHERE job_id = ?", drop)
        db.executemany("DELETE FROM work_items WHERE job_id = ?", drop)


def _annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) positions of every annotation: with ``from __future__ import annotations``
    they are never evaluated, so a mutant inside one is equivalent by construction."""
    spans = []
    for node in ast.walk(ast.parse(source)):
        found: list[ast.expr | None] = []
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.append(node.returns)
        elif isinstance(node, ast.arg | ast.AnnAssign):
            found.append(node.annotation)
        for expr in filter(None, found):
            end = (expr.end_lineno or expr.lineno, expr.end_col_offset or expr.col_offset)
            spans.append(((expr.lineno, expr.col_offset), end))
    return spans


def _drop_annotations(session: Path, module: Path) -> None:
    spans = _annotation_spans(module.read_text())
    with sqlite3.connect(session) as db:
        rows = db.execute("SELECT job_id, start_pos_row, start_pos_col FROM mutation_specs")
        drop = [
            (job,)
            for job, row, col in rows.fetchall()
            if any(start <= (row, col) < end for start, end in spans)
        ]
        db.executemany("DELETE FROM mutation_specs WHERE job_id = ?", drop)
        db.executemany("DELETE FROM work_items WHERE job_id = ?", drop)


def _keep_sample(session: Path, sample: int, seed: int) -> None:
    """Keep ``sample`` of the session's jobs, drawn evenly: one from each of ``sample`` equal
    stretches of the jobs in source order (a seeded pick within each)."""
    with sqlite3.connect(session) as db:
        jobs = [row[0] for row in db.execute("SELECT job_id FROM mutation_specs ORDER BY rowid")]
        if sample >= len(jobs):
            return
        rng = random.Random(seed)
        size = len(jobs) / sample
        keep = {jobs[int(i * size) + rng.randrange(max(1, int(size)))] for i in range(sample)}
        drop = [(job,) for job in jobs if job not in keep]
        db.executemany("DELETE FROM mutation_specs WHERE job_id = ?", drop)
        db.executemany("DELETE FROM work_items WHERE job_id = ?", drop)


def _results(session: Path, work: Path) -> list[Mutant]:
    dump = subprocess.run(
        [str(COSMIC_RAY), "dump", str(session)],
        cwd=work,
        capture_output=True,
        text=True,
        check=True,
    )
    mutants = []
    for line in dump.stdout.splitlines():
        job, result = json.loads(line)
        spec = job["mutations"][0]
        if result is None:
            outcome = "not run"
        elif result["worker_outcome"] == "timeout":
            outcome = "timeout"
        elif result["worker_outcome"] != "normal":
            outcome = "incompetent"
        else:
            outcome = str(result["test_outcome"])
        mutants.append(
            Mutant(
                spec["module_path"],
                spec.get("definition_name") or "",
                spec["operator_name"],
                int(spec["occurrence"]),
                int(spec["start_pos"][0]),
                outcome,
                (result or {}).get("diff", ""),
            )
        )
    return mutants


def _is_listed(mutant: Mutant, entry: dict[str, Any]) -> bool:
    return (
        entry["module"] == mutant.module
        and entry["function"] == mutant.function
        and entry["operator"] == mutant.operator
        and int(entry["line"]) == mutant.line
    )


def _score(
    module: str, mutants: list[Mutant], equivalents: list[dict[str, Any]], sample: int | None
) -> ModuleScore:
    score = ModuleScore(module, mutants=sum(m.outcome != "not run" for m in mutants))
    score.outcomes, score.sample = list(mutants), sample
    for mutant in mutants:
        if mutant.outcome in ("killed", "timeout"):
            score.killed += 1
        elif mutant.outcome in ("survived", "incompetent"):
            listed = next((e for e in equivalents if _is_listed(mutant, e)), None)
            if listed is None:
                score.survivors.append(mutant)
            else:
                score.equivalent += 1
                score.listed.append(listed)
    return score


def _run_target(
    target: dict[str, Any], sample: int | None, seed: int, only: list[Mutant] | None
) -> list[Mutant]:
    if only == []:
        return []
    with tempfile.TemporaryDirectory(prefix="gradcheck-mutation-") as tmp:
        work = Path(tmp)
        _copy_tree(work)
        session = _session(work, target, sample, seed, only)
        subprocess.run(
            [str(COSMIC_RAY), "exec", str(work / "cosmic-ray.toml"), str(session)],
            cwd=work,
            check=True,
            capture_output=True,
        )
        return _results(session, work)


def _markdown(scores: list[ModuleScore]) -> str:
    lines = [
        "# Mutation testing",
        "",
        "A timeout counts as killed, and so does a listed equivalent "
        "(tests/mutation/equivalents/). *run*: every mutant, or a sample of N.",
        "",
        "| module | run | mutants | killed | equivalent | survivors | raw score "
        "| with equivalents |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in scores:
        run = "every mutant" if s.sample is None else f"sample of {s.sample}"
        lines.append(
            f"| `{s.module}` | {run} | {s.mutants} | {s.killed} | {s.equivalent} "
            f"| {len(s.survivors)} | {s.raw:.1%} | {s.with_equivalents:.1%} |"
        )
    for s in scores:
        for m in s.survivors:
            lines += ["", f"## Survivor: `{m.module}:{m.line}` in `{m.function}` ({m.operator})"]
            lines += ["", "```diff", m.diff.strip(), "```"]
    return "\n".join(lines) + "\n"


def _earlier(path: Path) -> dict[str, tuple[list[Mutant], int | None]]:
    """Each module's outcomes in an earlier report (none when there is no report)."""
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    return {
        s["module"]: ([Mutant(**m) for m in s.get("outcomes", [])], s.get("sample")) for s in data
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--module", action="append", default=[], help="a module of targets.toml")
    parser.add_argument("--sample", type=int, default=None, help="mutants per module")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2, help="modules mutated at once")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "mutation")
    parser.add_argument(
        "--rerun", action="store_true", help="run only the survivors of the report in --out"
    )
    args = parser.parse_args(argv)
    if (args.sample is not None and args.sample < 1) or args.jobs < 1:
        parser.error("--sample and --jobs must be at least 1")
    if not COSMIC_RAY.exists():
        parser.error("cosmic-ray is not installed: pip install -c constraints.txt -e '.[mutation]'")
    try:
        targets = _targets(args.module)
        _equivalents()  # a malformed list is refused before any mutant runs
    except ValueError as error:
        parser.error(str(error))
    earlier = _earlier(args.out / "mutation.json")
    if args.rerun and not earlier:
        parser.error(f"--rerun: no earlier report at {args.out / 'mutation.json'}")
    only = {
        t["module"]: [m for m in earlier.get(t["module"], ([], None))[0] if m.outcome == "survived"]
        for t in targets
    }

    def run(target: dict[str, Any]) -> tuple[list[Mutant], int | None]:
        module = target["module"]
        if not args.rerun:
            return _run_target(target, args.sample, args.seed, None), args.sample
        if module not in earlier:
            raise SystemExit(f"--rerun: {module} has no earlier outcomes in {args.out}")
        fresh = {
            (m.operator, m.occurrence, m.line): m
            for m in _run_target(target, None, 0, only[module])
        }
        before, sample = earlier[module]
        return [fresh.get((m.operator, m.occurrence, m.line), m) for m in before], sample

    scores: list[ModuleScore] = []
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(run, t): t["module"] for t in targets}
        for done in as_completed(futures):
            # Written as each module finishes (an interrupted run keeps the finished modules),
            # over the report as it is now, under a lock: runs of other modules into the
            # same folder may have finished since this one started. Every module is scored
            # with the equivalents as listed now, not as they were when this run started.
            args.out.mkdir(parents=True, exist_ok=True)
            with (args.out / ".lock").open("w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                merged = {**_earlier(args.out / "mutation.json"), futures[done]: done.result()}
                try:
                    equivalents = _equivalents()
                except ValueError as error:
                    raise SystemExit(f"tests/mutation/equivalents: {error}") from error
                scores = _write(args.out, merged, equivalents)
            print(f"finished {futures[done]}", flush=True)
    report = _markdown(scores)
    print(report.split("\n## ")[0])
    print(f"report: {args.out / 'mutation.md'}")
    return 1 if any(s.survivors for s in scores) else 0


def _write(
    out: Path,
    merged: dict[str, tuple[list[Mutant], int | None]],
    equivalents: list[dict[str, Any]],
) -> list[ModuleScore]:
    """The report of every module with outcomes, in targets.toml's order, written atomically."""
    sys.path.insert(0, str(ROOT))
    from gradcheck.io import atomic_write_text

    order = [t["module"] for t in _targets([])]
    scores = [
        _score(module, merged[module][0], equivalents, merged[module][1])
        for module in order
        if module in merged
    ]
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "mutation.md", _markdown(scores))
    data = [{**asdict(s), "raw": s.raw, "with_equivalents": s.with_equivalents} for s in scores]
    atomic_write_text(out / "mutation.json", json.dumps(data, indent=2) + "\n")
    return scores


if __name__ == "__main__":
    sys.exit(main())
