"""Extracting s-expressions from a model's reply.

A reply may hold fenced code blocks, bare forms, prose around them,
unbalanced forms and text the reader refuses. `extract` takes at most
`MAX_FORMS` readable parenthesised forms (from the fenced blocks if there
are any, else from the whole text) and describes everything else in notes,
which are recorded in the scratchpad and shown to the model next turn.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..lisp.errors import LispError
from ..lisp.reader import read

MAX_FORMS = 5
FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.S)
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


def _scan(text: str, out: Extracted, where: str) -> None:
    """Collect forms from `text`; note prose, unbalanced and unreadable pieces."""
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
            out.notes.append(f"an unbalanced form {where} was skipped "
                             f"(it never closes): {_quote(text[i:])}")
            break
        piece = text[start:end]
        try:
            form = read(piece)
        except LispError as e:
            out.notes.append(f"a form {where} could not be read ({e.message}): {_quote(piece)}")
        else:
            out.forms.append((form, piece))
        i = end
    rest = "".join(prose).strip()
    if rest and any(ch.isalnum() for ch in rest):
        out.notes.append(f"prose {where} was ignored: {_quote(rest)}")


def extract(reply: str, limit: int = MAX_FORMS) -> Extracted:
    """The first `limit` readable forms of a model's reply, with notes on the rest."""
    out = Extracted()
    blocks = list(FENCE.finditer(reply))
    if blocks:
        outside = FENCE.sub(" ", reply).strip()
        for b in blocks:
            _scan(b.group(2), out, "in a code block")
        if outside and any(ch.isalnum() for ch in outside):
            out.notes.append(f"text outside the code blocks was ignored: {_quote(outside)}")
    else:
        _scan(reply, out, "in the reply")
    if not out.forms and not out.notes:
        out.notes.append("the reply held no form: answer with Lisp forms such as (define ...) "
                         "and (done ...)")
    elif not out.forms:
        out.notes.append("the reply held no readable form")
    if len(out.forms) > limit:
        dropped = len(out.forms) - limit
        out.notes.append(f"only the first {limit} forms were evaluated; "
                         f"{dropped} more {'was' if dropped == 1 else 'were'} dropped")
        del out.forms[limit:]
    return out
