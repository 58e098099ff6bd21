"""Where a world looks for the instances a record redefinition migrates: the
value of every stored definition and macro, loaded or not (see
`world.lisp.records`)."""
from __future__ import annotations

from typing import Any, Iterable, Iterator

from ..lisp import records
from .prims import WORLDS


def world_roots(env: Any) -> Iterable[Any] | None:
    """The values of every definition of the world `env` belongs to (None: not a world's)."""
    w = WORLDS.get(id(env))
    if w is None or w.env is not env:
        return None
    return _values(w)


def _values(w: Any) -> Iterator[Any]:
    for tree in (w.names.defs, w.names.macros):
        for d in tree.values():
            yield d.value


if world_roots not in records.ROOTS:
    records.ROOTS.append(world_roots)
