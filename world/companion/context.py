"""What a question is about: a definition's source, docstring, history, callers and
checks, or, for a free question, the definitions it names and the names nearest them.

Everything here is bounded and charged to the running evaluation: sources are cut at
SOURCE characters, at most VERSIONS versions and CALLERS callers are shown, and the
walk looking for callers reads at most SCAN definitions (a substring test first, so a
definition is read as Lisp only when its text mentions the name).
"""
from __future__ import annotations

import difflib
import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from ..audit.checks import symbols_in
from ..lisp import budget
from ..lisp.errors import LispError
from ..lisp.reader import read
from ..objects.image import iso
from .calls import CompanionError

SOURCE = 4_000          # characters of one definition's source
VERSION_TEXT = 600      # characters of an older version's source
VERSIONS = 5            # versions of a definition shown
CALLERS = 8             # callers shown
CALLER_TEXT = 800       # characters of a caller's source
SCAN = 20_000           # definitions read looking for callers, at most
HUMANS = 300            # human commits searched for the message holding a version
QUESTION_NAMES = 8      # definitions given as context for a question
NEAREST_POOL = 50_000   # names compared with a question's words, at most
QUESTION_WORDS = 12     # words of a question looked up among the nearest names, at most
WORD = re.compile(r"[A-Za-z0-9!$%&*/:<=>?^_~+\-.@]+")


def cut(text: str, n: int) -> str:
    """`text`, cut to `n` characters with a mark saying so."""
    return text if len(text) <= n else text[:n] + f" ... [{len(text) - n} more characters]"


@dataclass
class Subject:
    """One definition as the model is shown it."""

    name: str
    kind: str
    source: str
    doc: str
    versions: list[str] = field(default_factory=list)
    callers: list[tuple[str, str]] = field(default_factory=list)
    more_callers: bool = False
    checks: list[str] = field(default_factory=list)

    def text(self, full: bool = True) -> str:
        """The definition as a prompt's context block (`full`: history, callers, checks too)."""
        out = [f"Definition {self.name} ({self.kind}):", self.source,
               f"Docstring: {self.doc!r}" if self.doc else "Docstring: none"]
        if not full:
            return "\n".join(out)
        if self.versions:
            out.append(f"History of {self.name}, newest first:")
            out += [f"- {v}" for v in self.versions]
        else:
            out.append(f"History of {self.name}: none recorded")
        if self.callers:
            out.append(f"Definitions that call {self.name}:")
            out += [f"- {n}: {s}" for n, s in self.callers]
            if self.more_callers:
                out.append("- (more not shown)")
        else:
            out.append(f"Callers of {self.name}: none in this world")
        if self.checks:
            out.append(f"Checks recorded against {self.name}:")
            out += [f"- {c}" for c in self.checks]
        return "\n".join(out)


def definition(world: Any, name: str, who: str) -> Any:
    """The stored definition (or macro) `name`, or a CompanionError saying it is not one."""
    d = world.names.defs.get(name) or world.names.macros.get(name)
    if d is None or not d.source:
        raise CompanionError(f"{who}: {name} is not a definition of this world "
                             f"(primitives and special forms have no source to work from)")
    return d


def source_of(world: Any, name: str, d: Any) -> str:
    """The definition's text as typed (comments kept) when its history has it, else its source."""
    hist = getattr(world.image.root, "history", None)
    latest = hist.latest(name) if hist is not None else None
    typed = getattr(latest, "typed", "") if latest is not None else ""
    if typed and getattr(latest, "source", None) == d.source:
        return typed
    return d.source


def subject(world: Any, name: str, who: str, full: bool = True) -> Subject:
    """Everything the companion tells the model about `name`."""
    d = definition(world, name, who)
    source = source_of(world, name, d)
    budget.charge(len(source))
    s = Subject(name, d.kind, cut(source, SOURCE), d.doc or "")
    if full:
        s.versions = versions(world, name)
        s.callers, s.more_callers = callers(world, name)
        s.checks = checks(world, name)
    return s


