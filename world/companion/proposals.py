"""Proposals: a redefinition the companion offers, shown as a diff, pending until the
user accepts it (`,yes`, `(companion/accept)`) or drops it (`,no`, `(companion/reject)`).

A world has at most one pending proposal, kept in this process (not in the image): a
proposal is a suggestion to the person at this session, and a new one replaces it.
Nothing of a proposal is evaluated until it is accepted; accepting evaluates its text in
the world as an ordinary top-level form (audited, checked and recorded in history).

The text of a proposal is built here, never taken whole from the model: `document!`
inserts the model's docstring (a string literal) into the definition's own text, and a
`suggest` candidate must be one readable `define` of exactly that name, calling only
what the original calls or pure computation.
"""
from __future__ import annotations

import difflib
import weakref
from dataclasses import dataclass
from typing import Any

from ..audit.checks import symbols_in
from ..evolve.extract import extract
from ..lisp.errors import LispError
from ..lisp.primitives import GROUPS
from ..lisp.printer import write, write_string
from ..lisp.reader import read
from ..lisp.types import Pair, Primitive, Symbol, equal, make_list, to_pylist

DEFINE, DEFMACRO, LAMBDA = Symbol("define"), Symbol("defmacro"), Symbol("lambda")
DOC_LINES = 3           # lines of a docstring kept
DOC_TEXT = 400          # characters of a docstring kept
PURE = ("core", "output")   # the groups a suggestion may call beyond what the original calls
# Forms that define or record something else: a suggestion may not use them unless the original does.
DEFINING = frozenset({"defrule", "check", "uncheck", "defmacro", "define-syntax", "define-record",
                      "define-record-type", "undefine", "extend-eval!", "edit-eval!", "defnative!"})


@dataclass
class Proposal:
    """A redefinition on offer: what it replaces, the new text, and the diff between them."""

    kind: str           # "document" or "suggest"
    name: str
    old: str
    new: str
    note: str = ""      # the docstring, or what the model says is better

    @property
    def diff(self) -> str:
        """A unified diff from the definition now to the proposal."""
        lines = difflib.unified_diff(self.old.splitlines(keepends=True),
                                     self.new.splitlines(keepends=True),
                                     f"{self.name} (now)", f"{self.name} (proposed)")
        return "".join(x if x.endswith("\n") else x + "\n" for x in lines)


PENDING: "weakref.WeakKeyDictionary[Any, Proposal]" = weakref.WeakKeyDictionary()


def offer(world: Any, p: Proposal) -> Proposal:
    """Make `p` the world's pending proposal (replacing any other)."""
    PENDING[world] = p
    return p


def pending(world: Any) -> Proposal | None:
    """The world's pending proposal, if any."""
    return PENDING.get(world)


def take(world: Any) -> Proposal | None:
    """Remove and return the world's pending proposal."""
    return PENDING.pop(world, None)


# ---------------------------------------------------------------- document!

class Unfit(Exception):
    """A reply or a definition that cannot make a proposal; the message is one line."""


def clean_doc(reply: str) -> str:
    """The docstring in a model's reply: fences, quotes and blank lines dropped, cut short."""
    lines = [ln.strip() for ln in reply.strip().splitlines()
             if ln.strip() and not ln.strip().startswith("```")]
    text = "\n".join(lines[:DOC_LINES]).strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    text = text[:DOC_TEXT].strip()
    if not text:
        raise Unfit("the model gave no docstring")
    if text.startswith("("):
        raise Unfit("the model answered with code, not a docstring")
    return text


def _body_at(form: Any) -> tuple[list[Any], int] | None:
    """(the elements of the list holding the body, the index of the body's first element) of
    a procedure or macro definition, or None if it has no docstring's place."""
    if type(form) is not Pair:
        return None
    items = to_pylist(form)
    if form.car is DEFINE and len(items) >= 3 and type(items[1]) is Pair:
        return items, 2                                     # (define (f x) body...)
    if form.car is DEFINE and len(items) == 3 and type(items[2]) is Pair \
            and items[2].car is LAMBDA and len(to_pylist(items[2])) >= 3:
        return to_pylist(items[2]), 2                       # (define f (lambda (x) body...))
    if form.car is DEFMACRO and len(items) >= 4:
        return items, 3                                     # (defmacro m (x) body...)
    return None


def with_doc(form: Any, doc: str) -> Any:
    """`form` with its docstring set to `doc` (replacing the one it had)."""
    items, at = _body_at(form)     # type: ignore[misc]
    body = items[at:]
    if len(body) > 1 and type(body[0]) is str:
        body = body[1:]
    inner = make_list(items[:at] + [doc] + body)
    if form.car is DEFINE and type(to_pylist(form)[1]) is not Pair:
        return make_list([DEFINE, to_pylist(form)[1], inner])
    return inner


