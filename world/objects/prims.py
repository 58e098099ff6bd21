"""The `world` primitives: snapshots, packing and facts about the image.

They act on the world whose environment is running the current evaluation,
inside that evaluation's transaction.
"""
from __future__ import annotations

import weakref
from typing import Any

from ..lisp import budget
from ..lisp.errors import LispTypeError, SandboxError
from ..lisp.primitives import primitive
from ..lisp.types import VOID, Keyword, LispMap, Symbol, make_list

WORLDS: "weakref.WeakValueDictionary[int, Any]" = weakref.WeakValueDictionary()


def attach(world: Any) -> None:
    """Let the `world` primitives find `world` from its environment."""
    WORLDS[id(world.env)] = world


def _world(who: str) -> Any:
    env = budget.current().ns["_env"]
    w = WORLDS.get(id(env))
    if w is None or w.env is not env:
        raise SandboxError(f"{who}: this evaluation is not running in a world")
    return w


def _name(who: str, x: Any) -> str:
    if type(x) is str and x:
        return x
    if type(x) is Symbol:
        return x.name
    raise LispTypeError(f"{who}: expected a snapshot name (a string)")


HOST_FACTS = ("time", "author", "created", "last-transaction", "last_transaction", "path", "where")


def host_facts(d: dict[str, Any]) -> dict[str, Any]:
    """`d` without the host's facts (the clock, the user's name) unless the running code
    was granted `host`: reading the world (`reflect`) does not hand those out."""
    from ..lisp.primitives import GROUPS
    m = budget.running()
    if m is None or GROUPS["host"] <= m.ns["_env"].granted:      # the host itself, or granted
        return d
    return {k: v for k, v in d.items() if k not in HOST_FACTS}


def as_map(d: dict[str, Any]) -> LispMap:
    """A Lisp map with keyword keys from a dict of plain data."""
    return LispMap((Keyword(k), False if v is None else v) for k, v in d.items())


@primitive("world/save", group="image")
def world_save(name: Any, note: Any = "") -> LispMap:
    """(world/save name [note]) records a named snapshot of the world."""
    if type(note) is not str:
        raise LispTypeError("world/save: the note must be a string")
    return as_map(_world("world/save").save(_name("world/save", name), note))


@primitive("world/snapshots", group="reflect")
def world_snapshots() -> Any:
    """(world/snapshots) -> the snapshots, oldest first, each a map of name, time, note."""
    return make_list([as_map(host_facts(s)) for s in _world("world/snapshots").snapshots()])


@primitive("world/open-snapshot", group="reflect")
def world_open_snapshot(name: Any) -> LispMap:
    """(world/open-snapshot name) -> a map from each name to its value in the snapshot."""
    values = _world("world/open-snapshot").snapshot_values(_name("world/open-snapshot", name))
    return LispMap((Symbol(k), v) for k, v in values.items())


@primitive("world/restore", group="image", unsafe=True)
def world_restore(name: Any) -> Any:
    """(world/restore name) makes the world equal to the snapshot, in this transaction."""
    _world("world/restore").restore(_name("world/restore", name))
    return VOID


@primitive("world/pack", group="image", unsafe=True)
def world_pack() -> Any:
    """(world/pack) drops old revisions once this form has committed."""
    _world("world/pack").pack_after_commit()
    return VOID


@primitive("world/info", group="host")
def world_info() -> LispMap:
    """(world/info) -> a map: :path :size :objects :definitions :last-transaction :format-version."""
    return as_map(_world("world/info").info())
