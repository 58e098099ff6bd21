"""The root of a world image: a small persistent object with named BTrees.

Everything else hangs off it: `definitions` and `macros` (name -> Definition),
`snapshots` (name -> Snapshot), `settings` (str -> plain value), and the
`history` and `audit` stores that world/history makes when a world first
opens (a production image keeps them None). The
`generation` counter goes up with every change to a namespace; it resolves
its own conflicts, so two sessions can both bump it, and a session that sees
it move knows that another one changed names.
"""
from __future__ import annotations

import time
import uuid
from typing import Any

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree

from .format import Versioned

ROOT_KEY = "world"
FORMAT_VERSION = 4


class WorldRoot(Versioned):
    """The world's metadata and its namespaces."""

    # 1: no generation counter; 2: `generation` (BTrees.Length);
    # 3: `history` and `audit` (None until world/history makes them);
    # 4: commits keep the hash of the definition they left; human commits are chained.
    format_version = FORMAT_VERSION
    created = 0.0
    uid = ""
    history: Any = None
    audit: Any = None

    def __init__(self, uid: str | None = None) -> None:
        self.created = time.time()
        self.uid = uid or uuid.uuid4().hex
        self.settings = OOBTree()
        self.definitions = OOBTree()
        self.macros = OOBTree()
        self.snapshots = OOBTree()
        self.generation = Length()

    def migrate_1(self, state: dict[str, Any]) -> dict[str, Any]:
        """Format 1 -> 2: add the generation counter."""
        state.setdefault("generation", Length(len(state.get("definitions", ()))))
        state.setdefault("settings", OOBTree())
        return state

    def migrate_2(self, state: dict[str, Any]) -> dict[str, Any]:
        """Format 2 -> 3: room for the history and audit stores (made when the world opens)."""
        state.setdefault("history", None)
        state.setdefault("audit", None)
        return state

    def migrate_3(self, state: dict[str, Any]) -> dict[str, Any]:
        """Format 3 -> 4: the history's new fields have defaults; older commits verify as before."""
        return state

    def __repr__(self) -> str:
        return f"<WorldRoot {self.uid}>"


def find_root(zroot: Any) -> WorldRoot | None:
    """The world root stored in a ZODB root mapping, if there is one."""
    return zroot.get(ROOT_KEY)
