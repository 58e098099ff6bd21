"""Inspecting the world: any value or world object described as data.

`inspect(world, x)` returns a `LispMap` with keyword keys: for a symbol, the
definition behind the name (value, kind, doc, source, versions, checks and
who calls it); for a topic keyword (`:world`, `:history`, `:snapshots`,
`:rules`, `:evaluator`, `:lineages`, `:peers`, `:agents`), that part of the world; for any other
value, its type and parts. The REPL renders these maps as trees and the CLI
prints them; the `inspect` primitive returns them to Lisp programs.

A production image keeps no history or audit objects: there the history
parts are empty and the :history and :rules topics say so.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Any, Iterator

from .lisp import budget
from .lisp.analyze import SPECIAL
from .lisp.errors import EvalError
from .lisp.primitives import UNSAFE, primitive
from .lisp.printer import write
from .lisp.types import (Box, Char, Closure, ErrorObject, Keyword, LispMap, Pair, Primitive,
                         Record, Symbol, make_list)
from .objects.image import iso
from .objects.prims import _world, as_map, host_facts

TOPICS = ("world", "history", "snapshots", "rules", "evaluator", "lineages", "peers", "agents")


def _kw(d: dict[str, Any]) -> LispMap:
    """A map with keyword keys; None values stay `()` (use False for "absent"). The host's
    facts (times, authors) only for code granted `host`."""
    return LispMap((Keyword(k), v) for k, v in host_facts(d).items())


# ---------------------------------------------------------------- history status

def _history(world: Any) -> Any:
    from .history import history_of
    return history_of(world)


def _audit(world: Any) -> Any:
    from .history.record import audit_of
    return audit_of(world)


def history_status(world: Any) -> tuple[int, str | None]:
    """Pending atomic commits and the last atomic commit id; (0, None) without history."""
    hist = _history(world)
    if hist is None or not hist.count:
        return 0, None
    return len(hist.pending), hist.commits[hist.count].id


def definition_commit(world: Any, name: str) -> tuple[str | None, list[tuple[str, str]]]:
    """The atomic commit id of `name`'s latest definition and its (severity, message) violations."""
    hist = _history(world)
    c = hist.latest(name) if hist is not None else None
    if c is None:
        return None, []
    return c.id, [(sev, f"{rule}: {message}") for rule, _, sev, message in c.violations]


def _violation_maps(violations: Any) -> Any:
    return make_list([_kw({"rule": r, "category": cat, "severity": sev, "message": m})
                      for r, cat, sev, m in violations])


def _commit_map(c: Any, pending: bool) -> LispMap:
    return _kw({"seq": c.seq, "commit": c.id, "kind": c.kind, "symbol": c.symbol,
                "time": iso(c.time), "pending": pending, "doc": c.doc or False,
                "source": c.typed, "violations": _violation_maps(c.violations)})


# ---------------------------------------------------------------- values

def type_name(v: Any) -> str:
    """A value's Lisp type, as a word."""
    t = type(v)
    if v is None:
        return "empty list"
    if t is bool:
        return "boolean"
    if t is int:
        return "integer"
    if t is Fraction:
        return "rational"
    if t is float:
        return "real"
    names = {str: "string", Symbol: "symbol", Keyword: "keyword", Char: "character",
             Pair: "pair", tuple: "vector", LispMap: "map", Closure: "procedure",
             Primitive: "primitive", Box: "box", Record: "record", ErrorObject: "error object"}
    return names.get(t, t.__name__.lower())


def _proper(x: Any) -> list[Any] | None:
    out = []
    while type(x) is Pair:
        out.append(x.car)
        x = x.cdr
    return out if x is None else None


def describe(v: Any) -> LispMap:
    """A value's type and parts as a map."""
    t = type(v)
    info: dict[str, Any] = {"type": type_name(v)}
    if t is Pair:
        items = _proper(v)
        if items is None:
            info.update({"car": v.car, "cdr": v.cdr})
        else:
            budget.charge(len(items))
            info.update({"type": "list", "length": len(items), "items": v})
    elif t is tuple:
        info.update({"length": len(v), "items": v})
    elif t is LispMap:
        info.update({"size": len(v), "entries": v})
    elif t is str:
        info.update({"length": len(v), "value": v})
    elif t is Closure:
        form = v.tmpl.form
        params = form.cdr.car if type(form) is Pair and type(form.cdr) is Pair else None
        info.update({"name": v.name, "parameters": params, "doc": v.tmpl.doc or False,
                     "source": write(form)})
    elif t is Primitive:
        info.update({"name": v.name, "doc": v.doc or False,
                     "unsafe": v.name in UNSAFE})
    elif t is Box:
        info["value"] = v.v
    elif t is Record:
        info.update({"record-type": v.rtype.name,
                     "fields": LispMap((Keyword(f), x) for f, x in zip(v.rtype.fields, v.values))})
    elif t is ErrorObject:
        info.update({"message": v.message, "irritants": v.irritants})
    else:
        info["value"] = v
    return _kw(info)


