"""The reader: a regex tokenizer feeding an explicit stack of open forms, so depth is bounded by `read_depth`, not recursion."""
from __future__ import annotations

import re
from bisect import bisect_left
from fractions import Fraction
from typing import Any

from . import budget
from .cost import charge_from_decimal
from .errors import BudgetExceeded, IncompleteInput, ReadError
from .types import Char, Keyword, LispMap, Pair, Symbol, map_key

__all__ = ["read", "read_all", "read_spans", "is_complete", "parse_atom"]


# ---------------------------------------------------------------- tokens

# Characters that end an atom. `'`, backquote and `,` are included so that
# `a'b` reads as two forms; the printer quotes any symbol containing one.
DELIMS = r"""\s()\[\]{}";'`,|"""

_TOKEN = re.compile(rf"""
    \s*(?:;[^\n]*\s*)*                          # whitespace and ; comments
    (?:
      (?P<atom>(?!:\|)[^{DELIMS}\#][^{DELIMS}]*)  # 1 number, symbol, keyword, .
    | (?P<open>[(\[{{])                         # 2
    | (?P<close>[)\]}}])                        # 3
    | (?P<string>"[^"\\]*(?:\\.[^"\\]*)*")      # 4
    | (?P<quote>,@|['`,])                       # 5
    | (?P<char>\#\\.[^{DELIMS}]*)               # 6
    | (?P<block>\#\|)                           # 7
    | (?P<dcomment>\#;)                         # 8
    | (?P<hash>\#[^{DELIMS}]*)                  # 9
    | (?P<bar>:?\|[^|\\]*(?:\\.[^|\\]*)*\|)     # 10 |symbol| or :|keyword|
    | (?P<unclosed>:?["|])                      # 11 string or |symbol| never closed
    | (?P<eof>\Z)                               # 12
    )""", re.X | re.S)

ATOM, OPEN, CLOSE, STRING, QUOTE, CHAR, BLOCK, DCOMMENT, HASH, BAR, UNCLOSED, EOF = range(1, 13)

_BLOCK = re.compile(r"#\||\|#")
_NEWLINE = re.compile("\n")
_SURROGATE = re.compile("[\ud800-\udfff]")
_NUMBER = re.compile(r"""
      (?P<int>[+-]?[0-9]+)
    | (?P<num>[+-]?[0-9]+)/(?P<den>[0-9]+)
    | (?P<float>[+-]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+(?=[eE]))(?:[eE][+-]?[0-9]+)?)
    | (?P<special>[+-](?:inf|nan)\.0)""", re.X)
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]+;|[ \t]*\n[ \t]*|.?)", re.S)

QUOTES = {"'": Symbol("quote"), "`": Symbol("quasiquote"),
          ",": Symbol("unquote"), ",@": Symbol("unquote-splicing")}
CLOSERS = {"(": ")", "[": "]", "{": "}", "#(": ")", "#u8(": ")"}
_PREFIXES = set("eixbod")       # number prefixes: #e #i exactness, #x #b #o #d radix
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "0": "\0",
           "\\": "\\", '"': '"', "|": "|"}
CHAR_NAMES = {"space": " ", "newline": "\n", "tab": "\t", "nul": "\0", "null": "\0",
              "return": "\r", "linefeed": "\n", "alarm": "\a", "backspace": "\b",
              "delete": "\x7f", "escape": "\x1b"}
BOOLEANS = {"#t": True, "#f": False, "#true": True, "#false": False}
_SPECIAL_FLOATS = {"+inf.0": float("inf"), "-inf.0": float("-inf"),
                   "+nan.0": float("nan"), "-nan.0": float("nan")}
_symbols = Symbol.table
_LABEL = re.compile(r"#([0-9]+)([=#])")
MAX_LABEL_DIGITS = 9        # a label is a small number; a longer one is a typo or an attack


# ---------------------------------------------------------------- metering

_CHECK = 256            # tokens read between charges to the running budget


def charge_read(tokens: int, chars: int) -> None:
    """Charge the running evaluation for reading: a step per token and per 64
    characters, and the memory of the forms made (accounted as cons cells)."""
    if budget.running() is not None:
        budget.charge(tokens + (chars >> 6))
        budget.alloc(tokens * budget.PAIR_BYTES + chars)


# ---------------------------------------------------------------- atoms

def parse_int(digits: str) -> int:
    """`int(digits)` for any length (Python refuses over 4300 digits), charged:
    decimal conversion is quadratic."""
    if len(digits) < 300:
        return int(digits)
    charge_from_decimal(len(digits))
    return _parse_int(digits)


