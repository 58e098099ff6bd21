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

from dataclasses import replace
from fractions import Fraction
from typing import Any, Iterable

import persistent

from ..lisp import budget
from ..lisp.budget import Limits, Meter
from ..lisp.errors import BudgetExceeded
from ..lisp.types import (Char, Closure, ErrorObject, Keyword, LispMap, Pair, Primitive,
                          RecordType, Symbol, Template, Void)

STORE_DEPTH = 10_000        # nesting levels a stored value may have
# Pickler frames per level of nesting (a list element goes through the reduce
# tuple and the items tuple; a map through three tuples): the recursion limit
# the commit needs, with room for ZODB's own frames.
FRAMES_PER_LEVEL = 6
COMMIT_RECURSION = STORE_DEPTH * FRAMES_PER_LEVEL + 2_000
_ATOMS = (type(None), bool, float, Fraction, Symbol, Keyword, Char, Void, Primitive, RecordType)


def commit_depth() -> int:
    """The recursion limit under which a value that passed `check` pickles."""
    return COMMIT_RECURSION


def too_deep() -> BudgetExceeded:
    """The error for a value nested past `STORE_DEPTH`."""
    return BudgetExceeded("depth", f"value nested deeper than {STORE_DEPTH} levels cannot be stored")


def changed_objects(conn: Any) -> list[Any]:
    """The persistent objects the current transaction of `conn` will write."""
    return list(getattr(conn, "_registered_objects", ())) + list(getattr(conn, "_added", {}).values())


def check(roots: Iterable[Any], limits: Limits, spent: int = 0, elapsed: float = 0.0) -> int:
    """Walk what committing `roots` pickles, under what `limits` leave after `spent`
    steps and `elapsed` seconds; return the steps the walk took."""
    left = replace(limits, steps=max(0, limits.steps - spent),
                   seconds=max(0.0, limits.seconds - elapsed))
    meter = Meter({"_n": 0}, left)
    meter.start()
    try:
        _walk(roots)
    except BudgetExceeded as e:
        if e.budget == "steps":
            e.message = f"step budget of {limits.steps} exhausted while storing the form's values"
        elif e.budget == "time":
            e.message = f"time budget of {limits.seconds:g} s exhausted while storing the form's values"
        e.args = (e.message,)
        raise
    finally:
        meter.stop()
    return meter.base


def _state(obj: persistent.Persistent) -> Any:
    """The state a persistent object pickles as (its attributes, not its identity)."""
    try:
        return obj.__getstate__()
    except Exception:       # a ghost or an object without state: nothing to walk
        return None


def _walk(roots: Iterable[Any]) -> None:
    """Visit every node pickling `roots` visits, charging a step for each."""
    charge = budget.charge
    seen: set[int] = set()
    keep: list[Any] = []        # states made here stay alive, so their ids stay unique
    todo: list[tuple[Any, int]] = []
    for obj in roots:
        if id(obj) not in seen:
            seen.add(id(obj))
            state = _state(obj)
            keep.append(state)
            todo.append((state, 0))
    while todo:
        x, depth = todo.pop()
        charge(1)
        t = type(x)
        if t is str:
            charge(len(x) >> 8)
            continue
        if t is int:
            charge(x.bit_length() >> 12)
            continue
        if t in _ATOMS:
            continue
        if depth >= STORE_DEPTH:
            raise too_deep()
        if t is Pair:
            # Pickled through the list's own reduce: the whole spine, each time the
            # list is reached (only its first cell is memoised).
            if id(x) in seen:
                continue
            seen.add(id(x))
            n = 0
            while type(x) is Pair:
                if not isinstance(x.car, _ATOMS):
                    todo.append((x.car, depth + 1))
                x = x.cdr
                n += 1
                if not n & 1023:
                    charge(1024)
            charge(n & 1023)
            if x is not None:
                todo.append((x, depth + 1))
            continue
        if id(x) in seen:
            continue
        seen.add(id(x))
        if t is tuple or t is list:
            charge(len(x) >> 4)
            todo.extend((v, depth + 1) for v in x)
        elif t is LispMap:
            charge(len(x.d) >> 4)
            for k, v in x.d.values():
                todo.append((k, depth + 1))
                todo.append((v, depth + 1))
        elif t is dict:
            for k, v in x.items():
                todo.append((k, depth + 1))
                todo.append((v, depth + 1))
        elif t is Closure:
            try:
                captured = x.captured()
            except Exception:
                captured = ()
            keep.append(captured)
            todo.append((captured, depth + 1))
            todo.append((x.tmpl, depth + 1))
        elif t is Template:
            todo.append((x.form, depth + 1))
        elif t is ErrorObject:
            todo.append((x.message, depth + 1))
            todo.append((x.irritants, depth + 1))
        elif isinstance(x, persistent.Persistent):
            # Stored objects are references; new and changed ones are records of
            # their own, pickled separately, so their nesting starts again at 0.
            if x._p_jar is None or x._p_changed:
                state = _state(x)
                keep.append(state)
                todo.append((state, 0))
