"""Redefining a record type: existing instances follow the new fields.

`(define-record point x y (z 0))` run where `point` already names a record
type with other fields calls `%record-migrate` first, in the same form (and
so the same transaction): every instance of an older `point` reachable from
the environment's definitions keeps its fields by name, gets each new
field's default (`#f` unless the field was written `(name default)`), and
loses the removed ones. Instances are updated in place, so whatever shares
one still shares it. The search is the host's work on the form's behalf,
charged one step per node visited. A world supplies its own roots (every
stored definition, loaded or not) through `ROOTS`; a plain environment
searches its globals.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

from . import budget
from .errors import InternalError
from .primitives import primitive
from .types import (VOID, Box, Closure, ErrorObject, LispMap, Pair, Record, RecordType, Symbol,
                    Template)

# env -> the values to search for instances, or None when the provider does not know env
ROOTS: list[Callable[[Any], Iterable[Any] | None]] = []
BATCH = 256             # nodes visited between charges


def defaults_of(rt: RecordType, defaults: tuple[Any, ...]) -> dict[str, Any]:
    """Field name -> the value an older instance gets for it (one default per field)."""
    return dict(zip(rt.fields, defaults))


def migrate_record(r: Record, rt: RecordType, defaults: dict[str, Any]) -> None:
    """Give `r` the fields of `rt`: kept by name, new ones from `defaults`, the rest dropped."""
    old = dict(zip(r.rtype.fields, r.values))
    r.values = tuple(old[f] if f in old else defaults.get(f, False) for f in rt.fields)
    r.rtype = rt


def migrate(roots: Iterable[Any], rt: RecordType, defaults: dict[str, Any]) -> int:
    """Migrate every instance of an older `rt.name` reachable from `roots`; return how many."""
    charge = budget.charge
    seen: set[int] = set()
    keep: list[Any] = []        # captured tuples made here stay alive, so ids stay unique
    todo: list[Any] = []
    nodes = moved = 0
    for root in roots:
        todo.append(root)
        while todo:
            x = todo.pop()
            nodes += 1
            if nodes >= BATCH:
                charge(nodes)
                nodes = 0
            t = type(x)
            if t is Pair:
                if id(x) in seen:
                    continue
                seen.add(id(x))
                while type(x) is Pair:
                    todo.append(x.car)
                    x = x.cdr
                    nodes += 1
                todo.append(x)
                continue
            if t not in _CONTAINERS or id(x) in seen:
                continue
            seen.add(id(x))
            if t is tuple or t is list:
                nodes += len(x)
                todo.extend(x)
            elif t is LispMap:
                for k, v in x.d.values():
                    todo += [k, v]
            elif t is Box:
                todo.append(x.v)
            elif t is Record:
                if x.rtype.name == rt.name and x.rtype != rt:
                    migrate_record(x, rt, defaults)
                    moved += 1
                todo.extend(x.values)
            elif t is Closure:
                try:
                    captured = x.captured()
                except Exception:       # a closure whose cells are not filled yet
                    captured = ()
                keep.append(captured)
                todo += [captured, x.tmpl]
            elif t is Template:
                todo.append(x.form)     # a macro may have put a record into code
            elif t is ErrorObject:
                todo.append(x.irritants)
    charge(nodes)
    return moved


_CONTAINERS = frozenset((tuple, list, LispMap, Box, Record, Closure, Template, ErrorObject))


def _roots(env: Any) -> Iterable[Any]:
    for provider in ROOTS:
        found = provider(env)
        if found is not None:
            return found
    return env.globals().values()


@primitive("%record-migrate", group="internal")
def record_migrate(rt: Any, *defaults: Any) -> Any:
    """(%record-migrate type default...) migrates instances of the type's older version."""
    if type(rt) is not RecordType or len(defaults) != len(rt.fields):
        raise InternalError("%record-migrate: expected a record type and one default per field")
    env = budget.current().ns["_env"]
    sym = Symbol(rt.name)
    old = env.lookup(sym) if env.is_bound(sym) else None
    if type(old) is not RecordType or old.name != rt.name or old == rt:
        return VOID                     # a new type, or the same fields: nothing to follow
    with budget.host_work():
        migrate(_roots(env), rt, defaults_of(rt, defaults))
    return VOID