def documented(text: str, name: str, doc: str) -> str:
    """The definition `text` with the docstring `doc`: the text as typed, comments kept, with
    the string put in (or swapped for the old one); canonical text if that cannot be done."""
    form = read(text)
    if _body_at(form) is None:
        raise Unfit(f"{name} is not a procedure or macro definition: it has no place for a docstring")
    want = with_doc(form, doc)
    try:
        new = _insert(text, form, doc)
        if equal(read(new), want):
            return new
    except (LispError, ValueError, IndexError):
        pass
    return write(want)


def _insert(text: str, form: Any, doc: str) -> str:
    """Put `doc` into the definition's text at its docstring's place."""
    open_at = _start(text)
    spans = _elements(text, open_at)
    items = to_pylist(form)
    at = 3 if form.car is DEFMACRO else 2
    if form.car is DEFINE and type(items[1]) is not Pair:      # (define f (lambda ...))
        open_at = spans[2][0]
        spans = _elements(text, open_at)
        items = to_pylist(items[2])
    literal = write_string(doc)
    first = spans[at]
    if len(items) - at > 1 and type(items[at]) is str:         # replace the old docstring
        return text[:first[0]] + literal + text[first[1]:]
    line_start = text.rfind("\n", 0, first[0]) + 1
    if text[line_start:first[0]].strip():                      # the body starts on the header's line
        indent = " " * (open_at - (text.rfind("\n", 0, open_at) + 1) + 2)
        gap_from = spans[at - 1][1]
        return text[:gap_from] + "\n" + indent + literal + "\n" + indent + text[first[0]:]
    indent = text[line_start:first[0]]
    return text[:first[0]] + literal + "\n" + indent + text[first[0]:]


def _start(text: str) -> int:
    """Where the first form of `text` opens, past blanks and comments."""
    i = 0
    while i < len(text):
        if text[i] == ";":
            nl = text.find("\n", i)
            i = len(text) if nl < 0 else nl + 1
        elif text[i].isspace():
            i += 1
        else:
            return i
    raise ValueError("no form")


def _elements(text: str, open_at: int) -> list[tuple[int, int]]:
    """The (start, end) of each element of the list whose `(` is at text[open_at]."""
    from ..evolve.extract import _match, _skip_string
    if text[open_at] != "(":
        raise ValueError("not a list")
    spans, i = [], open_at + 1
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            raise ValueError("unclosed list")
        c = text[i]
        if c == ";":
            nl = text.find("\n", i)
            i = len(text) if nl < 0 else nl + 1
            continue
        if c == ")":
            return spans
        j = i
        while j < len(text) and text[j] in "'`,@#":        # quote marks and # prefixes
            j += 1
        while j < len(text) and text[j].isalnum() and i < j and text[i] == "#":
            j += 1                                          # #u8( ...
        if j < len(text) and text[j] in "([{":
            end = _match(text, j)
            if end is None:
                raise ValueError("unclosed list")
        elif j < len(text) and text[j] == '"':
            end = _skip_string(text, j)
        else:
            end = j
            while end < len(text) and not text[end].isspace() and text[end] not in "()[]{}\";":
                end += 1
        spans.append((i, end))
        i = end


# ---------------------------------------------------------------- suggest

def defined_name(form: Any) -> str | None:
    """The name a `define` or `defmacro` form defines."""
    if type(form) is not Pair or form.car not in (DEFINE, DEFMACRO) or type(form.cdr) is not Pair:
        return None
    target = form.cdr.car
    if type(target) is Pair:
        target = target.car
    return target.name if type(target) is Symbol else None


def candidate(reply: str, name: str, original: Any, world_names: Any) -> tuple[Any, str]:
    """The one redefinition of `name` in a model's reply, as (form, text); `Unfit` with one
    line if the reply holds anything else, or calls what a suggestion may not."""
    ex = extract(reply)
    if not ex.forms:
        raise Unfit("the reply held no readable Lisp form" + (f" ({ex.notes[0]})" if ex.notes else ""))
    if len(ex.forms) > 1:
        others = ", ".join(write(f[0], 40) for f in ex.forms[1:3])
        raise Unfit(f"the reply held {len(ex.forms)} forms; a suggestion is one definition of "
                    f"{name} (also: {others})")
    form, text = ex.forms[0]
    got = defined_name(form)
    if got != name or form.car is not original.car:
        what = f"defines {got}" if got else f"is not a definition ({write(form, 60)})"
        raise Unfit(f"the candidate {what}, not ({original.car.name} {name} ...)")
    if _body_at(form) is None and _body_at(original) is not None:
        raise Unfit(f"the candidate is not a procedure definition of {name}")
    had = symbols_in(original, set())
    pure = set().union(*(GROUPS.get(g, set()) for g in PURE))
    for s in sorted(symbols_in(form, set()) - had):
        if s in world_names:
            continue            # the world's own definition of that name
        if s in DEFINING or (s in Primitive.registry and s not in pure):
            raise Unfit(f"the candidate uses {s}, which {name} does not and a suggestion may "
                        f"not (only pure computation)")
    return form, text.strip() + "\n"