def _parse_int(digits: str) -> int:
    if len(digits) < 4000:
        return int(digits)
    bits = budget.limits().int_bits
    if (len(digits) - 1) * 3.32 > bits:     # log2(10) > 3.32: surely over the limit
        raise ValueError(f"integer literal of {len(digits)} digits is larger than the "
                         f"{bits}-bit integer limit")
    k = len(digits) // 2
    hi, lo = _parse_int(digits[:-k]), _parse_int(digits[-k:])
    return hi * 10 ** k + (-lo if digits[0] == "-" else lo)


def parse_atom(tok: str) -> Any:
    """The value of an atom token: a number, keyword or symbol (ValueError for `1/0`)."""
    c = tok[0]
    if c in "0123456789+-.":
        m = _NUMBER.fullmatch(tok)
        if m is not None:
            kind = m.lastgroup
            if kind == "int":
                return parse_int(tok)
            if kind == "float":
                return float(tok)
            if kind == "special":
                return _SPECIAL_FLOATS[tok]
            num, den = parse_int(m.group("num")), parse_int(m.group("den"))
            if den == 0:
                raise ValueError(f"division by zero in {tok}")
            q = Fraction(num, den)
            return q.numerator if q.denominator == 1 else q
    elif c == ":" and len(tok) > 1:
        return Keyword(tok[1:])
    return _symbols.get(tok) or Symbol(tok)


# ---------------------------------------------------------------- reader

