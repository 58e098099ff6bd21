"""Completion of every name in the world, with its docstring or kind.

Candidates: the world's definitions and macros, the primitives its
environment grants (`world/...` and `history/...` operations among them),
the special forms, the keywords used in definitions' sources and the
`inspect` topics, and `,`-commands at the start of the input. The candidate
table is rebuilt only when the world's namespace changed.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from world.inspect import TOPICS, type_name
from world.lisp.analyze import SPECIAL
from world.lisp.types import Primitive

from .commands import COMMANDS

# A name runs up to the cursor from the last delimiter the reader knows.
WORD = re.compile(r"[^\s()\[\]{}\";'`,|]+$")
COMMAND = re.compile(r"^\s*(,[\w-]*)$")
META_CHARS = 60


def first_line(doc: str | None) -> str:
    """The first line of a docstring, shortened for the completion menu."""
    line = (doc or "").strip().split("\n", 1)[0]
    return line if len(line) <= META_CHARS else line[:META_CHARS - 1] + "…"


def keywords_in(source: str) -> Iterable[str]:
    """Keyword names (without the colon) appearing in source text."""
    for m in re.finditer(r"(?<![\w:])(:[^\s()\[\]{}\";'`,|]+)", source):
        yield m.group(1)


class WorldCompleter(Completer):
    """Completes names from a live world, showing each one's doc or kind."""

    def __init__(self, world: Any) -> None:
        self.world = world
        self._key: tuple | None = None
        self._table: dict[str, str] = {}

    def _stamp(self) -> tuple:
        names = self.world.names
        return (names.seen, names.changes, len(self.world.env.ns), len(self.world.env.macros))

    def table(self) -> dict[str, str]:
        """Every candidate name mapped to what the menu shows beside it."""
        stamp = self._stamp()
        if stamp != self._key:
            self._table = self._build()
            self._key = stamp
        return self._table

    def _build(self) -> dict[str, str]:
        env, names = self.world.env, self.world.names
        table: dict[str, str] = {}
        for sym, fn in SPECIAL.items():
            table[sym.name] = first_line(fn.__doc__) or "special form"
        for sym in env.names():
            v = env.lookup(sym)
            d = names.defs.get(sym.name)
            doc = env.docs.get(sym)
            if type(v) is Primitive and d is None:
                table[sym.name] = first_line(v.doc) or "primitive"
            else:
                kind = d.kind if d is not None and d.kind != "define" else type_name(v)
                table[sym.name] = first_line(doc) or kind
        for sym in env.macros:
            table[sym.name] = first_line(env.docs.get(sym)) or "macro"
        keywords: set[str] = set()
        for tree in (names.defs, names.macros):
            for d in tree.values():
                if d.source and ":" in d.source:
                    keywords.update(keywords_in(d.source))
        for kw in sorted(keywords):
            table.setdefault(kw, "keyword")
        for topic in TOPICS:
            table[":" + topic] = f"(inspect :{topic})"
        return table

    def get_completions(self, document: Document, complete_event: CompleteEvent
                        ) -> Iterable[Completion]:
        """Names starting with the word before the cursor (`,`-commands at the start)."""
        before = document.text_before_cursor
        m = COMMAND.match(before)
        if m:
            word = m.group(1)
            for name, (_, help_text) in sorted(COMMANDS.items()):
                if ("," + name).startswith(word):
                    yield Completion("," + name, -len(word), display_meta=help_text)
            return
        m = WORD.search(before)
        if not m:
            return
        word = m.group(0)
        for name, meta in sorted(self.table().items()):
            if name.startswith(word) and name != word:
                yield Completion(name, -len(word), display_meta=meta)

