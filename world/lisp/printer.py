"""The printer: the reader's inverse, giving one canonical text per value.

It walks values with an explicit stack of pending work, so long lists and
deep nesting (maps as keys of maps included) never touch Python's recursion
limit, and it keeps the boxes and records on the current path so a cycle
through one prints as `#<cycle>`. Every node visited is charged to the
running budget, and a `limit` bounds the text (and so the work) of one call.
"""
from __future__ import annotations

from fractions import Fraction
import re
from typing import Any, Callable

from . import budget
from .cost import charge_to_decimal
from .reader import DELIMS, parse_atom
from .types import (Box, Char, Closure, Continuation, Eof, ErrorObject, Keyword,
                    LispMap, Pair, Primitive, Procedure, Record, RecordType,
                    Symbol, Void)

__all__ = ["write", "display", "TRUNCATED"]


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
    if len(s) > 4096:
        budget.charge(len(s) >> 6)
    if s.isprintable() and '"' not in s and "\\" not in s:
        return f'"{s}"'
    return f'"{_escape(s, _STRING_ESCAPES)}"'


def _raw(s: str) -> str:
    """`s` as displayed: itself, charged when long."""
    if len(s) > 4096:
        budget.charge(len(s) >> 6)
    return s


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


def _int(x: int, disp: bool = False) -> str:
    try:
        text = str(x)
    except ValueError:              # over Python's 4300-digit limit: charged before the work
        charge_to_decimal(x.bit_length())
        return "-" + _digits(-x, 0) if x < 0 else _digits(x, 0)
    if len(text) > 300:
        charge_to_decimal(x.bit_length())       # decimal conversion is quadratic
    return text


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


def _bytevector(b: bytes) -> str:
    """`#u8(1 2 3)`, charged when long."""
    if len(b) > 1024:
        budget.charge(len(b) >> 4)
    return "#u8(" + " ".join(map(str, b)) + ")"


def _procedure_name(kind: str, name: Any) -> str:
    return f"#<{kind} {name}>" if name else f"#<{kind}>"


# Writers for values with no parts, by exact type; each takes (value, display).
_ATOMS: dict[type, Callable[[Any, bool], str]] = {
    bool: lambda x, d: "#t" if x else "#f",
    int: _int,
    float: lambda x, d: _float(x),
    Fraction: lambda x, d: _fraction(x),
    str: lambda x, d: _raw(x) if d else write_string(x),
    Symbol: lambda x, d: x.name if d else write_symbol(x.name),
    Keyword: lambda x, d: ":" + x.name if d else write_keyword(x.name),
    Char: lambda x, d: x.c if d else _char(x.c),
    bytes: lambda x, d: _bytevector(x),
    type(None): lambda x, d: "()",
    Void: lambda x, d: "#<void>",
    Eof: lambda x, d: "#<eof>",
    Closure: lambda x, d: _procedure_name("procedure", x.name),
    Primitive: lambda x, d: _procedure_name("primitive", x.name),
    Continuation: lambda x, d: "#<continuation>",
    RecordType: lambda x, d: f"#<record-type {x.name}>",
}


# ---------------------------------------------------------------- walking

_VALUE, _TEXT, _REST, _ITEMS, _LEAVE, _BEGIN, _END, _MAP, _MORE = range(9)
_CHECK = 256            # pending items taken between looks at the output's size and charges
_RUN = 64               # list or vector elements printed per pending item
_RUNS = range(_RUN)
TRUNCATED = "..."       # what a write cut short by its `limit` ends with


class _Cut(Exception):
    """The text reached the writer's limit."""


class _Walk:
    """The running account of one walk: nodes visited, characters made, the limit."""

    __slots__ = ("limit", "chars", "pieces", "charged")

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.chars = 0
        self.pieces = 0
        self.charged = 0

    def account(self, nodes: int, pieces: list[str], mark: int) -> int:
        """Count the pieces made since `mark`, charge for the work (a step per item
        taken and per two pieces made; long atoms charge for themselves), stop at the limit."""
        if mark < len(pieces):
            self.pieces += len(pieces) - mark
            if self.limit is not None:
                self.chars += sum(map(len, pieces[mark:]))
                if self.chars > self.limit:
                    raise _Cut()
        steps = nodes + (self.pieces >> 1) - self.charged
        self.charged += steps
        budget.charge(steps)
        return len(pieces)


