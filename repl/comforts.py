"""The everyday `,`-commands of a Lisp REPL: `,time`, `,trace`/`,untrace`,
`,expand`, `,doc`, `,apropos` and `,who-calls`.

Registered in `commands.COMMANDS` like the others; the logic behind them is
in `trace.py` (tracing) and `lookup.py` (names), and `values.py` keeps `*1`,
`*2`, `*3` and `*e`.
"""
from __future__ import annotations

import time
from typing import Any

from world.lisp.errors import LispError
from world.lisp.printer import write
from world.lisp.reader import read_spans
from world.lisp.types import Pair, Symbol

from . import lookup, render
from .commands import CommandError, command

MACROEXPAND, QUOTE = Symbol("macroexpand"), Symbol("quote")


def _name(arg: str, cmd: str) -> str:
    """The one name a command was given."""
    words = arg.split()
    if len(words) != 1:
        raise CommandError(f",{cmd}: expected one name, got {arg!r}" if arg
                           else f",{cmd}: expected a name")
    return words[0]


def _duration(seconds: float) -> str:
    """A wall time as people read it: 12.3 ms, 2.41 s."""
    if seconds < 1:
        return f"{seconds * 1000:.3g} ms"
    return f"{seconds:.3g} s" if seconds < 100 else f"{seconds:.0f} s"


@command("time", "FORM: evaluate FORM, then show its wall time and steps")
def cmd_time(repl: Any, arg: str) -> None:
    """,time FORM: evaluate and measure."""
    if not arg:
        raise CommandError(",time: expected a form")
    started = time.perf_counter()
    repl.evaluate(arg, source="<time>")
    elapsed = time.perf_counter() - started
    repl.show(render.note(f"; {_duration(elapsed)}, {repl.spent:,} steps"))


@command("trace", "NAME: print each call of procedure NAME and its value (no NAME: list)")
def cmd_trace(repl: Any, arg: str) -> None:
    """,trace NAME: trace a procedure of the world, in this session only."""
    tracer = repl.tracer
    if not arg:
        names = tracer.names
        repl.show(render.note("tracing " + ", ".join(names) if names else "tracing nothing"))
        return
    for name in arg.split():
        why = tracer.trace(name)
        if why is not None:
            raise CommandError(f",trace: {why}")
    repl.show(render.note(f"tracing {', '.join(tracer.names)} (,untrace stops)"))


@command("untrace", "[NAME]: stop tracing NAME (no NAME: every traced procedure)")
def cmd_untrace(repl: Any, arg: str) -> None:
    """,untrace [NAME]: put the original procedure back."""
    stopped = repl.tracer.untrace(_name(arg, "untrace") if arg else None)
    if arg and not stopped:
        raise CommandError(f",untrace: {arg} is not traced")
    left = repl.tracer.names
    said = f"stopped tracing {', '.join(stopped)}" if stopped else "nothing was traced"
    repl.show(render.note(said + (f"; still tracing {', '.join(left)}" if left else "")))


@command("expand", "FORM: FORM's macro use expanded (defmacro and syntax-rules)")
def cmd_expand(repl: Any, arg: str) -> None:
    """,expand FORM: what `(macroexpand 'FORM)` gives, highlighted."""
    spans = read_spans(arg, "<expand>") if arg.strip() else []
    if len(spans) != 1:
        raise CommandError(",expand: expected one form")
    form = spans[0][0]
    call = Pair(MACROEXPAND, Pair(Pair(QUOTE, Pair(form, None)), None))
    result = repl.world.eval_form(call, None, "<expand>", None, write)
    repl.show(render.code(result.text if result.text is not None else write(result.value)))


def _doc_lines(e: lookup.Entry) -> list[tuple[str, str]]:
    head = [("class:help.command", e.name), ("class:note", f"  {e.kind}")]
    if e.usage:
        head += [("", "\n  "), ("", e.usage)]
    body = e.doc.strip() or ("" if e.usage else "(no docstring)")
    for line in body.split("\n") if body else []:
        head += [("", "\n  "), ("class:note" if not e.doc.strip() else "", line.strip())]
    return head


@command("doc", "NAME: NAME's kind, parameters and docstring (primitives and special forms too)")
def cmd_doc(repl: Any, arg: str) -> None:
    """,doc NAME: describe one name."""
    name = _name(arg, "doc")
    e = lookup.entry(repl.world, name)
    if e is None:
        raise CommandError(f",doc: {name} is not defined" + _nearest(repl, name))
    repl.show(_doc_lines(e))


def _nearest(repl: Any, name: str) -> str:
    """" (did you mean ...?)" as an unbound name's error would say it, or ""."""
    from world.lisp.errors import UnboundVariable
    err = UnboundVariable(name)
    err.candidates = repl.world.env.known_names
    hint = err.hint()
    return f" ({hint})" if hint else ""


def _listing(entries: list[lookup.Entry]) -> list[tuple[str, str]]:
    width = min(max(len(e.name) for e in entries), 28)
    parts: list[tuple[str, str]] = []
    for i, e in enumerate(entries):
        if i:
            parts.append(("", "\n"))
        parts += [("class:help.command", f"  {e.name:<{width}}"), ("class:note", f"  {e.kind}")]
        if e.summary:
            parts.append(("", f"  {e.summary}"))
    return parts


@command("apropos", "TEXT: every name containing TEXT, with its kind and doc")
def cmd_apropos(repl: Any, arg: str) -> None:
    """,apropos TEXT: search the names."""
    if not arg.strip():
        raise CommandError(",apropos: expected some text to look for")
    found = lookup.apropos(repl.world, arg.strip())
    if not found:
        repl.show(render.note(f"no name contains {arg.strip()!r}"))
        return
    repl.show(_listing(found))


@command("who-calls", "NAME: the definitions whose source mentions NAME")
def cmd_who_calls(repl: Any, arg: str) -> None:
    """,who-calls NAME: the callers of a name."""
    name = _name(arg, "who-calls")
    try:
        found = lookup.who_calls(repl.world, name)
    except LispError as e:
        raise CommandError(f",who-calls: {e.message}") from None
    if not found:
        repl.show(render.note(f"no definition mentions {name}"))
        return
    repl.show(_listing(found))
