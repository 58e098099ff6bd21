"""Checking, under the form's budget, that what a form changed can be stored.

Committing pickles every persistent object the form changed or created.
Pickle recurses on nesting, so a value nested thousands of levels deep would
blow Python's recursion limit inside ZODB; and pickling a list re-flattens
its spine wherever it is referenced, so shared tails can make a commit cost
far more than the program that built them. Before the commit, `check` walks
exactly what the pickler will walk (no recursion), charging one step per
node visited to the form's remaining budget and refusing a value nested
deeper than `STORE_DEPTH` levels. The commit itself then runs on the
evaluation thread's large stack with a recursion limit that fits that depth
(`commit_depth`), so a value that passed the walk always pickles.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Any, Iterable

import persistent

from ..lisp import budget
from ..lisp.budget import Limits, remainder
from ..lisp.errors import BudgetExceeded
from ..lisp.types import (Box, Char, Closure, ErrorObject, Keyword, LispMap, Pair, Primitive,
                          Record, RecordType, Symbol, Template, Void)
from .definitions import Definition

STORE_DEPTH = 10_000        # nesting levels a stored value may have
# Pickler frames per level of nesting (a list element goes through the reduce
# tuple and the items tuple; a map through three tuples): the recursion limit
# the commit needs, with room for ZODB's own frames.
FRAMES_PER_LEVEL = 6
COMMIT_RECURSION = STORE_DEPTH * FRAMES_PER_LEVEL + 2_000
_ATOMS = frozenset((type(None), bool, float, Fraction, Symbol, Keyword, Char, Void, Primitive,
                    RecordType))
BATCH = 256             # nodes visited between charges
NODE_STEPS = 2          # walking and then pickling a node takes ~0.2 us, two steps' worth


def commit_depth() -> int:
    """The recursion limit under which a value that passed `check` pickles."""
    return COMMIT_RECURSION


def too_deep() -> BudgetExceeded:
    """The error for a value nested past `STORE_DEPTH`."""
    return BudgetExceeded("depth", f"value nested deeper than {STORE_DEPTH} levels cannot be stored")


def changed_objects(conn: Any) -> list[Any]:
    """The persistent objects the current transaction of `conn` will write."""
    return list(getattr(conn, "_registered_objects", ())) + list(getattr(conn, "_added", {}).values())


def check(defined: Iterable[Any], changed: Iterable[Any], limits: Limits, spent: int = 0,
          elapsed: float = 0.0) -> int:
    """Walk what committing pickles: the values of the `defined` Definitions and of the
    changed boxes and records under what `limits` leave after `spent` steps and `elapsed`
    seconds, then the other `changed` objects; return the steps charged."""
    values = [d.value for d in defined if d is not None]
    books = []
    for obj in changed:
        t = type(obj)
        if t is Box:
            values.append(obj.v)
        elif t is Record:
            values.append(obj.values)
        elif t is not Definition:
            books.append(obj)
    seen: set[int] = set()
    with remainder(limits, spent, elapsed, "storing the form's values") as meter:
        _walk(values, False, seen)
    # The world's own records (history, counters, trees) are its bookkeeping, not the
    # form's work: checked for depth, charged to nobody.
    _walk(books, True, seen)
    return meter.base


def _state(obj: persistent.Persistent) -> Any:
    """The state a persistent object pickles as (its attributes, not its identity)."""
    try:
        return obj.__getstate__()
    except Exception:       # a ghost or an object without state: nothing to walk
        return None


def _walk(roots: Iterable[Any], states: bool, seen: set[int]) -> None:
    """Visit every node pickling `roots` (persistent objects whose `states` are walked
    when `states`, else values) visits, charging the running budget for each."""
    charge = budget.charge
    atoms = _ATOMS
    keep: list[Any] = []        # states made here stay alive, so their ids stay unique
    todo: list[tuple[Any, int]] = []
    nodes = 0

    def push(v: Any, depth: int) -> None:
        """Queue a container; charge a big string or integer for its size now."""
        tv = type(v)
        if tv is str:
            if len(v) > 4096:
                charge(len(v) >> 8)
        elif tv is int:
            if v.bit_length() > 32768:
                charge(v.bit_length() >> 12)
        elif tv not in atoms:
            todo.append((v, depth))

    for obj in roots:
        if not states:
            push(obj, 0)
        elif id(obj) not in seen:
            seen.add(id(obj))
            state = _state(obj)
            keep.append(state)
            push(state, 0)
    while todo:
        x, depth = todo.pop()
        t = type(x)
        if depth >= STORE_DEPTH:
            raise too_deep()
        if t is Pair:
            # Pickled through the list's own reduce: the whole spine, each time the
            # list is reached (only its first cell is memoised).
            if id(x) in seen:
                continue
            seen.add(id(x))
            while type(x) is Pair:
                push(x.car, depth + 1)
                x = x.cdr
                nodes += 1
                if nodes >= BATCH:
                    charge(nodes * NODE_STEPS)
                    nodes = 0
            push(x, depth + 1)
            continue
        nodes += 1
        if nodes >= BATCH:
            charge(nodes * NODE_STEPS)
            nodes = 0
        if id(x) in seen:
            continue
        seen.add(id(x))
        if t is tuple or t is list:
            nodes += len(x)
            for v in x:
                push(v, depth + 1)
        elif t is LispMap:
            nodes += 2 * len(x.d)
            for k, v in x.d.values():
                push(k, depth + 1)
                push(v, depth + 1)
        elif t is dict:
            for k, v in x.items():
                push(k, depth + 1)
                push(v, depth + 1)
        elif t is Closure:
            try:
                captured = x.captured()
            except Exception:
                captured = ()
            keep.append(captured)
            push(captured, depth + 1)
            push(x.tmpl, depth + 1)
        elif t is Template:
            push(x.form, depth + 1)
        elif t is ErrorObject:
            push(x.irritants, depth + 1)
        elif isinstance(x, persistent.Persistent):
            # Stored objects are references; new and changed ones are records of
            # their own, pickled separately, so their nesting starts again at 0.
            if x._p_jar is None or x._p_changed:
                state = _state(x)
                keep.append(state)
                push(state, 0)
    charge(nodes * NODE_STEPS)
