"""The `world` command: every operation, non-interactively, plus the REPL.

The library never prints; this module is where text meets the terminal.
User mistakes end as one line starting `error:` on stderr and exit status 1,
never a Python traceback (unless --debug).
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

import world
from world.lisp.budget import DEFAULT_LIMITS
from world.lisp.errors import InternalError, LispError

DEFAULT_STEPS = DEFAULT_LIMITS.steps
# Modules that add subcommands: each has `register(subparsers)` and sets `func`.
MODULES = ["repl.cli_history"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="world", description="A persistent, live Lisp world.")
    p.add_argument("--debug", action="store_true", help="show Python tracebacks for internal errors")
    sub = p.add_subparsers(dest="command")

    e = sub.add_parser("eval", help="evaluate expressions and print the last value")
    e.add_argument("expr", help="one or more forms")
    e.add_argument("--steps", type=int, default=DEFAULT_STEPS, help="step budget per form")

    r = sub.add_parser("run", help="evaluate a file's forms in order")
    r.add_argument("file")
    r.add_argument("--steps", type=int, default=DEFAULT_STEPS, help="step budget per form")

    sub.add_parser("repl", help="the interactive REPL (the default)")
    for name in MODULES:
        importlib.import_module(name).register(sub)
    return p


def _out(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def cmd_eval(args: argparse.Namespace) -> int:
    w = world.open(out=_out)
    value = w.eval(args.expr, steps=args.steps, source="<eval>")
    print(world.write(value))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    try:
        with open(args.file, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise LispError(f"cannot read {args.file}: {e.strerror}") from None
    w = world.open(out=_out)
    w.eval(text, steps=args.steps, source=args.file)
    return 0


def cmd_repl(args: argparse.Namespace) -> int:
    from .repl import main as repl_main
    return repl_main(args)


COMMANDS = {"eval": cmd_eval, "run": cmd_run, "repl": cmd_repl, None: cmd_repl}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `world` console script."""
    args = _parser().parse_args(argv)
    try:
        handler = getattr(args, "func", None) or COMMANDS[args.command]
        return handler(args)
    except LispError as e:
        print(f"error: {e}", file=sys.stderr)
        for line in e.format_backtrace(8):
            print(line, file=sys.stderr)
        return 1
    except InternalError as e:
        if args.debug:
            raise
        print(f"error: internal error (a bug in world, please report it): {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
