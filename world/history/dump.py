"""Dumping a world's definitions as .lisp files that `world run` can load.

The latest version of every definition is written once, in an order that
defines dependencies before their users, as typed when the typed text reads
back to the recorded source (comments kept), else as canonical source.
"""
from __future__ import annotations

import os
from typing import Any

from ..lisp.errors import EvalError, LispError
from ..lisp.printer import write
from ..lisp.reader import read
from .commits import History
from .order import Item, latest_in_order
from .record import history_of

KIND_ORDER = ("defmacro", "define-record", "define", "defrule")


def latest_items(hist: History) -> list[Item]:
    """The latest version of every live definition, one item per form, dependencies first."""
    return latest_in_order(list(hist.atomic()))


def text_of(it: Item) -> str:
    """The form as typed if that reads back to the recorded source, else the canonical source."""
    try:
        if it.typed and write(read(it.typed)) == it.source:
            return it.typed.strip()
    except LispError:
        pass
    return it.source


def dump(world: Any, directory: str, by_kind: bool = False) -> list[str]:
    """Write the latest definitions under `directory`; return the files written."""
    hist = history_of(world)
    if hist is None:
        raise EvalError("dump: this is a production image: it keeps no history to dump")
    items = latest_items(hist)
    os.makedirs(directory, exist_ok=True)
    groups: dict[str, list[Item]] = {}
    if by_kind:
        for it in items:
            groups.setdefault(it.kind, []).append(it)
        order = [k for k in KIND_ORDER if k in groups] + sorted(set(groups) - set(KIND_ORDER))
        names = {k: f"{i + 1:02d}-{k}.lisp" for i, k in enumerate(order)}
    else:
        groups = {"all": items}
        order, names = ["all"], {"all": "world.lisp"}
    files = []
    for k in order:
        path = os.path.join(directory, names[k])
        with open(path, "w", encoding="utf-8") as f:
            f.write(f";;; {len(groups[k])} definitions dumped from the world's history\n\n")
            for it in groups[k]:
                f.write(text_of(it) + "\n\n")
        files.append(path)
    return files
