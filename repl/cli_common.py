"""What every `world` subcommand shares: flags, opening the world, output, errors.

A subcommand module (`repl/cli_<x>.py`, listed in `repl.cli.COMMANDS`) uses:

- `add_world_args(p)`: --world PATH / --zeo HOST:PORT / --memory / --read-only;
  `add_steps_arg(p)`: --steps N; `add_json_arg(p)`: --json.
- `with open_world(args) as w:` the world those flags ask for (the image
  `--world`, else `$WORLD_IMAGE`, else `images/world.fs` under the cwd),
  closed again afterwards; output of `display` goes to stdout.
- `print_value(args, value)`: the value as Lisp text, or as JSON with --json;
  `renderer(args)`: the same as a function, for `World.eval(..., show=...)`, which
  renders the value within its form's budget.
- Errors: raise `CommandError("what went wrong: what to do")` (or any
  `world.LispError`) for a user's mistake and `UsageError` for bad flags;
  `repl.cli.main` prints one `error: ...` line and exits with `EXIT_USER`,
  `EXIT_USAGE`, `EXIT_INTERRUPT` on Ctrl-C, `EXIT_INTERNAL` for a bug.
  `fail(message)` prints such a line and returns `EXIT_USER`, for a handler
  that prefers returning to raising.
"""
from __future__ import annotations

import argparse
import contextlib
import sys
from dataclasses import replace
from fractions import Fraction
from typing import Any, Callable, Iterator

from world.lisp.budget import DEFAULT_LIMITS
from world.lisp.errors import LispError
from world.objects.cli_support import (add_serve_args, add_world_args, image_path,
                                       open_from_args, serve_from_args)

__all__ = ["EXIT_INTERNAL", "EXIT_INTERRUPT", "EXIT_OK", "EXIT_PIPE", "EXIT_USAGE",
           "EXIT_USER", "CommandError", "PipeClosed", "UsageError", "add_json_arg",
           "add_serve_args", "add_steps_arg", "add_world_args", "error_line", "fail",
           "image_path", "open_world", "out", "print_value", "renderer", "serve_from_args",
           "to_json"]

EXIT_OK = 0
EXIT_USER = 1          # the user's mistake: bad input, a Lisp error, an image that cannot open
EXIT_USAGE = 2         # bad flags (argparse uses 2 as well)
EXIT_INTERNAL = 3      # a bug in world
EXIT_INTERRUPT = 130   # Ctrl-C
EXIT_PIPE = 141        # the reader of our output went away (`| head`), as SIGPIPE reports

DEFAULT_STEPS = DEFAULT_LIMITS.steps


class CommandError(LispError):
    """A user's mistake found by a subcommand; printed as one `error:` line."""

    kind = "error"


class PipeClosed(LispError):
    """Standard output was closed by its reader (`world ... | head`): stop quietly.
    A LispError that is not an EvalError, so a program's `guard` cannot catch it."""

    kind = "output closed"


class UsageError(Exception):
    """Flags that do not make sense together; exit status `EXIT_USAGE`."""


def add_steps_arg(parser: argparse.ArgumentParser) -> None:
    """Add --steps N, the step budget of each form."""
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS, metavar="N",
                        help=f"step budget per form (default: {DEFAULT_STEPS})")


def add_json_arg(parser: argparse.ArgumentParser) -> None:
    """Add --json: print results as JSON instead of Lisp text."""
    parser.add_argument("--json", action="store_true", help="print results as JSON")


def out(text: str) -> None:
    """Write program output to stdout at once (where `display` goes)."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        raise PipeClosed("standard output was closed") from None


@contextlib.contextmanager
def open_world(args: argparse.Namespace) -> Iterator[Any]:
    """The world `add_world_args` flags ask for (steps from --steps), closed on exit."""
    limits = DEFAULT_LIMITS
    steps = getattr(args, "steps", None)
    if steps is not None:
        if steps < 1:
            raise UsageError(f"--steps must be at least 1, not {steps}")
        limits = replace(limits, steps=steps)
    w = open_from_args(args, out=out, limits=limits)
    try:
        yield w
    finally:
        w.close()


def to_json(value: Any) -> Any:
    """A Lisp value (or plain Python data) as JSON: lists and vectors are arrays, maps
    objects, symbols strings, anything else its written text."""
    from world.lisp.printer import write
    from world.lisp.types import Char, Keyword, LispMap, Pair, Symbol
    if value is None or isinstance(value, (bool, str)):
        return [] if value is None else value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else write(value)
    if isinstance(value, Fraction):
        return write(value)
    if isinstance(value, (Symbol, Keyword, Char)):
        return write(value) if not isinstance(value, Symbol) else value.name
    if isinstance(value, (tuple, list)):
        return [to_json(v) for v in value]
    if isinstance(value, dict):          # Python data a subcommand made, such as `info()`
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, Pair):
        items = []
        while isinstance(value, Pair):
            items.append(to_json(value.car))
            value = value.cdr
        if value is not None:
            return write(value) if not items else {"list": items, "tail": to_json(value)}
        return items
    if isinstance(value, LispMap):
        return {k.name if isinstance(k, Keyword) else (k if isinstance(k, str) else write(k)):
                to_json(v) for k, v in value.items()}
    return write(value)


def renderer(args: argparse.Namespace) -> Callable[[Any], str]:
    """How a command given these flags shows a value: Lisp text, or JSON with --json. The
    runtime calls it on the form's value within the form's own budget (`run(show=...)`)."""
    from world.lisp.printer import write
    if not getattr(args, "json", False):
        return write
    from .jsontext import json_text
    # JSON escapes what stdout cannot encode, so the text stays valid JSON.
    ascii = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "") != "utf8"
    return lambda value: json_text(value, ascii)


def print_value(args: argparse.Namespace, value: Any, world: Any = None) -> None:
    """Print a result: Lisp text, or JSON when the command was given --json (converted
    under what is left of the budget of `world`'s last form)."""
    import world as _world
    if getattr(args, "json", False):
        from .jsontext import json_for
        limits, last = (DEFAULT_LIMITS, None) if world is None else (world.limits, world.last)
        # JSON escapes what stdout cannot encode, so the text stays valid JSON.
        ascii = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "") != "utf8"
        print(json_for(value, limits, last.steps if last is not None else 0, ascii=ascii))
    else:
        print(_world.write(value))


def error_line(exc: BaseException) -> str:
    """The one `error:` line for an exception (no doubled `error: error:`)."""
    text = str(exc)
    if isinstance(exc, LispError) and exc.loc is None and exc.kind == "error":
        text = exc.message
    return f"error: {text}"


def fail(message: str) -> int:
    """Print `error: message` on stderr and return `EXIT_USER`."""
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USER
