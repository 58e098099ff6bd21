"""Extracting s-expressions from a model's reply.

A model writes prose around its code, and prose has parentheses in it, so
prose is never evaluated. With fenced code blocks (```lisp, ```scheme, or no
language), only what is inside them is read: every parenthesised form of a
block, in order. A block tagged with another language (```text, ```python)
is prose. Without any fence, only forms on lines of their own are read: a
line that starts with a form and holds nothing after its forms but a
comment; a line such as `(the base case is n = 0) so we stop` is prose, and
so is inline `code`. `extract` takes at most `MAX_FORMS` forms and describes
what went wrong (an unbalanced or unreadable form, prose inside a code block,
forms dropped past the limit, no form at all) in notes, which are shown to the
model next turn; ordinary prose around the code earns no note.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..lisp.errors import LispError
from ..lisp.reader import read

MAX_FORMS = 5
FENCE = re.compile(r"^[ \t]*```[ \t]*([A-Za-z0-9_+.#-]*)[^\n]*\n(.*?)(?:^[ \t]*```[^\n]*$|\Z)", re.S | re.M)
LISP_TAGS = {"", "lisp", "scheme", "scm", "racket", "rkt", "clojure", "clj", "elisp", "emacs-lisp",
             "cl", "common-lisp", "commonlisp", "sexp", "s-expression", "world", "lsp"}
SHOW = 60           # characters of a skipped piece quoted in a note


@dataclass
class Extracted:
    """The forms taken from a reply (each with its text) and notes on the rest."""

    forms: list[tuple[Any, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def feedback(self) -> str:
        """What to tell the model about its reply, or '' when it was clean."""
        return " ".join(self.notes)


def _quote(text: str) -> str:
    one = " ".join(text.split())
    return repr(one if len(one) <= SHOW else one[:SHOW - 3] + "...")


def _skip_string(text: str, i: int) -> int:
    """Index just past the string literal starting at text[i] == '"' (or len on no end)."""
    i += 1
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            return i + 1
        i += 1
    return len(text)


def _match(text: str, start: int) -> int | None:
    """Index just past the form opening at text[start], or None if it never closes."""
    depth, i = 0, start
    while i < len(text):
        c = text[i]
        if c == '"':
            i = _skip_string(text, i)
            continue
        if c == ";":
            nl = text.find("\n", i)
            i = len(text) if nl < 0 else nl + 1
            continue
        if c == "#" and text.startswith("#\\", i):
            i += 3
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def _take(text: str, start: int, end: int, out: Extracted, where: str) -> None:
    """Read text[start:end] as one form into `out`, or note that it could not be read."""
    piece = text[start:end]
    try:
        form = read(piece)
    except LispError as e:
        out.notes.append(f"a form {where} could not be read ({e.message}): {_quote(piece)}")
    else:
        out.forms.append((form, piece))


def _unbalanced(text: str, i: int, out: Extracted, where: str) -> None:
    out.notes.append(f"an unbalanced form {where} was skipped (it never closes): {_quote(text[i:])}")


def _scan_code(text: str, out: Extracted, where: str) -> None:
    """Collect every form of a code block; note prose, unbalanced and unreadable pieces."""
    i, prose = 0, []
    while i < len(text):
        c = text[i]
        if c != "(":
            if c == ";":
                nl = text.find("\n", i)
                i = len(text) if nl < 0 else nl + 1
                continue
            prose.append(c)
            i += 1
            continue
        # A quote just before the form belongs to it: '(1 2) or `(a ,b).
        start = i - 1 if prose and prose[-1] in "'`" else i
        if start < i:
            prose.pop()
        end = _match(text, i)
        if end is None:
            _unbalanced(text, i, out, where)
            break
        _take(text, start, end, out, where)
        i = end
    rest = "".join(prose).strip()
    if rest and any(ch.isalnum() for ch in rest):
        out.notes.append(f"prose {where} was ignored: {_quote(rest)}")


def _form_start(text: str, i: int) -> int | None:
    """Where the paren of a form starting at text[i] is (after a quote), or None."""
    if text.startswith("(", i):
        return i
    if text[i:i + 1] in ("'", "`") and text.startswith("(", i + 1):
        return i + 1
    return None


def _line_forms(text: str, i: int) -> tuple[list[tuple[int, int]], int, bool]:
    """The forms of the line starting at text[i]: (spans, index past the line, whether the
    line holds only forms and comments). A line that is prose skips every form it began
    (a parenthetical spanning lines is prose too), so no text is scanned twice; a last
    span ending at -1 is a form that never closes."""
    spans: list[tuple[int, int]] = []
    while True:
        while i < len(text) and text[i] in " \t":
            i += 1
        if i >= len(text) or text[i] == "\n" or text[i] == ";":
            nl = text.find("\n", i)
            return spans, len(text) if nl < 0 else nl + 1, True
        paren = _form_start(text, i)
        end = None if paren is None else _match(text, paren)
        if paren is not None and end is None:
            return spans + [(i, -1)], len(text), True
        if end is None or (text.startswith("`", i) and text.startswith("`", end)):
            nl = text.find("\n", i)        # prose, or `(f 1)`: inline code in prose
            return [], len(text) if nl < 0 else nl + 1, False
        spans.append((i, end))
        i = end


def _scan_lines(text: str, out: Extracted) -> None:
    """Collect the forms on lines of their own; every other line is prose."""
    i = 0
    while i < len(text):
        spans, i, code = _line_forms(text, i)
        for a, b in spans if code else ():
            if b < 0:
                _unbalanced(text, a, out, "in the reply")
                return
            _take(text, a, b, out, "in the reply")


def extract(reply: str, limit: int = MAX_FORMS) -> Extracted:
    """The first `limit` forms of a model's reply's code, with notes on what went wrong."""
    out = Extracted()
    blocks = list(FENCE.finditer(reply))
    if blocks:
        for b in blocks:
            if b.group(1).lower() in LISP_TAGS:
                _scan_code(b.group(2), out, "in a code block")
    else:
        _scan_lines(reply, out)
    if not out.forms and not out.notes:
        out.notes.append("the reply held no form: send Lisp forms such as (define ...) and "
                         "(done ...) in a ```lisp code block")
    elif not out.forms:
        out.notes.append("the reply held no readable form")
    if len(out.forms) > limit:
        dropped = len(out.forms) - limit
        out.notes.append(f"only the first {limit} forms were evaluated; "
                         f"{dropped} more {'was' if dropped == 1 else 'were'} dropped")
        del out.forms[limit:]
    return out
