"""Inspect maps as trees: the shape shared by the REPL's tree printout and
the full-screen browser.

A node's children are a map's entries (in the order `inspect` built them),
or a list's or vector's elements; anything else is a leaf shown as its
written text. Procedures, records and boxes can be opened further: their
children are what `describe` says about them.
"""
from __future__ import annotations

from typing import Any

from prompt_toolkit.formatted_text import FormattedText

from world.inspect import describe
from world.objects.image import iso
from world.lisp.printer import write
from world.lisp.types import Box, Closure, ErrorObject, Keyword, LispMap, Pair, Primitive, Record

from . import render
from .output import escape_controls

MAX_CHILDREN = 40       # elements of one list shown before "... N more"
LEAF_CHARS = 100        # characters of a leaf's written text shown on its line
SOURCE_LINES = 60       # lines of a `:source` shown in a tree before "… N more lines"
# Keys whose number is a time in seconds since 1970 (records of evolution runs keep them
# so): shown as a date, as the world's own `:time` strings are.
TIME_KEYS = frozenset({":time", ":created", ":finished", ":started", ":last-transaction"})
EPOCHS = (1e9, 1e10)    # 2001 to 2286: a plausible time, not a count that shares the key
OPENABLE = (Closure, Primitive, Record, Box, ErrorObject)


def label(key: Any) -> str:
    """A child's label: a keyword without its colon's noise, or an index."""
    return write(key)


def entries(v: Any) -> list[tuple[str, Any]] | None:
    """The children of `v` as (label, value), or None if `v` is a leaf."""
    t = type(v)
    if t is LispMap:
        return [(label(k), x) for k, x in v.items()] or None
    if t is Pair:
        items, x = [], v
        while type(x) is Pair:
            items.append(x.car)
            x = x.cdr
        if x is not None:
            return [("car", v.car), ("cdr", v.cdr)]
        return [(f"[{i}]", item) for i, item in enumerate(items)]
    if t is tuple and v:
        return [(f"[{i}]", item) for i, item in enumerate(v)]
    return None


def openable(v: Any) -> bool:
    """Whether a leaf can be opened into what `describe` says about it."""
    return type(v) in OPENABLE


def opened(v: Any) -> list[tuple[str, Any]] | None:
    """Children of `v`, opening procedures, records and boxes with `describe`."""
    kids = entries(v)
    if kids is None and openable(v):
        return entries(describe(v))
    return kids


def summary(v: Any) -> str:
    """One line standing for `v` beside its label."""
    t = type(v)
    if t is LispMap:
        name, kind = v.get(Keyword("name"), None), v.get(Keyword("kind"), None) or v.get(
            Keyword("type"), None)
        bits = [x for x in (name, kind) if type(x) is str]
        return "{" + " ".join(bits) + (" " if bits else "") + f"{len(v)} entries}}"
    if t is Pair and entries(v) is not None and entries(v)[0][0] == "[0]":
        n = len(entries(v))
        return f"({n} item{'s' if n != 1 else ''})"
    if t is tuple and v:
        return f"[{len(v)} items]"
    text = write(v)
    return text if len(text) <= LEAF_CHARS else text[:LEAF_CHARS - 1] + "…"


def leaf(key: str, v: Any) -> str:
    """The text of a leaf beside its label: a time as a date, anything else its summary."""
    if key in TIME_KEYS and type(v) in (int, float) and EPOCHS[0] <= v < EPOCHS[1]:
        return iso(v)
    return summary(v)


def source_lines(text: str, indent: str, limit: int = SOURCE_LINES,
                 code: bool = True) -> list[tuple[str, str]]:
    """Multi-line text (as highlighted code with `code`) whose later lines start with
    `indent` (the tree's branch lines and the column the first line started at), so the
    tree stays whole."""
    lines = escape_controls(text).split("\n")
    parts: list[tuple[str, str]] = []
    for i, line in enumerate(lines[:limit]):
        if i:
            parts += [("", "\n"), ("class:tree.branch", indent)]
        parts += render.code(line) if code else [("", line)]
    if len(lines) > limit:
        parts += [("", "\n"), ("class:tree.branch", indent),
                  ("class:note", f"… {len(lines) - limit:,} more lines")]
    return parts


def tree(v: Any, max_depth: int = 8) -> FormattedText:
    """`v` drawn as an indented tree with branch lines, leaves highlighted."""
    parts: list[tuple[str, str]] = [("class:tree.type", summary(v))]
    _children(parts, v, "", max_depth)
    return FormattedText(parts)


def _children(parts: list[tuple[str, str]], v: Any, prefix: str, depth: int) -> None:
    kids = entries(v)
    if kids is None:
        return
    if depth <= 0:
        parts += [("", "\n"), ("class:tree.branch", prefix + "└─ "), ("class:note", "…")]
        return
    shown = kids[:MAX_CHILDREN]
    for i, (key, child) in enumerate(shown):
        last = i == len(shown) - 1 and len(kids) <= MAX_CHILDREN
        parts += [("", "\n"), ("class:tree.branch", prefix + ("└─ " if last else "├─ ")),
                  ("class:tree.key", key), ("", " ")]
        if type(child) is str and (key == ":source" or "\n" in child):
            # source reads best as code, other multi-line text (a diff, a report) as text,
            # not as a string with escapes; the later lines stay inside the tree
            under = prefix + ("   " if last else "│  ")
            parts += source_lines(child, under + " " * (len(key) + 1), code=key == ":source")
        elif entries(child) is None:
            parts += render.code(leaf(key, child))
        else:
            parts.append(("class:tree.type", summary(child)))
            _children(parts, child, prefix + ("   " if last else "│  "), depth - 1)
    if len(kids) > MAX_CHILDREN:
        parts += [("", "\n"), ("class:tree.branch", prefix + "└─ "),
                  ("class:note", f"… {len(kids) - MAX_CHILDREN} more")]
