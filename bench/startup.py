"""Start-up time of the CLI beside the interpreter alone and the imports it avoids, measured in
the same run, and which heavy modules each command imported.

    python bench/startup.py --runs 15

Every command runs in a fresh interpreter (the installed ``gradcheck`` script's Python), in
turn with the others, ``--runs`` times; the figure is the median wall time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

HEAVY = ("torch", "jax", "matplotlib", "hypothesis", "tabulate", "scipy")

# A command line as the installed script runs it, then prints which HEAVY modules it imported.
PROBE = (
    "import sys, json\n"
    "from gradcheck.cli import main\n"
    "sys.argv = ['gradcheck', *{args!r}]\n"
    "try:\n"
    "    main()\n"
    "except SystemExit:\n"
    "    pass\n"
    "sys.stdout = sys.__stdout__\n"
    "print(json.dumps(sorted(set(sys.modules) & set({heavy!r}))), file=sys.stderr)\n"
)

COMMANDS: dict[str, list[str]] = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "gradcheck --help": [sys.executable, "-m", "gradcheck", "--help"],
    "gradcheck validate --help": [sys.executable, "-m", "gradcheck", "validate", "--help"],
    "gradcheck check --help": [sys.executable, "-m", "gradcheck", "check", "--help"],
    "python -c 'import torch'": [sys.executable, "-c", "import torch"],
    "python -c 'import jax'": [sys.executable, "-c", "import jax"],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.runs):
        for name, command in COMMANDS.items():
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            times[name].append(time.perf_counter() - start)
    print(f"{'command':<28} {'median s':>9} {'imported':<30}")
    for name, spent in times.items():
        imported = ""
        if name.startswith("gradcheck"):
            probe = PROBE.format(args=name.split()[1:], heavy=HEAVY)
            done = subprocess.run(
                [sys.executable, "-c", probe], capture_output=True, text=True, check=True
            )
            imported = ", ".join(json.loads(done.stderr.strip().splitlines()[-1])) or "none of them"
        print(f"{name:<28} {statistics.median(spent):>9.3f} {imported:<30}")
    print(f"(heavy modules looked for: {', '.join(HEAVY)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