def versions(world: Any, name: str) -> list[str]:
    """Lines on `name`'s recorded versions, newest first, each with its human commit's message."""
    hist = getattr(world.image.root, "history", None)
    if hist is None:
        return []
    seqs = hist.seqs(name)          # numbers only: a name may have thousands of versions
    shown = [hist.commits[q] for q in reversed(seqs[-VERSIONS:]) if q in hist.commits]
    messages = _messages(hist, {c.seq for c in shown})
    lines = []
    for c in shown:
        budget.charge(len(c.source))
        why = f', in "{messages[c.seq]}"' if c.seq in messages else ""
        lines.append(f"#{c.seq} {c.kind} at {iso(c.time)}{why}: {cut(c.typed or c.source, VERSION_TEXT)}")
    if len(seqs) > VERSIONS:
        lines.append(f"({len(seqs) - VERSIONS} older versions not shown)")
    return lines


def _messages(hist: Any, seqs: set[int]) -> dict[int, str]:
    """seq -> the message of the human commit holding it, among the last HUMANS human commits."""
    out: dict[int, str] = {}
    humans = getattr(hist, "humans", None)
    if not humans or not seqs:
        return out
    top = getattr(hist, "humans_count", 0) or 0
    for h in reversed(list(humans.values(max(1, top - HUMANS + 1), top))):   # the newest only
        for s in seqs & set(h.seqs):
            out.setdefault(s, h.message)
        if len(out) == len(seqs):
            break
    return out


def callers(world: Any, name: str) -> tuple[list[tuple[str, str]], bool]:
    """(the definitions whose source refers to `name`, each with its source; whether more
    were found or left unread)."""
    from ..lisp.types import Symbol
    sym = Symbol(name)
    found: list[tuple[str, str]] = []
    read_count = 0
    for tree in (world.names.defs, world.names.macros):
        for other, d in tree.items():
            read_count += 1
            if read_count > SCAN:
                return found, True
            src = d.source
            if other == name or not src:
                continue
            budget.charge(1 + len(src) // 64)
            if name not in src:         # cheap: most definitions never mention it
                continue
            try:
                form = read(src)
            except LispError:
                continue
            if sym.name in symbols_in(form, set()):
                if len(found) == CALLERS:
                    return found, True
                found.append((other, cut(src, CALLER_TEXT)))
    return found, False


def checks(world: Any, name: str) -> list[str]:
    """The checks recorded against `name`, as `(check expected expr)` text."""
    store = getattr(world.image.root, "audit", None)
    if store is None or not len(store.checks):
        return []
    return [f"(check {c.expected} {c.expr})" for c in store.against([name])]


def names_in(world: Any, question: str) -> list[str]:
    """The definitions a question is about: the names it mentions, then the defined names
    nearest its other words (at most QUESTION_NAMES)."""
    defs, macros = world.names.defs, world.names.macros
    words = list(dict.fromkeys(w.strip(".,?!:'\"`") for w in WORD.findall(question)))
    budget.charge(len(question))
    named = [w for w in words if w and (w in defs or w in macros)]
    out = list(dict.fromkeys(named))[:QUESTION_NAMES]
    rest = [w for w in words if len(w) > 2 and w not in out][:QUESTION_WORDS]
    if len(out) < QUESTION_NAMES and rest:
        pool = []
        for tree in (defs, macros):
            for n in tree.keys():
                if len(pool) >= NEAREST_POOL:
                    break
                pool.append(n)
        budget.charge(len(pool) * len(rest))
        for w in rest:
            for n in difflib.get_close_matches(w, pool, n=2, cutoff=0.75):
                if n not in out and len(out) < QUESTION_NAMES:
                    out.append(n)
    return out


def question(world: Any, text: str) -> tuple[list[str], str]:
    """(the names given as context, the context block) for a free question about the world."""
    names = names_in(world, text)
    blocks = [subject(world, n, ",ask").text() for n in names]
    if not names:
        some = list(itertools.islice(world.names.defs.keys(), 60))
        blocks.append("No definition is named in the question. "
                      + (f"Some names this world defines: {' '.join(some)}" if some
                         else f"This world holds {len(world.names.defs)} definitions."))
    return names, "\n\n".join(blocks)