def _walk(v: Any, disp: bool, acct: _Walk, base: list[str]) -> None:
    """Append the text of `v` to `base`, one node at a time, charging per node visited.

    Map keys are written into a buffer of their own first (the entries are
    printed sorted by their keys' written form); `_BEGIN`/`_END` open and
    close such a buffer, so even maps nested as keys never recurse.
    """
    out = base
    emit = out.append
    saved: list[tuple[list[str], bool, int]] = []       # buffers and modes of open captures
    active: set[int] = set()        # ids of the boxes and records on the current path
    stack: list[tuple[int, Any]] = [(_VALUE, v)]
    push, pop = stack.append, stack.pop
    atoms = _ATOMS
    nodes, check, mark = 0, _CHECK, 0
    while stack:
        op, x = pop()
        nodes += 1
        if nodes > check:
            mark = acct.account(nodes, out, mark)
            check = nodes + _CHECK
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
                _map(x, disp, push)
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
        elif op == _MORE:
            p = x
        elif op == _ITEMS:
            seq, i, close, labels = x
            n = len(seq)
            stop = i + _RUN
            if stop > n:
                stop = n
            while i < stop:
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
                if i < n:
                    push((_ITEMS, (seq, i, close, labels)))
                else:
                    emit(close)
            continue
        elif op == _BEGIN:          # write the next value into a buffer of its own
            mark = acct.account(nodes, out, mark)
            saved.append((out, disp, mark))
            out, disp, mark = [], x, 0
            emit = out.append
            continue
        elif op == _END:            # hand the buffer's text to the map being printed
            mark = acct.account(nodes, out, mark)
            x.append("".join(out))
            out, disp, mark = saved.pop()
            emit = out.append
            continue
        elif op == _MAP:
            _entries(x, disp, emit, push)
            continue
        else:
            active.discard(x)
            continue
        # Print the elements of list `p` until one that has parts of its own
        # (a run at most, so the walk looks at its size often enough).
        for _ in _RUNS:
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
        else:
            push((_MORE, p))
    acct.account(nodes, out, mark)


def _abbreviation(x: Pair) -> str | None:
    """`'` for `(quote v)` and so on, or None when `x` is not such a list."""
    head, rest = x.car, x.cdr
    if type(head) is not Symbol or type(rest) is not Pair or rest.cdr is not None:
        return None
    prefix = _ABBREVIATIONS.get(head)
    if prefix == "," and type(rest.car) is Symbol and rest.car.name.startswith("@"):
        return None             # `,@x` would read back as unquote-splicing
    return prefix


def _map(m: LispMap, disp: bool, push: Callable) -> None:
    """Schedule the written (and, to display, the displayed) text of each key of `m`,
    then the map itself, whose entries are printed sorted by the written keys."""
    entries = m.items()
    atoms = _ATOMS
    if all(type(k) in atoms for k, _ in entries):       # the usual map: no captures needed
        written = [atoms[type(k)](k, False) for k, _ in entries]
        shown = [atoms[type(k)](k, True) for k, _ in entries] if disp else written
        push((_MAP, (entries, written, shown)))
        return
    written, shown = [], []
    push((_MAP, (entries, written, shown)))
    for k, _ in reversed(entries):
        if disp:
            push((_END, shown))
            push((_VALUE, k))
            push((_BEGIN, True))
        push((_END, written))
        push((_VALUE, k))
        push((_BEGIN, False))


def _entries(state: tuple, disp: bool, emit: Callable, push: Callable) -> None:
    """Print `{` and schedule the entries, sorted by the written form of their keys."""
    entries, written, shown = state
    order = sorted(range(len(entries)), key=written.__getitem__)
    keys = shown if disp else written
    emit("{")
    push((_ITEMS, (tuple(entries[i][1] for i in order), 0, "}",
                   tuple(keys[i] + " " for i in order))))


def _record(r: Record, emit: Callable, push: Callable) -> None:
    """Print `#<NAME` and schedule ` field=value ...>`."""
    fields, values = r.rtype.fields, r.values
    emit(f"#<{r.rtype.name}")
    if fields:
        emit(" ")
    push((_ITEMS, (values[:len(fields)], 0, ">", tuple(f"{f}=" for f in fields))))


# ---------------------------------------------------------------- API

def _text(v: Any, disp: bool, limit: int | None) -> str:
    out: list[str] = []
    try:
        _walk(v, disp, _Walk(limit), out)
    except _Cut:
        return "".join(out)[:limit] + TRUNCATED
    text = "".join(out)
    if limit is not None and len(text) > limit:
        return text[:limit] + TRUNCATED
    return text


def write(v: Any, limit: int | None = None) -> str:
    """The canonical text of `v`; `read(write(v))` is equal to `v` when readable.

    Printing charges the running budget a step per node visited (shared
    structure is printed, and charged, once per path). With a `limit`, the
    walk stops soon after `limit` characters and the text is cut there and
    ends with `...`, whatever the size of `v`.
    """
    return _text(v, False, limit)


def display(v: Any, limit: int | None = None) -> str:
    """The text of `v` for people: strings and characters appear raw (see `write`)."""
    return _text(v, True, limit)