class Reader:
    """Reads forms one at a time from `text`, remembering where it stopped."""

    def __init__(self, text: str, source: str | None = None,
                 max_depth: int | None = None) -> None:
        self.text = text
        self.source = source
        self.max_depth = budget.limits().read_depth if max_depth is None else max_depth
        self.pos = 0
        self.fold = False       # after #!fold-case: identifiers and character names fold case
        self.nls: list[int] | None = None
        bad = _SURROGATE.search(text)       # text decoded with surrogateescape, or a forged string
        if bad is not None:
            raise self.error("a lone surrogate is not a character: the text is not valid Unicode",
                             bad.start())

    def loc(self, pos: int) -> tuple[int, int]:
        """The 1-based (line, column) of offset `pos`."""
        nls = self.nls
        if nls is None:
            nls = self.nls = [-1] + [m.start() for m in _NEWLINE.finditer(self.text)]
        line = bisect_left(nls, pos)
        return (line, pos - nls[line - 1])

    def error(self, message: str, pos: int, cls: type = ReadError) -> ReadError:
        line, col = self.loc(pos)
        return cls(message, line, col, self.source)

    def next(self) -> tuple[Any, int, int] | None:
        """The next form with its start and end offsets, or None at the end."""
        text, match, max_depth = self.text, _TOKEN.match, self.max_depth
        # open forms: [kind, start, items/symbol, tail, state, item starts]
        stack: list[list] = []
        labels: dict[int, Any] = {}      # datum labels #n= of this form, by number
        pos = self.pos
        tokens, charged_at = 0, pos
        while True:
            tokens += 1
            if tokens > _CHECK:         # charge the running budget as reading goes, so a
                charge_read(tokens, pos - charged_at)     # huge text is refused early
                tokens, charged_at = 0, pos
            m = match(text, pos)
            k = m.lastindex
            start, pos = m.span(k)
            if k == ATOM:
                tok = m.group(k)
                if self.fold:
                    tok = tok.casefold()
                if tok.isdigit() and len(tok) < 300 and tok.isascii():
                    value = int(tok)
                elif tok == ".":
                    self.dot(stack, start)
                    continue
                else:
                    try:
                        value = parse_atom(tok)
                    except ValueError as e:
                        raise self.error(str(e), start) from None
            elif k == OPEN:
                if len(stack) >= max_depth:
                    raise self.error(f"nesting deeper than {max_depth}", start)
                stack.append([m.group(k), start, [], None, 0, []])
                continue
            elif k == CLOSE:
                value, start = self.close(stack, m.group(k), start)
            elif k == STRING:
                value = self.string(m.group(k), start)
            elif k == QUOTE or k == DCOMMENT:
                if len(stack) >= max_depth:
                    raise self.error(f"nesting deeper than {max_depth}", start)
                tok = m.group(k)
                stack.append([tok, start, QUOTES.get(tok), None, 0, None])
                continue
            elif k == CHAR:
                tok = m.group(k)
                value = self.char(tok if not self.fold or len(tok) == 3 else tok.casefold(), start)
            elif k == BLOCK:
                pos = self.skip_block(start)
                continue
            elif k == HASH:
                tok = m.group(k)
                if tok in BOOLEANS:
                    value = BOOLEANS[tok]
                elif tok == "#!fold-case" or tok == "#!no-fold-case":
                    self.fold = tok == "#!fold-case"
                    continue
                elif (lm := _LABEL.match(tok)) is not None:
                    n = self.label_number(lm.group(1), start)
                    if lm.group(2) == "#":
                        if lm.end() != len(tok):
                            raise self.error(f"bad # syntax: {tok}", start)
                        value = self.label_ref(n, labels, stack, start)
                    else:
                        if len(stack) >= max_depth:
                            raise self.error(f"nesting deeper than {max_depth}", start)
                        stack.append(["#=", start, n, None, 0, None])
                        pos = start + lm.end()      # the labelled datum may touch the label: #0=a
                        continue
                elif tok == "#\\":
                    raise self.error("end of input in character", start, IncompleteInput)
                elif (tok == "#" or tok.lower() == "#u8") and text.startswith("(", pos):
                    # R7RS `#(...)` is the same vector as `[...]`; `#u8(...)` a bytevector
                    if len(stack) >= max_depth:
                        raise self.error(f"nesting deeper than {max_depth}", start)
                    stack.append([tok.lower() + "(", start, [], None, 0, []])
                    pos += 1
                    continue
                elif tok[1:2].lower() in _PREFIXES:
                    value = self.prefixed_number(tok, start)
                else:
                    raise self.error(f"bad # syntax: {tok}", start)
            elif k == BAR:
                tok = m.group(k)
                name = self.unescape(tok[tok.index("|") + 1:-1], start + tok.index("|") + 1)
                value = Keyword(name) if tok[0] == ":" else Symbol(name)
            elif k == UNCLOSED:
                what = "string" if m.group(k)[-1] == '"' else "|symbol|"
                raise self.error(f"unclosed {what}", start, IncompleteInput)
            else:
                self.pos = pos
                if stack:
                    kind, opened = stack[-1][0], stack[-1][1]
                    if kind == "#=":
                        kind = f"#{stack[-1][2]}="
                    what = f"unclosed {kind}" if kind in CLOSERS else f"nothing after {kind}"
                    raise self.error(what, opened, IncompleteInput)
                return None
            # A whole form is done: wrap it in pending quotes, drop it after
            # #;, or add it to the innermost open form.
            while stack:
                top = stack[-1]
                kind = top[0]
                if kind in CLOSERS:
                    if top[4] == 0:
                        top[2].append(value)
                        top[5].append(start)
                    elif top[4] == 1:
                        top[3] = value
                        top[4] = 2
                    else:
                        raise self.error("only one form may follow .", start)
                elif kind == "#;":
                    stack.pop()
                elif kind == "#=":
                    stack.pop()
                    labels[top[2]] = value
                    start = top[1]
                    continue
                else:
                    stack.pop()
                    start = top[1]
                    loc = self.loc(start)
                    value = Pair(top[2], Pair(value, None, loc), loc)
                    continue
                break
            else:
                self.pos = pos
                charge_read(tokens, pos - charged_at)
                return value, start, pos

    def dot(self, stack: list[list], pos: int) -> None:
        """Handle a `.` token: it must follow at least one item of a list."""
        if stack:
            top = stack[-1]
            if top[0] == "(" and top[4] == 0 and top[2]:
                top[4] = 1
                return
        raise self.error("unexpected .", pos)

    def close(self, stack: list[list], closer: str, pos: int) -> tuple[Any, int]:
        """Close the innermost open form; its value and start offset."""
        if not stack:
            raise self.error(f"unexpected {closer}", pos)
        kind, start, items, tail, state, starts = stack[-1]
        if kind not in CLOSERS:
            raise self.error(f"unexpected {closer} after {kind}", pos)
        if CLOSERS[kind] != closer:
            line, col = self.loc(start)
            raise self.error(f"{closer} does not match {kind} at {line}:{col}", pos)
        if state == 1:
            raise self.error(f"expected a form between . and {closer}", pos)
        stack.pop()
        if kind == "(":
            # The first cell is the list's own location; each later cell
            # carries its element's, so an atom in a list has a location too.
            value = tail
            for i in range(len(items) - 1, 0, -1):
                value = Pair(items[i], value, self.loc(starts[i]))
            if items:
                value = Pair(items[0], value, self.loc(start))
            return value, start
        if kind == "[" or kind == "#(":
            return tuple(items), start
        if kind == "#u8(":
            for item, at in zip(items, starts):
                if type(item) is not int or not 0 <= item <= 255:
                    raise self.error("a bytevector holds exact integers 0 to 255", at)
            return bytes(items), start
        if len(items) % 2:
            raise self.error("a map needs an even number of forms", start)
        m = LispMap(zip(items[::2], items[1::2]))
        if len(m) * 2 != len(items):
            # One text, one map: a later key silently replacing an earlier one would let two
            # readers of a signed message disagree about what it says.
            from .printer import write
            seen: set[Any] = set()
            for key, at in zip(items[::2], starts[::2]):
                k = map_key(key)
                if k in seen:
                    raise self.error(f"duplicate map key {write(key, 60)}", at)
                seen.add(k)
        return m, start

    def label_number(self, digits: str, pos: int) -> int:
        """The number of a datum label, refused when absurdly long."""
        if len(digits) > MAX_LABEL_DIGITS:
            raise self.error(f"datum label #{digits[:20]}... is too large "
                             f"(at most {MAX_LABEL_DIGITS} digits)", pos)
        return int(digits)

    def label_ref(self, n: int, labels: dict[int, Any], stack: list[list], pos: int) -> Any:
        """The datum labelled `#n=` earlier in this form; a reference from inside it is refused."""
        if n in labels:
            return labels[n]
        if any(e[0] == "#=" and e[2] == n for e in stack):
            raise self.error(f"#{n}# inside the datum #{n}= labels would make a circular value; "
                             "the world's values are acyclic", pos)
        raise self.error(f"datum label #{n}# is not defined before this reference", pos)

    def prefixed_number(self, tok: str, pos: int) -> Any:
        """The number written with R7RS prefixes, such as `#x1F`, `#e1.5`, `#i#b101`."""
        from .primitives.numtext import string_to_number
        try:
            value = string_to_number(tok)
        except BudgetExceeded as e:
            if e.budget != "integer":
                raise
            # a number over the size limit: refused where it is written, as a plain literal is
            raise self.error(f"integer literal {tok[:40]} is larger than the integer limit", pos) from None
        if value is False:
            raise self.error(f"bad number syntax: {tok[:40]}", pos)
        return value

    def string(self, tok: str, pos: int) -> str:
        body = tok[1:-1]
        return self.unescape(body, pos + 1) if "\\" in body else body

    def unescape(self, body: str, pos: int) -> str:
        """Replace backslash escapes in the text of a string or |symbol| at `pos`."""
        if "\\" not in body:
            return body
        parts, i = [], 0
        for m in _ESCAPE.finditer(body):
            parts.append(body[i:m.start()])
            i = m.end()
            e = m.group(1)
            if e in ESCAPES:
                parts.append(ESCAPES[e])
            elif e[:1] == "x" and len(e) > 2:
                n = int(e[1:-1], 16)
                if n > 0x10FFFF or 0xD800 <= n <= 0xDFFF:     # not a Unicode scalar value
                    raise self.error(f"bad escape \\{e}", pos + m.start())
                parts.append(chr(n))
            elif "\n" not in e:
                raise self.error(f"bad escape \\{e}", pos + m.start())
        parts.append(body[i:])
        return "".join(parts)

    def char(self, tok: str, pos: int) -> Char:
        name = tok[2:]
        if len(name) == 1:
            return Char(name)
        c = CHAR_NAMES.get(name)
        if c is not None:
            return Char(c)
        if name[0] in "xX" and all(d in "0123456789abcdefABCDEF" for d in name[1:]):
            n = int(name[1:], 16)
            if n <= 0x10FFFF and not 0xD800 <= n <= 0xDFFF:   # surrogates are not characters
                return Char(chr(n))
        raise self.error(f"bad character name {tok}", pos)

    def skip_block(self, start: int) -> int:
        """The offset after the (nestable) block comment opened at `start`."""
        depth = 1
        for m in _BLOCK.finditer(self.text, start + 2):
            depth += 1 if m.group() == "#|" else -1
            if depth == 0:
                return m.end()
        raise self.error("unclosed block comment", start, IncompleteInput)


# ---------------------------------------------------------------- API

def read(text: str, source: str | None = None, *, max_depth: int | None = None) -> Any:
    """The first form in `text`; IncompleteInput if there is none."""
    r = Reader(text, source, max_depth)
    got = r.next()
    if got is None:
        raise r.error("no form", len(text), IncompleteInput)
    return got[0]


def read_spans(text: str, source: str | None = None, *,
               max_depth: int | None = None) -> list[tuple[Any, int, int]]:
    """Every form in `text` with the start and end offsets of its text."""
    r = Reader(text, source, max_depth)
    out = []
    while (got := r.next()) is not None:
        out.append(got)
    return out


def read_all(text: str, source: str | None = None, *,
             max_depth: int | None = None) -> list[Any]:
    """Every form in `text`."""
    return [form for form, _, _ in read_spans(text, source, max_depth=max_depth)]


def is_complete(text: str, *, max_depth: int | None = None) -> bool:
    """True unless `text` ends inside a form, string or comment."""
    try:
        read_spans(text, max_depth=max_depth)
    except IncompleteInput:
        return False
    except ReadError:
        return True
    return True