# ---------------------------------------------------------------- names

def symbols_in(form: Any) -> Iterator[Symbol]:
    """Every symbol occurring anywhere in a form (iteratively, any depth)."""
    stack = [form]
    while stack:
        x = stack.pop()
        t = type(x)
        if t is Symbol:
            yield x
        elif t is Pair:
            while type(x) is Pair:
                stack.append(x.car)
                x = x.cdr
            stack.append(x)
        elif t is tuple:
            stack.extend(x)
        elif t is LispMap:
            for k, v in x.items():
                stack.append(k)
                stack.append(v)


def callers(world: Any, name: str) -> list[str]:
    """Names whose defining source mentions `name` (the definition itself left out)."""
    sym = Symbol(name)
    found = []
    for tree in (world.names.defs, world.names.macros):
        budget.charge(len(tree))
        for other, d in tree.items():
            if other == name or not d.source:
                continue
            form = d.form
            if form is not None and any(s is sym for s in symbols_in(form)):
                found.append(other)
    return sorted(set(found))


def _definition(world: Any, name: str) -> Any:
    return world.names.defs.get(name) or world.names.macros.get(name)


def inspect_name(world: Any, name: str) -> LispMap:
    """Everything known about the global `name`."""
    sym = Symbol(name)
    d = _definition(world, name)
    info: dict[str, Any] = {"name": name}
    if d is not None:
        value = d.value
        info.update({"kind": d.kind, "type": type_name(value), "value": value, "doc": d.doc or False,
                     "source": d.source or False, "version": d.version, "time": iso(d.time)})
        info["versions"] = _versions(world, name, d)
    elif sym in SPECIAL:
        info.update({"kind": "special form", "doc": (SPECIAL[sym].__doc__ or "").strip() or False})
    elif world.env.is_bound(sym):
        value = world.env.lookup(sym)
        kind = "primitive" if type(value) is Primitive else "value"
        info.update({"kind": kind, "type": type_name(value), "value": value,
                     "doc": world.env.docs.get(sym) or getattr(value, "doc", None) or False})
    else:
        raise EvalError(f"inspect: {name} is not defined")
    info["checks"] = _checks(world, name)
    info["callers"] = make_list([Symbol(c) for c in callers(world, name)])
    return _kw(info)


def _versions(world: Any, name: str, d: Any) -> Any:
    """Every version from history, newest first (the live one alone without history)."""
    hist = _history(world)
    commits = hist.versions(name) if hist is not None else []
    if not commits:
        return make_list([_kw({"version": d.version, "time": iso(d.time),
                               "source": d.source or False, "commit": False,
                               "violations": None})])
    budget.charge(len(commits))
    return make_list([_commit_map(c, c.seq in hist.pending) for c in commits])


def _checks(world: Any, name: str) -> Any:
    """The `(check expected expr)` examples recorded against `name`."""
    store = _audit(world)
    if store is None:
        return None
    numbers = store.by_definition.get(name, ())
    return make_list([_kw({"number": c.number, "expected": c.expected, "expr": c.expr,
                           "time": iso(c.time)})
                      for c in (store.checks[n] for n in numbers)])


# ---------------------------------------------------------------- topics

def inspect_world(world: Any) -> LispMap:
    """The image, its sizes and counts, snapshots and pending commits."""
    info = dict(world.info())
    pending, last = history_status(world)
    info.update({"where": world.image.where, "pending-commits": pending,
                 "last-commit": last or False,
                 "snapshot-names": make_list([s["name"] for s in world.snapshots()]),
                 "names-bound": len(world.env.names())})
    return _kw(info)


def inspect_snapshots(world: Any) -> LispMap:
    """Every named snapshot: name, time, note and how many definitions it holds."""
    snaps = world.snapshots()
    return _kw({"count": len(snaps), "snapshots": make_list([as_map(s) for s in snaps])})


def nothing_kept(topic: str) -> LispMap:
    """The map of a topic a production image keeps no data for."""
    return _kw({"topic": topic, "available": False,
                "message": f"this world keeps no {topic}: it is a production image"})


