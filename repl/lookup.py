"""What the REPL tells about names: `,doc`, `,apropos` and `,who-calls`.

Plain data (an `Entry` per name) built from the live world: its definitions
and macros, the primitives its environment grants and the special forms. The
commands in `commands.py` only format it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from world.inspect import callers, type_name
from world.lisp.analyze import SPECIAL
from world.lisp.printer import write
from world.lisp.types import Closure, Pair, Primitive, Symbol


@dataclass
class Entry:
    """One name: what kind of thing it is, how it is called, its docstring."""

    name: str
    kind: str
    usage: str = ""         # how it is called, e.g. "(fib n)"; "" for a plain value
    doc: str = ""

    @property
    def summary(self) -> str:
        """The docstring's first line (else how it is called)."""
        return self.doc.strip().split("\n", 1)[0] or self.usage


def _usage(name: str, proc: Closure) -> str:
    """`(name params...)` from a closure's lambda form."""
    form = proc.tmpl.form
    if type(form) is not Pair or type(form.cdr) is not Pair:
        return ""
    params = form.cdr.car
    if params is None:
        return f"({name})"
    if type(params) is Symbol:                      # (lambda args ...): all in one list
        return f"({name} . {params.name})"
    text = write(params, 200)
    return f"({name} {text[1:]}" if text.startswith("(") else f"({name} {text})"


def _leading_call(doc: str) -> tuple[str, str]:
    """Split a primitive's or special form's doc into its "(name args)" part and the rest."""
    first, _, rest = doc.strip().partition("\n")
    if first.startswith("("):
        depth = 0
        for i, c in enumerate(first):
            depth += c == "("
            depth -= c == ")"
            if depth == 0:
                tail = first[i + 1:].lstrip(" ->|")
                return first[:i + 1], (tail + ("\n" + rest if rest else "")).strip()
    return "", doc.strip()


def entry(world: Any, name: str) -> Entry | None:
    """What `name` is in `world`, or None if it is nothing there."""
    env, names, sym = world.env, world.names, Symbol(name)
    if sym in SPECIAL:
        usage, _, doc = (SPECIAL[sym].__doc__ or "").strip().partition("\n")
        return Entry(name, "special form", usage, doc.strip())
    if sym in env.macros and not env.is_bound(sym):
        macro = env.macros[sym]
        stored = names.macros.get(name)
        doc = env.docs.get(sym) or (stored.doc if stored is not None else None) or ""
        if type(macro) is Closure:
            return Entry(name, "macro", _usage(name, macro), doc)
        return Entry(name, "syntax-rules macro", "", doc)
    if not env.is_bound(sym):
        return None
    value = env.lookup(sym)
    d = names.defs.get(name)
    if type(value) is Primitive and d is None:
        usage, doc = _leading_call(value.doc or "")
        return Entry(name, "primitive", usage, doc)
    doc = env.docs.get(sym) or (d.doc if d is not None else None) or ""
    if type(value) is Closure:
        return Entry(name, "procedure", _usage(name, value), doc)
    kind = d.kind if d is not None and d.kind != "define" else f"variable ({type_name(value)})"
    return Entry(name, kind, "", doc)


def every_name(world: Any) -> list[str]:
    """Every name defined, granted or special in `world`, sorted (binding none of the
    stored ones: `apropos` binds only those it shows)."""
    return [n for n in world.env.known_names() if not n.startswith("#")]


def apropos(world: Any, text: str) -> list[Entry]:
    """Every name containing `text` (ignoring case), with its kind and doc."""
    needle = text.lower()
    found = [entry(world, n) for n in every_name(world) if needle in n.lower()]
    return [e for e in found if e is not None]


def who_calls(world: Any, name: str) -> list[Entry]:
    """The definitions whose source mentions `name` (itself left out)."""
    found = [entry(world, n) for n in callers(world, name)]
    return [e for e in found if e is not None]
