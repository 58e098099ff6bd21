"""The pretty-printer: a value's canonical text laid out over lines of a given width.

`pretty(v, width)` is `write(v)` with line breaks and indentation added where
the text would not fit, so reading the result back gives the same value. A
list or vector of small items is filled line by line; one with large items
has one item per line, aligned under the first; a map has one entry per line;
a list headed by a symbol reads as code (`(define (f x)` then the body
indented by two). Atoms, records, boxes and procedures are written as
`write` writes them and never broken. A value too large or too deep to lay
out cheaply is written on one line, as `write` writes it.
"""
from __future__ import annotations

from typing import Any

from .printer import _abbreviation, write
from .types import LispMap, Pair, Symbol

__all__ = ["pretty", "MAX_NODES"]

MAX_NODES = 50_000      # parts laid out at most; beyond, the value is written on one line
MAX_DEPTH = 120         # nesting laid out at most (the layout recurses, 3 frames a level)
SMALL = 16              # items this wide or narrower are filled, several to a line
BODY = {"define": 1, "defmacro": 1, "lambda": 1, "let": 1, "let*": 1, "letrec": 1,
        "letrec*": 1, "when": 1, "unless": 1, "do": 1, "define-record": 1, "defrule": 1,
        "define-syntax": 1, "syntax-rules": 1, "guard": 1, "parameterize": 1,
        "let-values": 1, "let*-values": 1, "case": 1, "begin": 0, "cond": 0}


class _TooBig(Exception):
    """The value has more parts than the layout takes on."""


class _Group:
    """A bracketed part: its opener, items (text or groups), closer, flat width, kind."""

    __slots__ = ("open", "items", "close", "width", "kind")

    def __init__(self, open: str, items: list, close: str, kind: str) -> None:
        self.open, self.items, self.close, self.kind = open, items, close, kind
        inner = sum(_width(x) for x in items) + max(0, len(items) - 1)
        self.width = len(open) + inner + len(close)


def _width(x: Any) -> int:
    return len(x) if type(x) is str else x.width


class _Builder:
    """Turns a value into groups and atoms, counting parts against `MAX_NODES`."""

    def __init__(self) -> None:
        self.nodes = 0

    def node(self, v: Any, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            raise _TooBig()
        t = type(v)
        if t is Pair:
            prefix = _abbreviation(v)
            if prefix is not None:
                return _Group(prefix, [self.node(v.cdr.car, depth + 1)], "", "prefix")
            items, x = [], v
            while type(x) is Pair:
                items.append(self.node(x.car, depth + 1))
                x = x.cdr
                self.nodes += 1
                if self.nodes > MAX_NODES:
                    raise _TooBig()
            if x is not None:
                items += [".", self.node(x, depth + 1)]
            head = v.car
            kind = "code" if type(head) is Symbol else "list"
            return _Group("(", items, ")", kind)
        if t is tuple:
            if len(v) + self.nodes > MAX_NODES:
                raise _TooBig()
            return _Group("[", [self.node(x, depth + 1) for x in v], "]", "list")
        if t is LispMap:
            if 2 * len(v) + self.nodes > MAX_NODES:
                raise _TooBig()
            entries = sorted((write(k), k, x) for k, x in _items(v))
            items: list[Any] = []
            for text, k, x in entries:
                items += [self.node(k, depth + 1) if type(k) in (Pair, tuple, LispMap) else text,
                          self.node(x, depth + 1)]
            return _Group("{", items, "}", "map")
        return write(v)


def _items(m: LispMap) -> list[tuple[Any, Any]]:
    return list(m.items())


def pretty(v: Any, width: int = 80, indent: int = 0, written: str | None = None) -> str:
    """`write(v)` broken over lines at most `width` wide where it can be; `indent` is the
    column the text starts at (later lines are not indented by it). `written`, if given,
    is `write(v)` already made: what a value too large to lay out comes back as."""
    out: list[str] = []
    try:
        _Layout(max(width, 20), out).emit(_Builder().node(v, 0), indent)
    except (_TooBig, RecursionError):
        return write(v) if written is None else written
    return "".join(out)


class _Layout:
    """Emits groups flat where they fit and broken where they do not."""

    def __init__(self, width: int, out: list[str]) -> None:
        self.width, self.out = width, out

    def flat(self, x: Any) -> None:
        if type(x) is str:
            self.out.append(x)
            return
        self.out.append(x.open)
        for i, item in enumerate(x.items):
            if i:
                self.out.append(" ")
            self.flat(item)
        self.out.append(x.close)

    def newline(self, col: int) -> None:
        self.out.append("\n" + " " * col)

    def emit(self, x: Any, col: int) -> int:
        """Write `x` starting at column `col`; return the column after it."""
        if type(x) is str or x.width <= self.width - col:
            self.flat(x)
            return col + _width(x)
        self.out.append(x.open)
        start = col + len(x.open)
        items = x.items
        if x.kind == "prefix":
            return self.emit(items[0], start)
        small = all(_width(i) <= SMALL for i in items)
        if x.kind == "map":
            col = self.pairs(items, start)
        elif x.kind == "code" and len(items) > 1 and (items[0] in BODY or not small):
            col = self.code(items, start)
        elif small:
            col = self.fill(items, start)
        else:
            col = self.column(items, start)
        self.out.append(x.close)
        return col + len(x.close)

    def pairs(self, items: list, start: int) -> int:
        col = start
        for i in range(0, len(items), 2):
            if i:
                self.newline(start)
                col = start
            col = self.emit(items[i], col)
            if i + 1 < len(items):
                self.out.append(" ")
                col = self.emit(items[i + 1], col + 1)
        return col

    def fill(self, items: list, start: int) -> int:
        col = start
        for i, item in enumerate(items):
            w = _width(item)
            if i and col + 1 + w > self.width:
                self.newline(start)
                col = start
            elif i:
                self.out.append(" ")
                col += 1
            col = self.emit(item, col)
        return col

    def column(self, items: list, start: int) -> int:
        col = start
        for i, item in enumerate(items):
            if i and not (items[i - 1] == "." and type(items[i - 1]) is str):
                self.newline(start)
                col = start
            elif i:
                self.out.append(" ")
                col += 1
            col = self.emit(item, col)
        return col

    def code(self, items: list, start: int) -> int:
        """`(head a b` with the rest under `a`; a body form's body indented by two."""
        head = items[0]
        self.out.append(head)
        after = start + len(head)
        body = BODY.get(head)
        if body is None:            # an application: arguments aligned under the first
            if after + 1 + _width(items[1]) <= self.width or _width(items[1]) > SMALL:
                self.out.append(" ")
                return self.column(items[1:], after + 1)
            self.newline(start)
            return self.column(items[1:], start)
        col = after
        for item in items[1:1 + body]:
            self.out.append(" ")
            col = self.emit(item, col + 1)
        for item in items[1 + body:]:
            self.newline(start + 1)
            col = self.emit(item, start + 1)
        return col

