"""The state of a definition as one hash: what `verify` compares with history.

A definition's state is its kind, canonical source and docstring, and a
fingerprint of its value: data by its canonical written form, a procedure by
its lambda (as data) and what it captured, a primitive by its name. Boxes and
records are mutable on purpose (a program may change them without defining
anything), so they count by their kind and record type only. Each closure is
walked once: a closure met again (it calls itself, or two share one) is a
back-reference by position, which a reload keeps, since a definition's value
is stored as one record.

The walk never recurses and stops looking after `CAP` nodes: a larger value
is fingerprinted by its first `CAP` nodes. Being bounded, it is the host's
bookkeeping and not charged to the program (a program's step counts do not
change because history keeps a hash); the form's time limit still holds.
"""
from __future__ import annotations

import hashlib
from typing import Any

from ..lisp.printer import _ATOMS, write
from ..lisp.types import Box, Closure, LispMap, Pair, Primitive, Record, RecordType

CAP = 100_000           # nodes fingerprinted in detail
ABSENT = "absent"       # the state of a name with no definition
_CHUNK = 4096           # nodes between feeding the hash
KEY_TEXT = 10_000        # characters of a map key that order the entries


def fingerprint(value: Any) -> str:
    """A canonical text standing for `value` (see the module's docstring), hashed."""
    h = hashlib.sha256()
    parts: list[str] = []
    seen: dict[int, int] = {}           # id of a closure -> its position among closures
    keep: list[Any] = []                # what `seen` names stays alive while we walk
    stack: list[Any] = [value]
    nodes = 0
    while stack:
        x = stack.pop()
        nodes += 1
        if nodes % _CHUNK == 0:
            h.update("".join(parts).encode("utf-8", "surrogatepass"))
            parts.clear()
        if nodes > CAP:
            parts.append(f"...{len(stack)}")
            break
        if type(x) is _Text:
            parts.append(x.s)
            continue
        t = type(x)
        atom = _ATOMS.get(t)
        if atom is not None and t is not Closure and t is not Primitive:
            parts.append(atom(x, False))
            parts.append(" ")
        elif t is Pair:
            parts.append("(")
            stack.append(_Text(")"))
            stack.append(x.cdr)
            stack.append(_Text(" . "))
            stack.append(x.car)
        elif t is tuple:
            parts.append("[")
            stack.append(_Text("]"))
            stack.extend(reversed(x))
        elif t is LispMap:
            parts.append("{")
            stack.append(_Text("}"))
            for k, v in sorted(x.items(), key=lambda kv: write(kv[0], KEY_TEXT), reverse=True):
                stack.append(v)
                stack.append(k)
        elif t is Closure:
            at = seen.get(id(x))
            if at is not None:
                parts.append(f"#closure{at} ")
                continue
            seen[id(x)] = len(seen)
            keep.append(x)
            parts.append("#<closure ")
            stack.append(_Text(">"))
            stack.extend(reversed(x.captured()))
            stack.append(x.tmpl.form)
        elif t is Primitive:
            parts.append(f"#<primitive {x.name}> ")
        elif t is Box:
            parts.append("#<box> ")
        elif t is Record:
            parts.append(f"#<record {x.rtype.name}> ")
        elif t is RecordType:
            parts.append(f"#<record-type {x.name} {' '.join(x.fields)}> ")
        else:
            parts.append(f"#<{t.__name__}> ")
    h.update("".join(parts).encode("utf-8", "surrogatepass"))
    return h.hexdigest()


class _Text:
    """A piece of fixed text waiting on the walk's stack (closing a list, say)."""

    __slots__ = ("s",)

    def __init__(self, s: str) -> None:
        self.s = s


def state_of(defn: Any, macro: Any) -> str:
    """The hash of a name's definition and macro (either may be None)."""
    if defn is None and macro is None:
        return ABSENT
    h = hashlib.sha256()
    for d in (defn, macro):
        if d is None:
            h.update(b"-\n")
            continue
        text = f"{d.kind}\n{d.source!r}\n{d.doc!r}\n{fingerprint(d.value)}\n"
        h.update(text.encode("utf-8", "surrogatepass"))
    return h.hexdigest()
