"""The history primitives: log, show, diff, verify, pending, commit,
milestones, undefine, and saving or rebuilding images.

They act on the world whose environment runs the current evaluation, inside
that evaluation's transaction.
"""
from __future__ import annotations

from typing import Any

from ..lisp.errors import EvalError, LispTypeError
from ..lisp.primitives import primitive
from ..lisp.types import Keyword, LispMap, Symbol, make_list, to_pylist
from ..objects.prims import _world, as_map, host_facts
from . import views
from .images import save_dev
from .newimage import base_of
from .rebuild import RebuildReport, rebuild
from .record import audit_of, commit, history_of, record

QUOTE, UNDEFINE = Symbol("quote"), Symbol("undefine")


def _hist(who: str) -> Any:
    w = _world(who)
    h = history_of(w)
    if h is None:
        raise EvalError(f"{who}: this is a production image: it keeps no history")
    return w, h


def _lisp(d: dict[str, Any]) -> LispMap:
    out = {}
    for k, v in host_facts(d).items():
        if k in ("symbol",):
            v = Symbol(v)
        elif k == "kind":
            v = Symbol(v)
        elif k == "violation-list":
            v = make_list([as_map({"rule": Symbol(r), "category": Keyword(c), "severity": Keyword(s),
                                   "message": m}) for r, c, s, m in v])
        elif type(v) is tuple:
            v = make_list(list(v))
        out[k] = v
    return as_map(out)


def _symbol(who: str, x: Any) -> str:
    if type(x) is Symbol:
        return x.name
    raise LispTypeError(f"{who}: expected a symbol (quote it: 'name)")


@primitive("history/log", group="reflect")
def history_log(name: Any = None, limit: Any = None) -> Any:
    """(history/log ['name] [limit]) -> atomic commits newest first (every version of name)."""
    _, h = _hist("history/log")
    if type(name) is int and limit is None:
        name, limit = None, name
    if limit is not None and (type(limit) is not int or limit < 0):
        raise LispTypeError("history/log: the limit must be a count")
    sym = None if name is None else _symbol("history/log", name)
    return make_list([_lisp(d) for d in views.log(h, sym, limit)])


@primitive("history/show", group="reflect")
def history_show(key: Any) -> LispMap:
    """(history/show id) -> everything an atomic commit records (id string or sequence number)."""
    _, h = _hist("history/show")
    if type(key) not in (str, int, Symbol):
        raise LispTypeError("history/show: expected a commit id (a string) or a sequence number")
    c = h.find(key.name if type(key) is Symbol else key)
    if c is None:
        raise EvalError(f"history/show: no atomic commit {key!r}")
    return _lisp(views.details(c, c.seq in h.pending))


@primitive("history/diff", group="reflect")
def history_diff(name: Any) -> str:
    """(history/diff 'name) -> a line diff of the last two versions of name."""
    _, h = _hist("history/diff")
    sym = _symbol("history/diff", name)
    if h.latest(sym) is None:
        raise EvalError(f"history/diff: {sym} has no history")
    return views.diff(h, sym)


@primitive("history/verify", group="reflect")
def history_verify(*options: Any) -> Any:
    """(history/verify [:signed]) -> #t if the chain, every live definition, the human commits
    and the snapshots check, else a list of findings {:kind :subject :message}."""
    w, _ = _hist("history/verify")
    signed = False
    for o in options:
        if type(o) is not Keyword or o.name != "signed":
            raise LispTypeError("history/verify: the only option is :signed")
        signed = True
    found = views.findings(w.image.root, signed=signed)
    if not found:
        return True
    return make_list([as_map({"kind": Keyword(f.kind), "subject": f.subject, "message": f.message})
                      for f in found])


@primitive("history/pending", group="reflect")
def history_pending() -> Any:
    """(history/pending) -> atomic commits no human commit holds yet, oldest first."""
    _, h = _hist("history/pending")
    return make_list([_lisp(d) for d in views.pending(h)])


@primitive("history/milestones", group="reflect")
def history_milestones() -> Any:
    """(history/milestones) -> the human commits, oldest first."""
    _, h = _hist("history/milestones")
    return make_list([_lisp(views.human(x)) for x in h.humans.values()])


@primitive("commit", group="image")
def commit_(message: Any, symbols: Any = None) -> LispMap:
    """(commit "message" ['(sym ...)]) groups pending atomic commits (or those of syms)."""
    w, _ = _hist("commit")
    if type(message) is not str:
        raise LispTypeError("commit: the message must be a string")
    names = None
    if symbols is not None:
        names = [_symbol("commit", s) for s in to_pylist(symbols, "commit")]
    return _lisp(views.human(commit(w, message, names)))


@primitive("undefine", group="image")
def undefine(name: Any) -> Symbol:
    """(undefine 'name) removes a definition (or rule) and records it."""
    w = _world("undefine")
    sym = _symbol("undefine", name)
    store = audit_of(w)
    found = False
    for tree, macro in ((w.names.defs, False), (w.names.macros, True)):
        if sym in tree:
            w.names.remove(sym, macro)
            found = True
    if store is not None and sym in store.rules:
        del store.rules[sym]
        found = True
    if not found:
        raise EvalError(f"undefine: {sym} is not defined")
    from ..lisp.printer import write
    record(w, "undefine", sym, None, None, None,
           source=write(make_list([UNDEFINE, make_list([QUOTE, Symbol(sym)])])))
    return Symbol(sym)


@primitive("world/save-dev", group="image", unsafe=True)
def world_save_dev(path: Any) -> LispMap:
    """(world/save-dev "path") writes a development image: the whole world and history."""
    if type(path) is not str or not path:
        raise LispTypeError("world/save-dev: expected a path (a string)")
    w = _world("world/save-dev")
    return as_map(save_dev(w, path, base_of(w)))


def report_map(r: RebuildReport) -> LispMap:
    """A rebuild report as a Lisp map."""
    return as_map({"mode": Keyword(r.mode), "dest": r.dest, "production": r.production,
                   "replayed": r.replayed, "definitions": r.definitions, "ok": r.ok,
                   "mismatches": make_list([Symbol(m[0]) for m in r.mismatches]),
                   "errors": make_list([f"{s}: {m}" for s, m in r.errors]),
                   "checks-passed": len(r.checks) - len(r.failed_checks),
                   "checks-failed": len(r.failed_checks), "size": r.size,
                   "source-size": r.source_size, "seconds": round(r.seconds, 3)})


@primitive("world/rebuild", group="image", unsafe=True)
def world_rebuild(dest: Any, mode: Any = Keyword("atomic")) -> LispMap:
    """(world/rebuild "dest" [:atomic|:human]) replays this world's history into a new image."""
    if type(dest) is not str or not dest:
        raise LispTypeError("world/rebuild: expected a destination path (a string)")
    if type(mode) is not Keyword or mode.name not in ("atomic", "human"):
        raise LispTypeError("world/rebuild: the history is :atomic or :human")
    w = _world("world/rebuild")
    return report_map(rebuild(w, dest, mode.name, base=base_of(w)))


@primitive("world/build-prod", group="image", unsafe=True)
def world_build_prod(dest: Any) -> LispMap:
    """(world/build-prod "dest") builds a production image from human history."""
    if type(dest) is not str or not dest:
        raise LispTypeError("world/build-prod: expected a destination path (a string)")
    w = _world("world/build-prod")
    return report_map(rebuild(w, dest, "human", production=True, base=base_of(w)))
