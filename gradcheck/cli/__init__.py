"""The command line: parses arguments, calls library functions, prints what they return.

Exit codes: 0 everything agrees (or the submission passes), 1 a gradient disagrees (or the
submission fails), 2 bad usage or bad input. Each command lives in a module of its own:
``check``, ``compare``, ``baseline`` and ``student`` (validate, grade, assignments). torch,
jax and Hypothesis are imported only by the commands that need them, so that
``gradcheck --help`` and ``gradcheck --version`` stay fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from gradcheck._version import __version__
from gradcheck.cli.args import LazyEpilogParser
from gradcheck.cli.baseline import add_baseline_command
from gradcheck.cli.check import add_check_command
from gradcheck.cli.compare import add_compare_command
from gradcheck.cli.student import add_commands
from gradcheck.errors import GradcheckError

__all__ = ["main"]

EPILOG = """\
Beyond the command line:
  Python API   from gradcheck import check_gradients, check_layer
               gradcheck.torch.check(fn, inputs), gradcheck.jax.check(f, args)
  pytest       installing gradcheck registers a plugin: a `gradcheck` fixture
               (gradcheck.assert_layer, assert_torch, assert_jax), the `gradcheck`
               marker, and --gradcheck-report DIR for a session report
  your engine  --engine-module pkg.mod, or a 'gradcheck.engines' entry point
See README.md (Quick start, Python API, Gradient checks in your own pytest suite)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gradcheck",
        description="Verify backprop gradients against finite differences, torch and JAX.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"gradcheck {__version__}")
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=LazyEpilogParser
    )
    add_check_command(commands)
    add_compare_command(commands)
    add_baseline_command(commands)
    add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.argv = argv
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.handler(args))
    except GradcheckError as error:
        print(f"gradcheck: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gradcheck: interrupted; reports already written are intact", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `gradcheck check ... | head`: the reader left, which is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
