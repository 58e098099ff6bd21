"""Named snapshots: a copy of every definition, kept inside the image.

A snapshot holds its own copies of the values (boxes and records included),
not a pointer into the database's history, so it survives packing and
restarting, and later changes to the live world do not reach it. Restoring
copies it back in one transaction, so a restore is itself undone by
restoring a snapshot saved before it.
"""
from __future__ import annotations

import time
from typing import Any

from BTrees.OOBTree import OOBTree

from ..lisp import budget
from ..lisp.env import Environment
from ..lisp.errors import EvalError
from .definitions import Namespace
from .format import Versioned
from .lazy import copy

# An entry: (kind, value, source, doc).
Entry = tuple[str, Any, "str | None", "str | None"]


class Snapshot(Versioned):
    """The world's definitions and macros as they were when it was saved."""

    format_version = 1
    name = ""
    note = ""
    time = 0.0
    tid = b""
    head: str | None = None     # the history's chain head when it was saved (None: no history)

    def __init__(self, name: str, note: str, tid: bytes) -> None:
        self.name, self.note, self.tid = name, note, tid
        self.time = time.time()
        self.definitions = OOBTree()
        self.macros = OOBTree()

    def __repr__(self) -> str:
        return f"<Snapshot {self.name}>"


def _entries(trees: tuple[Any, Any]) -> tuple[list, list]:
    return tuple([(name, (d.kind, d.value, d.source, d.doc)) for name, d in tree.items()]
                 for tree in trees)


def save(ns: Namespace, name: str, note: str, tid: bytes) -> Snapshot:
    """Record the current definitions under `name` (replacing a snapshot of that name)."""
    defs, macros = copy(_entries((ns.defs, ns.macros)), ns.env)
    budget.charge(len(defs) + len(macros))
    snap = Snapshot(name, note, tid)
    snap.definitions.update(defs)
    snap.macros.update(macros)
    ns.root.snapshots[name] = snap
    return snap


def find(ns: Namespace, name: str) -> Snapshot:
    """The snapshot called `name`, or a clear error."""
    snap = ns.root.snapshots.get(name)
    if snap is None:
        known = ", ".join(ns.root.snapshots.keys()) or "none yet"
        raise EvalError(f"no snapshot named {name!r} (snapshots: {known})")
    return snap


def contents(snap: Snapshot, env: Environment) -> tuple[list, list]:
    """Fresh copies of a snapshot's definitions and macros: [(name, entry)...] twice."""
    return copy((list(snap.definitions.items()), list(snap.macros.items())), env)


def restore(ns: Namespace, snap: Snapshot) -> int:
    """Make the stored namespace and the environment equal to `snap`; return names changed."""
    defs, macros = contents(snap, ns.env)
    budget.charge(len(defs) + len(macros))
    changed = 0
    for tree, entries, macro in ((ns.defs, defs, False), (ns.macros, macros, True)):
        wanted = dict(entries)
        for name in [n for n in tree.keys() if n not in wanted]:
            ns.remove(name, macro)
            changed += 1
        for name, (kind, value, source, doc) in entries:
            ns.put(name, kind, value, source, doc, macro)
            changed += 1
    return changed
