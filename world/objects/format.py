"""Format versions: every persistent class of the world says which layout
its state has, and migrates older state when it is loaded.

A class sets `format_version` and defines `migrate_<n>(state) -> state` for
each step from layout n to n + 1. The version is written into the stored
state, so an image written by an older release opens in a newer one; objects
that migrated are remembered so the opener can write them back once.

The world root's format is the image's format: raise it whenever any class's
format rises, so that an older release refuses a newer image when it opens
it, not later when it first loads a definition (which also refuses it).
"""
from __future__ import annotations

import weakref
from typing import Any

import persistent

from .errors import ImageError

MIGRATED: "weakref.WeakSet[Versioned]" = weakref.WeakSet()


class Versioned(persistent.Persistent):
    """A persistent object whose stored state carries its format version."""

    format_version = 1

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())   # never the live __dict__
        state["format_version"] = type(self).format_version
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        found = state.pop("format_version", 1)
        current = type(self).format_version
        if found > current:
            raise ImageError(f"a {type(self).__name__} was written in format {found}, newer than "
                             f"this release understands ({current}): upgrade world to open it")
        start = found
        while found < current:
            state = getattr(self, f"migrate_{found}")(state)
            found += 1
        super().__setstate__(state)
        if start < current:
            MIGRATED.add(self)


def migrated_in(jar: Any) -> list[Versioned]:
    """The objects loaded through connection `jar` whose state was migrated."""
    return [obj for obj in list(MIGRATED) if obj._p_jar is jar]


def forget(objs: list[Versioned]) -> None:
    """Stop remembering `objs` as migrated (they have been written back)."""
    for obj in objs:
        MIGRATED.discard(obj)