def inspect_history(world: Any, recent: int = 20) -> LispMap:
    """The commit chain: counts, head, pending commits, the newest atomic and human commits."""
    from .history.views import human
    hist = _history(world)
    if hist is None:
        return nothing_kept("history")
    newest = list(hist.commits.values(max(1, hist.count - recent + 1), hist.count))[::-1] \
        if hist.count else []
    humans = list(hist.humans.values())[::-1][:recent]
    budget.charge(len(newest) + len(humans))
    return _kw({"atomic-commits": hist.count, "human-commits": hist.humans_count,
                "pending": len(hist.pending), "head": hist.head,
                "last-commit": newest[0].id if newest else False,
                "pending-commits": make_list([_commit_map(hist.commits[s], True)
                                              for s in list(hist.pending)[:recent]]),
                "recent": make_list([_commit_map(c, c.seq in hist.pending) for c in newest]),
                "humans": make_list([from_plain(human(h)) for h in humans])})


def inspect_rules(world: Any) -> LispMap:
    """The audit rules, and how many violations the latest definitions carry."""
    from .audit.report import summary
    store = _audit(world)
    if store is None:
        return nothing_kept("rules")
    rules = list(store.rules.values())
    budget.charge(len(rules))
    return _kw({"count": len(rules),
                "rules": make_list([_kw({"name": r.name, "category": r.category,
                                         "severity": r.severity, "message": r.message})
                                    for r in rules]),
                "checks": len(store.checks),
                "violations": from_plain(summary(world))})


def from_plain(x: Any) -> Any:
    """Plain Python data as Lisp data: dicts become maps with keyword keys, None #f."""
    if x is None:
        return False
    if isinstance(x, dict):
        return LispMap((Keyword(k.replace("_", "-")) if type(k) is str else k, from_plain(v))
                       for k, v in host_facts(x).items())
    if isinstance(x, (list, tuple)):
        return make_list([from_plain(v) for v in x])
    return x


def inspect_evaluator(world: Any) -> LispMap:
    """The world's my-eval: current version and source, constructs, natives, every version."""
    from .evolve import evalprims
    from .evolve.slot import SETTINGS_KEY
    slot = world.image.root.settings.get(SETTINGS_KEY)
    if slot is None or slot.current == 0:
        return _kw({"topic": "evaluator", "installed": False,
                    "message": "no my-eval in this world yet: (set-eval-mode! 'my-eval) "
                               "installs the seed evaluator"})
    info = evalprims.describe(world.env)
    current = slot.version()
    versions = [_kw({"version": v.seq, "kind": v.kind, "note": v.note, "time": iso(v.time),
                     "commit": False if v.commit is None else v.commit,
                     "forms": make_list([Symbol(f) for f in v.forms]),
                     "current": v.seq == slot.current, "source": v.source})
                for v in slot.history()]
    budget.charge(len(versions))
    return (info.assoc(Keyword("source"), current.source if current else False)
            .assoc(Keyword("history"), make_list(versions)))


def inspect_lineages(world: Any) -> LispMap:
    """Every evolution run's lineages by generation, with fitness and evaluator diffs."""
    from .evolve.report import lineages_view
    view = lineages_view(world)
    return from_plain({"runs": view["runs"], "hall_of_fame": view["hall_of_fame"],
                       "count": sum(len(g["lineages"]) for r in view["runs"]
                                    for g in r["generations"])})


def inspect_topic(world: Any, topic: str) -> LispMap:
    """The map for a topic keyword such as :world or :snapshots."""
    if topic == "world":
        return inspect_world(world)
    if topic == "snapshots":
        return inspect_snapshots(world)
    if topic == "history":
        return inspect_history(world)
    if topic == "rules":
        return inspect_rules(world)
    if topic == "evaluator":
        return inspect_evaluator(world)
    if topic == "lineages":
        return inspect_lineages(world)
    if topic == "peers":
        from .peer.prims import inspect_peers
        return inspect_peers(world)
    if topic == "agents":
        from .peer.agentstate import inspect_agents
        return inspect_agents(world)
    raise EvalError(f"inspect: unknown topic :{topic} (topics: "
                    f"{', '.join(':' + t for t in TOPICS)})")


def inspect(world: Any, x: Any) -> LispMap:
    """Describe `x` in `world`: a name, a topic keyword, or any value."""
    if type(x) is Symbol:
        return inspect_name(world, x.name)
    if type(x) is Keyword:
        return inspect_topic(world, x.name)
    info = describe(x)
    name = getattr(x, "name", None) if type(x) in (Closure, Primitive) else None
    if name and world.env.is_bound(Symbol(name)) and world.env.lookup(Symbol(name)) is x:
        info = info.assoc(Keyword("defined-as"), inspect_name(world, name))
    return info


@primitive("inspect", group="reflect")
def prim_inspect(x: Any) -> LispMap:
    """(inspect x) -> a map describing x: 'name, :world, :history, :snapshots, or any value."""
    return inspect(_world("inspect"), x)
