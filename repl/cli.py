"""The `world` command: every operation, non-interactively, plus the REPL.

The library never prints; this module is where text meets the terminal.
User mistakes end as one line starting `error:` on stderr and exit status 1,
never a Python traceback (unless --debug).

Subcommands come from a registry. `eval`, `run`, `repl` and `serve` are
registered here; every other module named in `COMMANDS` defines

    def register(sub: argparse._SubParsersAction) -> None

which adds its subparsers with `sub.add_parser(...)` and gives each a handler
with `parser.set_defaults(func=handler)`, where `handler(args) -> int`
returns the exit status. Handlers use the helpers of `repl.cli_common`
(re-exported here): `add_world_args`/`add_steps_arg`/`add_json_arg` for the
shared flags, `with open_world(args) as w:` for the world, `print_value` for
results, and raise `CommandError` (any `world.LispError`) for a user's
mistake or `UsageError` for bad flags; `main` turns those into one `error:`
line and exit status 1 or 2, Ctrl-C into 130. To add a subcommand module, add
its one line to `COMMANDS`; a listed module that is not (yet) in the package
is skipped, so the CLI keeps working.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Sequence

from .cli_common import (EXIT_INTERNAL, EXIT_INTERRUPT, EXIT_OK, EXIT_PIPE, EXIT_USAGE,
                         EXIT_USER, CommandError, PipeClosed, UsageError, add_json_arg,
                         add_serve_args, add_steps_arg,
                         add_world_args, error_line, fail, image_path, open_world, out,
                         print_value, renderer, serve_from_args, to_json)

__all__ = ["COMMANDS", "EXIT_INTERNAL", "EXIT_INTERRUPT", "EXIT_OK", "EXIT_PIPE", "EXIT_USAGE",
           "EXIT_USER", "CommandError", "PipeClosed", "UsageError", "add_json_arg",
           "add_serve_args", "add_steps_arg",
           "add_world_args", "build_parser", "error_line", "fail", "image_path", "main",
           "open_world", "out", "print_value", "serve_from_args", "to_json"]

# Modules whose `register(sub)` adds subcommands; one line each.
COMMANDS: tuple[str, ...] = (
    "repl.cli_cartridge",
    "repl.cli_agent",
    "repl.cli_check",
    "repl.cli_evolve",
    "repl.cli_history",
    "repl.cli_hub",
    "repl.cli_keys",
    "repl.cli_pack",
    "repl.cli_peer",
    "repl.cli_serve_prod",
    "repl.cli_tls",
    "repl.cli_world",
)


def cmd_eval(args: argparse.Namespace) -> int:
    """`world eval EXPR`: evaluate, print the last value."""
    with open_world(args) as w:
        before = w.last
        value = w.eval(args.expr, source="<eval>", show=renderer(args))
        if w.last is not before and w.last.text is not None:
            print(w.last.text)          # rendered within the form's budget
        else:
            print_value(args, value, w)
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    """`world run FILE`: evaluate a file's forms in order."""
    if args.pause_at is not None:       # a fresh cartridge environment, not the image
        from .cli_cartridge import cmd_run as run_cartridge
        return run_cartridge(args)
    if args.cartridge is not None or args.sign:
        raise UsageError("run: --cartridge and --sign go with --pause-at N")
    try:
        with open(args.file, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise CommandError(f"cannot read {args.file}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise CommandError(f"cannot read {args.file}: it is not UTF-8 text") from None
    with open_world(args) as w:
        w.eval(text, source=args.file)
    return EXIT_OK


def cmd_repl(args: argparse.Namespace) -> int:
    """`world repl` (and `world` alone): the interactive REPL on the world."""
    from .repl import main as repl_main
    with open_world(args) as w:
        return repl_main(args, w)


def cmd_serve(args: argparse.Namespace) -> int:
    """`world serve`: share an image over ZEO until interrupted."""
    import signal

    def ready(address: str) -> None:
        out(f"serving {image_path(args)} on {address} (Ctrl-C stops)\n")

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)         # `kill` stops it as cleanly as Ctrl-C
    return serve_from_args(args, ready=ready)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the built-in subcommands: eval, run, repl, serve."""
    e = sub.add_parser("eval", help="evaluate expressions and print the last value")
    e.add_argument("expr", help="one or more forms")
    add_steps_arg(e)
    add_json_arg(e)
    add_world_args(e)
    e.set_defaults(func=cmd_eval)

    r = sub.add_parser("run", help="evaluate a file's forms in order")
    r.add_argument("file")
    add_steps_arg(r)
    add_world_args(r)
    from .cli_cartridge import add_run_flags
    add_run_flags(r, "run in a fresh environment (core, output, cartridge, simulate; not the "
                     "image) and, at step N, write a cartridge (`world cartridge resume` finishes it)")
    r.set_defaults(func=cmd_run)

    p = sub.add_parser("repl", help="the interactive REPL (the default)")
    p.add_argument("--theme", choices=("dark", "light", "none"), default=None,
                   help="colours for a dark terminal (the default), a light one, or none "
                        "(default: $WORLD_THEME, else none if $NO_COLOR is set, else dark)")
    add_steps_arg(p)
    add_world_args(p)
    p.set_defaults(func=cmd_repl)

    s = sub.add_parser("serve", help="share a world image over ZEO")
    add_serve_args(s)
    s.set_defaults(func=cmd_serve)


def _modules() -> list:
    found = []
    for name in COMMANDS:
        try:
            found.append(importlib.import_module(name))
        except ModuleNotFoundError as e:
            if e.name != name:      # the module exists but something it imports does not
                raise
    return found


def build_parser() -> argparse.ArgumentParser:
    """The `world` argument parser with every registered subcommand."""
    p = argparse.ArgumentParser(prog="world", description="A persistent, live Lisp world.")
    p.add_argument("--debug", action="store_true", help="show Python tracebacks for internal errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    register(sub)
    for module in _modules():
        module.register(sub)
    return p


def _default_to_repl(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """`world [--debug] [WHERE]` with no subcommand means `world [--debug] repl [WHERE]`."""
    commands = set()
    for action in parser._subparsers._group_actions if parser._subparsers else ():
        commands |= set(getattr(action, "choices", None) or ())
    if any(a in commands or a in ("-h", "--help") for a in argv):
        return argv
    lead = [a for a in argv if a == "--debug"]
    return [*lead, "repl", *(a for a in argv if a != "--debug")]


def _quiet_libraries(debug: bool) -> None:
    """Library log records (ZODB, ZEO, RelStorage) reach stderr only with --debug."""
    import logging
    if debug:
        logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    elif not logging.getLogger().handlers:
        logging.getLogger().addHandler(logging.NullHandler())


def _tolerant_streams() -> None:
    """Write what the terminal's encoding cannot show as escapes, never as an error."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):      # a closed or detached stream: leave it
                pass


def _pipe_closed() -> int:
    """Whoever read our output (`| head`) stopped: say nothing more, exit as SIGPIPE would."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())   # the interpreter's last flush finds nowhere to fail
    except (OSError, ValueError):
        pass
    return EXIT_PIPE


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `world` console script."""
    _tolerant_streams()
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(_default_to_repl(parser, argv))
    _quiet_libraries(args.debug)
    try:
        status = _dispatch(args)
        sys.stdout.flush()          # while a closed pipe can still be handled quietly
        return status
    except (BrokenPipeError, PipeClosed):
        return _pipe_closed()


def _dispatch(args: argparse.Namespace) -> int:
    """Run the subcommand; a user's mistake or a bug becomes one `error:` line and a status."""
    from world.lisp.errors import InternalError, LispError
    from world.lisp.errors import Interrupted
    try:
        return args.func(args)
    except (BrokenPipeError, PipeClosed):
        raise
    except LispError as e:
        print(error_line(e), file=sys.stderr)
        for line in e.format_backtrace(8):
            print(line, file=sys.stderr)
        return EXIT_INTERRUPT if isinstance(e, Interrupted) else EXIT_USER
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except InternalError as e:
        if args.debug:
            raise
        print(f"error: internal error (a bug in world, please report it): {e}", file=sys.stderr)
        return EXIT_INTERNAL
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return EXIT_INTERRUPT
    except (RecursionError, MemoryError) as e:     # exhaustion the budgets did not catch first
        if args.debug:
            raise
        what = "nesting too deep" if isinstance(e, RecursionError) else "host memory exhausted"
        print(f"error: budget exceeded: {what}", file=sys.stderr)
        return EXIT_USER
    except Exception as e:          # a bug: still one line, the traceback only with --debug
        if args.debug:
            raise
        text = " ".join(f"{type(e).__name__}: {e}".split())[:300]
        print(f"error: internal error (a bug in world, please report it): {text}", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
