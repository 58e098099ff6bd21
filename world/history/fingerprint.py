"""The state of a definition as one hash: what `verify` compares with history.

A definition's state is its kind, canonical source and docstring, and a
fingerprint of its value: data by its canonical written form, a procedure by
its lambda (the canonical text it is stored as, see `Template`) and what it captured, a primitive by its name. Boxes and
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
            done = _list_text(items, x, 0) if x is None else None
            if done is not None:        # a small form of lists and atoms: one piece of text
                nodes += done[1] - 3 * k
                if nodes > CAP:
                    return None
                append(done[0])
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
            code = x.tmpl.canonical()
            if code is None:
                push(x.tmpl.form)
            else:                       # its text, as stored: no form to read or walk
                nodes += 1
                push(_code(code))
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


def _list_text(items: list[Any], tail: None, depth: int) -> tuple[str, int] | None:
    """The text of a proper list of `items` and the nodes `_capped` counts for it, if it is
    made of symbols, strings, small ints, booleans, () and such lists up to `_DEPTH` deep;
    else None (the walk then takes it a piece at a time)."""
    sym_text = _SYMBOL_TEXT
    texts = []
    nodes = 4 * len(items) + 1          # each pair, its two pieces of text, its element; the ()
    for x in items:
        t = type(x)
        if t is Symbol:
            text = sym_text.get(x.name)
            texts.append(text if text is not None else _symbol(x.name))
        elif t is Pair:
            if depth >= _DEPTH:
                return None
            inner = []
            while type(x) is Pair:
                inner.append(x.car)
                x = x.cdr
                if len(inner) > CAP:
                    return None
            if x is not None:
                return None
            done = _list_text(inner, None, depth + 1)
            if done is None:
                return None
            texts.append(done[0])
            nodes += done[1] - 1
        elif t is int and -_SMALL < x < _SMALL:
            texts.append(str(x) + " ")
        elif t is str or t is bool or x is None:
            texts.append(_ATOMS[t](x, False) + " ")
        else:
            return None
        if nodes > CAP:
            return None
    k = len(items)
    closing = _CLOSERS[k].s if k < len(_CLOSERS) else ")" * k
    return "(" + " . (".join(texts) + " . () " + closing, nodes


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


def _code(text: str) -> "_Text":
    """A plain lambda's canonical text, as it stands in a fingerprint (see Template.canonical)."""
    return _Text(f"#code {len(text)} {text} ")


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
            code = x.tmpl.canonical()
            stack.append(x.tmpl.form if code is None else _code(code))
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
_DEPTH = 12                             # lists nested deeper are walked a piece at a time
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
