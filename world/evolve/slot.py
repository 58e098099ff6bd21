"""Evaluator slots: one world's (or one lineage's) my-eval, its versions,
its native helpers and the special forms it discovered, as persistent data.

A slot is the record of an evaluator; the evaluator itself is the procedure
bound to `my-eval` in an environment. The world has one slot, kept in its
root's settings under `evolve/evaluator`; the agent gives each lineage a slot
of its own and binds it to the lineage's environment with `bind(env, slot)`,
so `extend-eval!`, `edit-eval!` and `defnative!` typed in that environment
change that lineage's my-eval and nobody else's. `install(env, slot)`
(world/evolve/evaluator.py) makes an environment's `my-eval`, its helpers and
its natives equal to the slot's current version, so a slot is also how a
lineage's evaluator is carried into a fresh environment.

Versions are numbered from 1 (the seed) and never removed: a rollback is a
new version whose source is an old one's. Every version records the kind of
change (`seed`, `extend-eval`, `edit-eval`), a note, the special forms its
source handles, the history commit that recorded it once history keeps
commits (None before), its behaviour table (world/evolve/probes.py) and
whether it `earns` a step bonus: only a version whose source and behaviour
are new against every earlier version does. A slot also remembers the
problems its lineage solved (`remember`): the regression tests of a change.
"""
from __future__ import annotations

import time
import weakref
from typing import Any

from BTrees.IOBTree import IOBTree
from BTrees.OOBTree import OOBTree

from ..objects.format import Versioned

SETTINGS_KEY = "evolve/evaluator"


class EvalVersion(Versioned):
    """One version of my-eval: number, kind, canonical source, note, forms handled."""

    format_version = 1
    seq = 0
    kind = "seed"
    source = ""
    note = ""
    time = 0.0
    forms: tuple[str, ...] = ()
    commit: Any = None
    behaviour: dict[str, str] | None = None     # probe text -> outcome (None: never probed)
    probed: tuple[str, ...] = ()                # the names the table covers
    earns = False                               # new source and new behaviour: a step bonus

    def __init__(self, seq: int, kind: str, source: str, note: str,
                 forms: tuple[str, ...], commit: Any = None) -> None:
        self.seq, self.kind, self.source, self.note = seq, kind, source, note
        self.forms, self.commit = forms, commit
        self.time = time.time()

    def __repr__(self) -> str:
        return f"<EvalVersion {self.seq} {self.kind}>"


class Native(Versioned):
    """A helper defined with defnative!: it runs on the ground evaluator."""

    format_version = 1
    name = ""
    source = ""
    time = 0.0
    version = 0
    commit: Any = None

    def __init__(self, name: str, source: str, commit: Any = None) -> None:
        self.name = name
        self.update(source, commit)

    def update(self, source: str, commit: Any = None) -> None:
        """A new definition of the same native."""
        self.source, self.commit = source, commit
        self.version += 1
        self.time = time.time()


class EvalSlot(Versioned):
    """The evaluator record of one world or lineage (see the module docstring)."""

    format_version = 1
    name = "world"
    current = 0
    max_natives: int | None = None      # rounds may cap how many natives a lineage has
    solved: Any = None                  # problem id -> (order, name, call, expected), made on use

    def __init__(self, name: str = "world") -> None:
        self.name = name
        self.versions = IOBTree()
        self.natives = OOBTree()
        self.constructs = OOBTree()     # form name -> (version seq, commit, time)

    # ------------------------------------------------------------ versions
    def version(self, seq: int | None = None) -> EvalVersion | None:
        """Version `seq` (the current one by default), or None."""
        return self.versions.get(self.current if seq is None else seq)

    def add(self, kind: str, source: str, note: str, forms: tuple[str, ...],
            commit: Any = None, behaviour: dict[str, str] | None = None,
            probed: tuple[str, ...] = ()) -> EvalVersion:
        """Record a new current version; the special forms it handles first are constructs."""
        from .probes import new_behaviour
        earlier = self.history()
        seq = (self.versions.maxKey() if len(self.versions) else 0) + 1
        v = EvalVersion(seq, kind, source, note, forms, commit)
        v.behaviour, v.probed = behaviour, probed
        v.earns = (bool(earlier) and behaviour is not None
                   and all(e.source != source for e in earlier)
                   and new_behaviour(behaviour, [e.behaviour for e in earlier]))
        self.versions[seq] = v
        self.current = seq
        seed = self.versions[1].forms
        for name in forms:
            if name not in seed and name not in self.constructs:
                self.constructs[name] = (seq, commit, v.time)
        return v

    def history(self) -> list[EvalVersion]:
        """Every version, oldest first."""
        return list(self.versions.values())

    def last(self) -> int:
        """The newest version's number (0 before the seed)."""
        return self.versions.maxKey() if len(self.versions) else 0

    def earned_since(self, seq: int) -> int:
        """How many versions newer than `seq` earn a step bonus."""
        return sum(1 for v in self.versions.values(min=seq + 1) if v.earns) if seq < self.last() else 0

    # ------------------------------------------------------------ solved problems
    def remember(self, problem: Any, name: str, call: str, expected: str) -> None:
        """Record a problem the lineage solved: later changes must still solve it."""
        if self.solved is None:
            self.solved = OOBTree()
        if problem not in self.solved:
            self.solved[problem] = (len(self.solved), name, call, expected)

    # ------------------------------------------------------------ natives
    def add_native(self, name: str, source: str, commit: Any = None) -> Native:
        """Record the native `name` (new, or redefined)."""
        n = self.natives.get(name)
        if n is None:
            n = self.natives[name] = Native(name, source, commit)
        else:
            n.update(source, commit)
        return n

    def __repr__(self) -> str:
        return f"<EvalSlot {self.name} v{self.current}>"


# Environments whose evaluator is a slot other than their world's (lineages).
BOUND: "weakref.WeakKeyDictionary[Any, EvalSlot]" = weakref.WeakKeyDictionary()


def bind(env: Any, slot: EvalSlot) -> None:
    """Make `slot` the evaluator record of `env` (a lineage's environment)."""
    BOUND[env] = slot


def world_slot(root: Any) -> EvalSlot:
    """The world's slot, created (in the running transaction) if it has none."""
    slot = root.settings.get(SETTINGS_KEY)
    if slot is None:
        slot = root.settings[SETTINGS_KEY] = EvalSlot("world")
    return slot
