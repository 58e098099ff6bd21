"""The printer: the reader's inverse, giving one canonical text per value.

It walks values with an explicit stack of pending work, so long lists and
deep nesting never touch Python's recursion limit, and it keeps the boxes and
records on the current path so a cycle through one prints as `#<cycle>`.
"""
from __future__ import annotations

from fractions import Fraction
import re
from typing import Any, Callable

from .reader import DELIMS, parse_atom
from .types import (Box, Char, Closure, Continuation, ErrorObject, Keyword,
                    LispMap, Pair, Primitive, Procedure, Record, RecordType,
                    Symbol, Void)

__all__ = ["write", "display"]


# ---------------------------------------------------------------- atoms

_PLAIN = re.compile(rf"[^{DELIMS}#:][^{DELIMS}]*")
_PLAIN_KEYWORD = re.compile(rf"[^{DELIMS}]+")
_STRING_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
_BAR_ESCAPES = {"|": "\\|", "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
_CHAR_NAMES = {" ": "space", "\n": "newline", "\t": "tab", "\0": "nul", "\r": "return"}
_ABBREVIATIONS = {Symbol("quote"): "'", Symbol("quasiquote"): "`",
                  Symbol("unquote"): ",", Symbol("unquote-splicing"): ",@"}
_symbol_text: dict[str, str] = {}    # name -> written form; symbols are interned anyway


def _escape(s: str, escapes: dict[str, str]) -> str:
    """`s` with backslash escapes for the quote character and non-printables."""
    return "".join(escapes.get(c) or (c if c.isprintable() else f"\\x{ord(c):02x};")
                   for c in s)


def write_string(s: str) -> str:
    """A string literal that reads back as `s`."""
    if s.isprintable() and '"' not in s and "\\" not in s:
        return f'"{s}"'
    return f'"{_escape(s, _STRING_ESCAPES)}"'


def _reads_as_symbol(name: str) -> bool:
    try:
        return parse_atom(name) is Symbol(name)
    except ValueError:
        return False


def write_symbol(name: str) -> str:
    """The text of the symbol called `name`, `|quoted|` when it must be."""
    text = _symbol_text.get(name)
    if text is None:
        if (name != "." and _PLAIN.fullmatch(name) and name.isprintable()
                and _reads_as_symbol(name)):
            text = name
        else:
            text = f"|{_escape(name, _BAR_ESCAPES)}|"
        _symbol_text[name] = text
    return text


def write_keyword(name: str) -> str:
    """The text of the keyword called `name`."""
    if _PLAIN_KEYWORD.fullmatch(name) and name.isprintable():
        return ":" + name
    return f":|{_escape(name, _BAR_ESCAPES)}|"


def _int(x: int) -> str:
    try:
        return str(x)
    except ValueError:      # over Python's 4300-digit limit
        return "-" + _digits(-x, 0) if x < 0 else _digits(x, 0)


def _digits(n: int, width: int) -> str:
    """Decimal digits of n >= 0, zero-padded to `width`, in pieces str() accepts."""
    if n.bit_length() < 12_000:
        return str(n).zfill(width)
    k = int(n.bit_length() * 0.30103) // 2
    hi, lo = divmod(n, 10 ** k)
    return _digits(hi, max(width - k, 0)) + _digits(lo, k)


def _float(x: float) -> str:
    if x != x:
        return "+nan.0"
    if x in (float("inf"), float("-inf")):
        return "+inf.0" if x > 0 else "-inf.0"
    return repr(x)


def _fraction(x: Fraction) -> str:
    if x.denominator == 1:
        return _int(x.numerator)
    return f"{_int(x.numerator)}/{_int(x.denominator)}"


def _char(c: str) -> str:
    name = _CHAR_NAMES.get(c)
    if name is not None:
        return "#\\" + name
    return "#\\" + c if c.isprintable() else f"#\\x{ord(c):02x}"


def _procedure_name(kind: str, name: Any) -> str:
    return f"#<{kind} {name}>" if name else f"#<{kind}>"


# Writers for values with no parts, by exact type; each takes (value, display).
_ATOMS: dict[type, Callable[[Any, bool], str]] = {
    bool: lambda x, d: "#t" if x else "#f",
    int: lambda x, d: _int(x),
    float: lambda x, d: _float(x),
    Fraction: lambda x, d: _fraction(x),
    str: lambda x, d: x if d else write_string(x),
    Symbol: lambda x, d: x.name if d else write_symbol(x.name),
    Keyword: lambda x, d: ":" + x.name if d else write_keyword(x.name),
    Char: lambda x, d: x.c if d else _char(x.c),
    type(None): lambda x, d: "()",
    Void: lambda x, d: "#<void>",
    Closure: lambda x, d: _procedure_name("procedure", x.name),
    Primitive: lambda x, d: _procedure_name("primitive", x.name),
    Continuation: lambda x, d: "#<continuation>",
    RecordType: lambda x, d: f"#<record-type {x.name}>",
}


# ---------------------------------------------------------------- walking

_VALUE, _TEXT, _REST, _ITEMS, _LEAVE = range(5)


def _walk(v: Any, disp: bool, active: set[int]) -> str:
    """The text of `v`; `active` holds ids of the boxes and records being printed."""
    out: list[str] = []
    emit = out.append
    stack: list[tuple[int, Any]] = [(_VALUE, v)]
    push, pop = stack.append, stack.pop
    atoms = _ATOMS
    while stack:
        op, x = pop()
        p = None                    # set to a list whose elements to print next
        if op == _VALUE:
            f = atoms.get(type(x))
            if f is not None:
                emit(f(x, disp))
                continue
            t = type(x)
            if t is Pair:
                prefix = _abbreviation(x)
                if prefix is not None:
                    emit(prefix)
                    push((_VALUE, x.cdr.car))
                    continue
                emit("(")
                p = x
            elif t is tuple:
                emit("[")
                push((_ITEMS, (x, 0, "]", None)))
            elif t is LispMap:
                _map(x, disp, active, emit, push)
            elif t is Box or t is Record:
                if id(x) in active:
                    emit("#<cycle>")
                    continue
                active.add(id(x))
                push((_LEAVE, id(x)))
                if t is Box:
                    emit("#<box ")
                    push((_TEXT, ">"))
                    push((_VALUE, x.v))
                else:
                    _record(x, emit, push)
            elif t is ErrorObject:
                emit(f"#<error {write_string(str(x.message))}")
                irritants = tuple(x.irritants) if type(x.irritants) is Pair else ()
                if irritants:
                    emit(" ")
                push((_ITEMS, (irritants, 0, ">", None)))
            elif isinstance(x, Procedure):
                emit("#<procedure>")
            else:
                emit(f"#<{t.__name__}>")
            if p is None:
                continue
        elif op == _REST:
            if type(x) is Pair:
                emit(" ")
                p = x
            elif x is None:
                emit(")")
                continue
            else:
                emit(" . ")
                push((_TEXT, ")"))
                push((_VALUE, x))
                continue
        elif op == _TEXT:
            emit(x)
            continue
        elif op == _ITEMS:
            seq, i, close, labels = x
            n = len(seq)
            while i < n:
                if i:
                    emit(" ")
                if labels is not None:
                    emit(labels[i])
                e = seq[i]
                i += 1
                f = atoms.get(type(e))
                if f is None:
                    push((_ITEMS, (seq, i, close, labels)))
                    push((_VALUE, e))
                    break
                emit(f(e, disp))
            else:
                emit(close)
            continue
        else:
            active.discard(x)
            continue
        # Print the elements of list `p` until one that has parts of its own.
        while True:
            e = p.car
            f = atoms.get(type(e))
            if f is None:
                push((_REST, p.cdr))
                push((_VALUE, e))
                break
            emit(f(e, disp))
            p = p.cdr
            if type(p) is Pair:
                emit(" ")
                continue
            if p is None:
                emit(")")
            else:
                emit(" . ")
                push((_TEXT, ")"))
                push((_VALUE, p))
            break
    return "".join(out)


def _abbreviation(x: Pair) -> str | None:
    """`'` for `(quote v)` and so on, or None when `x` is not such a list."""
    head, rest = x.car, x.cdr
    if type(head) is not Symbol or type(rest) is not Pair or rest.cdr is not None:
        return None
    prefix = _ABBREVIATIONS.get(head)
    if prefix == "," and type(rest.car) is Symbol and rest.car.name.startswith("@"):
        return None             # `,@x` would read back as unquote-splicing
    return prefix


def _map(m: LispMap, disp: bool, active: set[int], emit: Callable, push: Callable) -> None:
    """Print `{` and schedule the entries of `m`, sorted by the written keys."""
    entries = sorted(((_walk(k, False, active), k, v) for k, v in m.items()),
                     key=lambda e: e[0])
    if disp:
        labels = tuple(_walk(k, True, active) + " " for _, k, _ in entries)
    else:
        labels = tuple(text + " " for text, _, _ in entries)
    emit("{")
    push((_ITEMS, (tuple(v for _, _, v in entries), 0, "}", labels)))


def _record(r: Record, emit: Callable, push: Callable) -> None:
    """Print `#<NAME` and schedule ` field=value ...>`."""
    fields, values = r.rtype.fields, r.values
    emit(f"#<{r.rtype.name}")
    if fields:
        emit(" ")
    push((_ITEMS, (values[:len(fields)], 0, ">", tuple(f"{f}=" for f in fields))))


# ---------------------------------------------------------------- API

def write(v: Any) -> str:
    """The canonical text of `v`; `read(write(v))` is equal to `v` when readable."""
    return _walk(v, False, set())


def display(v: Any) -> str:
    """The text of `v` for people: strings and characters appear raw."""
    return _walk(v, True, set())
