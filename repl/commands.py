"""`,`-commands: what the REPL does that is not Lisp.

Each command is a small function registered under its name with a one-line
help text; it gets the running REPL and the rest of the line, and returns
False to end the session. A mistake is a `CommandError`, shown as one line.
"""
from __future__ import annotations

import os
from dataclasses import replace
from typing import Any, Callable

from world.lisp.budget import Limits
from world.lisp.errors import LispError
from world.lisp.reader import read
from world.lisp.types import Symbol

from . import render

Command = Callable[[Any, str], "bool | None"]
COMMANDS: dict[str, tuple[Command, str]] = {}
ALIASES = {"q": "quit", "exit": "quit", "h": "help", "?": "help", "b": "browse", "i": "inspect"}


class CommandError(LispError):
    """A `,`-command used wrongly."""

    kind = "command"

    def __str__(self) -> str:
        return self.message


def command(name: str, help_text: str) -> Callable[[Command], Command]:
    """Register the decorated function as the `,name` command."""
    def register(fn: Command) -> Command:
        COMMANDS[name] = (fn, help_text)
        return fn
    return register


def is_command(text: str) -> bool:
    """Whether a line of input is a `,`-command rather than Lisp."""
    return text.lstrip().startswith(",")


def run(repl: Any, text: str) -> bool:
    """Run the `,`-command in `text`; False means quit."""
    name, _, arg = text.strip()[1:].partition(" ")
    name = ALIASES.get(name, name)
    entry = COMMANDS.get(name)
    if entry is None:
        known = ", ".join("," + n for n in sorted(COMMANDS))
        raise CommandError(f"unknown command ,{name} (commands: {known})")
    return entry[0](repl, arg.strip()) is not False


# ---------------------------------------------------------------- the commands

KEYS = [("Enter", "evaluate a complete form; inside an open form, a new indented line"),
        ("Esc Enter", "a new line even when the form is complete"),
        ("Tab", "complete a name (its doc or kind is shown beside it)"),
        ("Ctrl-R", "search the history of this image"),
        ("Up/Down", "step through earlier forms, whole"),
        ("Right", "accept the grey suggestion from history"),
        ("Ctrl-C", "clear the input; while evaluating, interrupt (the form is rolled back)"),
        ("Ctrl-D", "leave (every evaluated form is already committed)")]


@command("help", "this help")
def cmd_help(repl: Any, arg: str) -> None:
    """,help: the commands and keys."""
    parts: list[tuple[str, str]] = [("", "Anything else you type is a Lisp form; "
                                         "(inspect x) describes any value or name.\n")]
    for name, (_, help_text) in sorted(COMMANDS.items()):
        parts += [("class:help.command", f"  ,{name:<10}"), ("", f"{help_text}\n")]
    for key, what in KEYS:
        parts += [("class:help.command", f"  {key:<11}"), ("", f"{what}\n")]
    repl.show(parts[:-1] + [(parts[-1][0], parts[-1][1].rstrip("\n"))])


def physical_memory() -> int | None:
    """Bytes of RAM on this machine, if the system says."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def budget_for(base: Limits, steps: int) -> Limits:
    """The limits of a step budget of `steps`. Memory is accounted cumulatively and the
    clock runs with the work, so a budget raised past `base` raises those two by as much
    (else the extra steps could never be spent); the memory allowance stays under half
    the machine's RAM, so the process backstop (a multiple of it) still protects the host."""
    if steps <= base.steps:
        return replace(base, steps=steps)
    factor = steps / base.steps
    memory = int(base.memory * factor)
    ram = physical_memory()
    if ram is not None:
        memory = max(base.memory, min(memory, ram // 2))
    return replace(base, steps=steps, memory=memory, seconds=base.seconds * factor)


@command("steps", "N: the step budget of each evaluation (no N: show it)")
def cmd_steps(repl: Any, arg: str) -> None:
    """,steps N: set the step budget (and the memory and time that go with it)."""
    if arg:
        try:
            n = int(arg.replace("_", "").replace(",", ""))
        except ValueError:
            n = 0
        if n <= 0:
            raise CommandError(f",steps: expected a positive whole number, got {arg!r}")
        repl.steps = n
    lim, base = repl.world.limits, repl.base_limits
    more = "" if lim.steps <= base.steps else \
        f" (and with it: memory {lim.memory >> 20:,} MB, time {lim.seconds:g} s)"
    repl.show(render.note(f"step budget: {repl.steps:,} per evaluation{more}"))


@command("load", "FILE: evaluate a file's forms, each committed on its own")
def cmd_load(repl: Any, arg: str) -> None:
    """,load FILE: evaluate every form of a file."""
    if not arg:
        raise CommandError(",load: expected a file name")
    path = os.path.expanduser(arg)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise CommandError(f",load: cannot read {arg}: {e.strerror}") from None
    n = repl.evaluate(text, source=arg, echo=False)
    repl.show(render.note(f"loaded {n} form{'s' if n != 1 else ''} from {arg}"))


@command("inspect", "WHAT: show (inspect WHAT) as a tree")
def cmd_inspect(repl: Any, arg: str) -> None:
    """,inspect WHAT: a tree view of a name, a topic or a value."""
    repl.show_inspect(repl.inspect(_target(arg or ":world")))


@command("browse", "[WHAT]: walk (inspect WHAT) full-screen (default :world)")
def cmd_browse(repl: Any, arg: str) -> None:
    """,browse [WHAT]: the full-screen inspector."""
    repl.browse(repl.inspect(_target(arg or ":world")))


@command("debug", "show Python tracebacks with errors (toggle)")
def cmd_debug(repl: Any, arg: str) -> None:
    """,debug: toggle Python tracebacks."""
    repl.debug = not repl.debug
    repl.show(render.note(f"Python tracebacks {'on' if repl.debug else 'off'}"))


@command("quit", "leave the REPL (Ctrl-D does the same)")
def cmd_quit(repl: Any, arg: str) -> bool:
    """,quit: end the session."""
    return False


def _target(arg: str) -> str:
    """The `(inspect ...)` form `,inspect`/`,browse` evaluate: a name is quoted, anything else evaluated."""
    form = read(arg, "<command>")
    return f"(inspect '{arg.strip()})" if type(form) is Symbol else f"(inspect {arg.strip()})"


from . import comforts  # noqa: E402,F401  (registers ,time ,trace ,expand ,doc ...)
from . import companion  # noqa: E402,F401  (registers ,ask ,yes ,no)
