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

from ..lisp.printer import _ATOMS, write, write_symbol
from ..lisp.types import Box, Closure, LispMap, Pair, Primitive, Record, RecordType, Symbol

CAP = 100_000           # nodes fingerprinted in detail
ABSENT = "absent"       # the state of a name with no definition
_CHUNK = 4096           # nodes between feeding the hash
KEY_TEXT = 10_000        # characters of a map key that order the entries


def fingerprint(value: Any) -> str:
    """A canonical text standing for `value` (see the module's docstring), hashed."""
    fast = _walk(value)
    return fast if fast is not None else _capped(value)


def _walk(value: Any) -> str | None:
    """`fingerprint` of a value of at most `CAP` nodes, None for a larger one.

    The same text as `_capped`, made faster: a list is walked along its cdrs
    in one step, and the nodes `_capped` would visit are counted, so a value
    it would cut short is left to it.
    """
    h = hashlib.sha256()
    parts: list[str] = []
    append = parts.append
    stack: list[Any] = [value]
    pop, push = stack.pop, stack.append
    seen: dict[int, int] = {}
    keep: list[Any] = []
    nodes = 0                           # as `_capped` counts them
    sym_text = _SYMBOL_TEXT
    while stack:
        x = pop()
        t = type(x)
        if t is _Text:
            append(x.s)
            continue
        if t is Symbol:
            nodes += 1
            text = sym_text.get(x.name)
            if text is None:
                text = _symbol(x.name)
            append(text)
        elif t is Pair:
            # "(" car1 " . (" car2 ... " . " tail ")...)": one step for the whole spine
            items = []
            while type(x) is Pair:
                items.append(x.car)
                x = x.cdr
                if len(items) > CAP:
                    return None         # a cycle through cdrs, or too long: cut short
            k = len(items)
            nodes += 3 * k
            if nodes > CAP:
                return None
            texts = _leaves(items, x, sym_text)
            if texts is not None:       # a list of atoms, such as (+ k 1): one piece of text
                nodes += k + 1
                if nodes > CAP:
                    return None
                closing = _CLOSERS[k].s if k < len(_CLOSERS) else ")" * k
                append("(" + " . (".join(texts[:-1]) + " . " + texts[-1] + closing)
                continue
            append("(")
            push(_CLOSERS[k] if k < len(_CLOSERS) else _Text(")" * k))
            push(x)
            push(_SEP)
            for i in range(k - 1, 0, -1):
                push(items[i])
                push(_SEP_OPEN)
            push(items[0])
        elif t is int:
            nodes += 1
            append(_int_text(x))
        elif t is str or t is bool or t is type(None):
            nodes += 1
            append(_ATOMS[t](x, False))
            append(" ")
        elif t is tuple:
            nodes += 2
            append("[")
            push(_CLOSE_VECTOR)
            stack.extend(reversed(x))
        elif t is Closure:
            at = seen.get(id(x))
            if at is not None:
                nodes += 1
                append(f"#closure{at} ")
                continue
            nodes += 2
            seen[id(x)] = len(seen)
            keep.append(x)
            append("#<closure ")
            push(_CLOSE_CLOSURE)
            stack.extend(reversed(x.captured()))
            push(x.tmpl.form)
        elif t is LispMap:
            nodes += 2
            append("{")
            push(_CLOSE_MAP)
            for k_, v in sorted(x.items(), key=lambda kv: write(kv[0], KEY_TEXT), reverse=True):
                push(v)
                push(k_)
        else:
            nodes += 1
            append(_other(x, t))
        if nodes > CAP:
            return None
        if len(parts) > _CHUNK:
            h.update("".join(parts).encode("utf-8", "surrogatepass"))
            parts.clear()
    h.update("".join(parts).encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def _leaves(items: list[Any], tail: Any, sym_text: dict[str, str]) -> list[str] | None:
    """The texts of a list's elements and tail if all are symbols, small ints or (), else None."""
    out = []
    for x in items:
        t = type(x)
        if t is Symbol:
            text = sym_text.get(x.name)
            out.append(text if text is not None else _symbol(x.name))
        elif t is int and -_SMALL < x < _SMALL:
            out.append(str(x) + " ")
        else:
            return None
    if tail is not None:
        return None
    out.append("() ")
    return out


def _other(x: Any, t: type) -> str:
    """The text of an atom, a primitive, a box, a record or a record type."""
    atom = _ATOMS.get(t)
    if atom is not None and t is not Closure and t is not Primitive:
        return atom(x, False) + " "
    if t is Primitive:
        return f"#<primitive {x.name}> "
    if t is Box:
        return "#<box> "
    if t is Record:
        return f"#<record {x.rtype.name}> "
    if t is RecordType:
        return f"#<record-type {x.name} {' '.join(x.fields)}> "
    return f"#<{t.__name__}> "


def _int_text(x: int) -> str:
    return (str(x) if -_SMALL < x < _SMALL else _ATOMS[int](x, False)) + " "


def _symbol(name: str) -> str:
    text = write_symbol(name) + " "
    if len(_SYMBOL_TEXT) >= _SYMBOLS_KEPT:      # names made at run time: keep the cache bounded
        _SYMBOL_TEXT.clear()
    _SYMBOL_TEXT[name] = text
    return text


def _capped(value: Any) -> str:
    """The reference walk: `fingerprint` of any value, larger ones by their first `CAP` nodes."""
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


_SEP, _SEP_OPEN = _Text(" . "), _Text(" . (")
_CLOSE_VECTOR, _CLOSE_MAP, _CLOSE_CLOSURE = _Text("]"), _Text("}"), _Text(">")
_CLOSERS = [_Text(")" * k) for k in range(65)]
_SYMBOL_TEXT: dict[str, str] = {}      # a symbol's name -> its text and a space
_SYMBOLS_KEPT = 100_000
_SMALL = 10 ** 300                      # ints whose text needs no care (see printer._int)


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
