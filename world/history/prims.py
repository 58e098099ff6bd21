"""The history primitives: log, show, diff, verify, pending, commit,
milestones and undefine (saving and rebuilding images: world/build.py).

They act on the world whose environment runs the current evaluation, inside
that evaluation's transaction.
"""
from __future__ import annotations

from typing import Any

from ..lisp.errors import EvalError, LispTypeError, SandboxError
from ..lisp.primitives import primitive
from ..lisp.types import Keyword, LispMap, Symbol, make_list, to_pylist
from ..objects.prims import _world, as_map, host_facts
from . import views
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
    w = _world("history/verify")        # a production image verifies against its manifest
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
    return make_list([_lisp(_human(x)) for x in h.humans.values()])


@primitive("commit", group="image")
def commit_(message: Any, *rest: Any) -> LispMap:
    """(commit "message" ['(sym ...)] [:sign #t]) groups pending atomic commits (or those of
    syms); :sign #t signs the human commit with the user's key (needs the host capability)."""
    w, _ = _hist("commit")
    if type(message) is not str:
        raise LispTypeError("commit: the message must be a string")
    names, sign = None, False
    if rest and type(rest[0]) is not Keyword:
        names = [_symbol("commit", s) for s in to_pylist(rest[0], "commit")]
        rest = rest[1:]
    if rest:
        if len(rest) != 2 or type(rest[0]) is not Keyword or rest[0].name != "sign" \
                or type(rest[1]) is not bool:
            raise LispTypeError("commit: the only option is :sign #t")
        sign = rest[1]
    h = commit(w, message, names, _signer("commit") if sign else None)
    return _lisp(_human(h))


def _human(h: Any) -> dict[str, Any]:
    """A human commit as plain data, with the key that signed it (if any)."""
    d = views.human(h)
    if h.key:
        d["key"] = h.key
    return d


def _signer(who: str) -> Any:
    """The user's signer, for a session holding `host`: the private key is the host's."""
    from ..keys import SigningKeyError, signer      # noqa: PLC0415 (cryptography is slow to load)
    from ..lisp import budget
    from ..lisp.primitives import GROUPS
    if not GROUPS["host"] <= budget.current().ns["_env"].granted:
        raise SandboxError(f"{who}: signing uses the host's private key: only a session "
                           f"granted the host capability may sign")
    try:
        return signer()
    except SigningKeyError as e:
        raise EvalError(f"{who}: {e}") from None


@primitive("history/trust", group="image")
def history_trust(key: Any, *opts: Any) -> LispMap:
    """(history/trust "PUBKEY" [:name "alice"]) records a key whose signed commits anchor
    this world's history (see `world history verify --signed`)."""
    from ..keys import SigningKeyError, normal_public_key     # noqa: PLC0415
    _, h = _hist("history/trust")
    try:
        key = normal_public_key(key)
    except SigningKeyError as e:
        raise LispTypeError(f"history/trust: {e}") from None
    name = ""
    if opts:
        if len(opts) != 2 or type(opts[0]) is not Keyword or opts[0].name != "name" \
                or type(opts[1]) is not str:
            raise LispTypeError('history/trust: the only option is :name "who"')
        name = opts[1]
    h.trust(key, name)
    return as_map({"key": key, "name": name})


@primitive("history/trusted", group="reflect")
def history_trusted() -> Any:
    """(history/trusted) -> the keys this world trusts to sign commits, each {:key :name}."""
    _, h = _hist("history/trusted")
    trusted = h.trusted
    return make_list([as_map({"key": k, "name": n})
                      for k, n in (trusted.items() if trusted is not None else ())])


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
