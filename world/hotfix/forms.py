"""The development world's hot-fix forms: reports from production, proposals, accepting.

    (hotfix/pending [:all])   the open reports (every one with :all), oldest first
    (hotfix/show ID)          a whole report, with each definition's development history and checks
    (hotfix/propose ID)       ask the model for a fix; stored and returned as a diff, never applied
    (hotfix/accept ID)        commit the proposal in development (audited, checked) and queue the
                              apply that brings production from its head to the new one
    (hotfix/inspect ID 'FORM) ask production a read-only question; the answer shows in hotfix/show
    (hotfix/reject ID)        close the report (and cancel an apply not sent yet)
    (hotfix/token!)           a new token for production: only its SHA-256 is kept

Reading is group `reflect`; everything that changes the world is `image` (and proposing,
which pays for a model call, also needs `companion`).
The hub (world/hotfix/hub.py) fills the store and sends what `accept` queues.
"""
from __future__ import annotations

import time
from typing import Any

from ..lisp import budget
from ..lisp.errors import EvalError, LispTypeError
from ..lisp.primitives import primitive
from ..lisp.reader import read_spans
from ..lisp.types import Keyword, LispMap, make_list
from ..objects.image import iso
from ..objects.prims import _world, as_map
from . import propose as hp
from . import store as hs

MODEL_SETTING = "hotfix.model"      # else evolution's model setting, else its default
OPEN = ("pending", "proposed", "accepted", "sent", "failed")
BASE_STEPS = 100


def _store(who: str, w: Any) -> hs.HotfixStore:
    st = hs.store_of(w.image.root)
    if st is None:
        raise EvalError(f"{who}: no report has come from production yet (start the hub: "
                        f"world hub --world PATH --listen HOST:PORT --tls DIR)")
    return st


def _report(who: str, st: hs.HotfixStore, key: Any) -> hs.Report:
    if type(key) not in (int, str):
        raise LispTypeError(f"{who}: expected a report id (a number, as hotfix/pending lists)")
    r = st.find(key)
    if r is None:
        raise EvalError(f"{who}: no report {key}: (hotfix/pending) lists them")
    return r


def _summary(r: hs.Report) -> LispMap:
    d = r.summary()
    d["when"] = iso(d["when"])
    return as_map(d)


def _dev(w: Any, name: str) -> dict[str, Any]:
    """What development knows of `name`: its source now, its recent history, its checks."""
    from ..history.record import history_of
    hist = history_of(w)
    d = w.names.defs.get(name) or w.names.macros.get(name)
    history = [] if hist is None else [(c.id, c.kind, c.typed) for c in
                                       hist.versions(name)[:hp.HISTORY]]
    return {"source": getattr(d, "source", None) or "", "history": history,
            "checks": [src for _, src in hs.checks_for(w.image.root, [name])]}


# ---------------------------------------------------------------- reading

@primitive("hotfix/pending", group="reflect")
def hotfix_pending(*opts: Any) -> Any:
    """(hotfix/pending [:all]) -> the reports from production still open (every one with :all),
    oldest first, each {:id :uuid :when :message :image :head :status}."""
    every = False
    for o in opts:
        if type(o) is not Keyword or o.name != "all":
            raise LispTypeError("hotfix/pending: the only option is :all")
        every = True
    st = hs.store_of(_world("hotfix/pending").image.root)
    if st is None:
        return None
    rows = [r for r in st.reports.values() if every or r.status in OPEN]
    budget.charge(len(rows))
    return make_list([_summary(r) for r in rows])


@primitive("hotfix/show", group="reflect")
def hotfix_show(key: Any) -> LispMap:
    """(hotfix/show ID) -> the whole report: backtrace, definitions with their commit hashes and
    development history and checks, the proposal and its diff, the outcome."""
    from ..history.record import history_of
    w = _world("hotfix/show")
    r = _report("hotfix/show", _store("hotfix/show", w), key)
    hist = history_of(w)
    defs = []
    for name, source, state, commit in r.definitions:
        dev = _dev(w, name)
        known = hist is not None and len(commit) == 64 and hist.find(commit) is not None
        defs.append(as_map({
            "name": name, "source": source, "state": state, "commit": commit,
            "in-development": known, "development-source": dev["source"],
            "history": make_list([as_map({"id": i, "kind": k, "source": s})
                                  for i, k, s in dev["history"]]),
            "checks": make_list(dev["checks"])}))
    d = r.summary()
    d["when"] = iso(d["when"])
    d.update({"key": r.key, "backtrace": make_list(list(r.backtrace)),
              "definitions": make_list(defs), "proposal": r.proposal or None,
              "diff": r.diff or None, "model": r.model or None, "cost": r.cost,
              "result": r.result or None})
    st = hs.store_of(w.image.root)
    a = st.outbox.get(r.apply) if r.apply else None
    if a is not None:
        d["apply"] = as_map({"id": a.number, "status": a.status, "target": a.target,
                             "result": a.result or None})
    d["inspections"] = make_list([as_map(i.as_dict()) for i in st.inspections(r.number)])
    budget.charge(BASE_STEPS + sum(len(x) for x in r.backtrace) // 64)
    return as_map(d)


# ---------------------------------------------------------------- proposing

@primitive("hotfix/propose", group="image")
def hotfix_propose(key: Any) -> str:
    """(hotfix/propose ID) asks the model for a fix from the backtrace, the definitions' history
    and checks; stores it and returns it as a diff. It is never applied by itself."""
    from ..evolve.model import DEFAULT_MODEL, MODEL_SETTING as EVOLVE_MODEL
    from ..lisp.errors import SandboxError
    from ..lisp.primitives import GROUPS
    who = "hotfix/propose"
    if not GROUPS.get("companion", set()) <= budget.current().ns["_env"].granted:
        raise SandboxError(f"{who}: asking the model costs money: only a session granted the "
                           f"companion capability may")
    w = _world(who)
    r = _report(who, _store(who, w), key)
    if r.status in ("sent", "applied", "rejected"):
        raise EvalError(f"{who}: report {r.number} is {r.status}: there is nothing to propose")
    if not r.names:
        raise EvalError(f"{who}: report {r.number} names no definition to fix")
    dev = {name: _dev(w, name) for name in r.names}
    text = hp.prompt(r, dev)
    budget.charge(BASE_STEPS + len(text) // 64)
    settings = w.image.root.settings
    model = settings.get(MODEL_SETTING) or settings.get(EVOLVE_MODEL) or DEFAULT_MODEL
    m = budget.running()
    seconds = max(1.0, m.deadline - time.monotonic()) if m is not None else 60.0
    reply = hp.ask(str(model), hp.SYSTEM, text, seconds)
    budget.charge(len(reply.text) // 64)
    budget.alloc(2 * len(reply.text))
    current = {name: info["source"] for name, info in dev.items()}
    p = hp.proposal(reply.text, r.names, current, reply.model, reply.cost)
    r.proposal, r.proposal_names, r.diff, r.model = p.text, p.names, p.diff, p.model
    r.cost = r.cost + p.cost
    r.mark("proposed", f"{p.model} proposed redefining {', '.join(p.names)}: "
                       f"(hotfix/accept {r.number}) commits and sends it")
    return p.diff


# ---------------------------------------------------------------- accepting

@primitive("hotfix/accept", group="image")
def hotfix_accept(key: Any) -> LispMap:
    """(hotfix/accept ID) commits the proposal in development (audited; its names' checks must
    pass) and queues the apply the hub sends production; returns {:id :apply :status :note}."""
    from ..audit.checks import run_checks
    from ..history.record import history_of, run_top
    who = "hotfix/accept"
    w = _world(who)
    st = _store(who, w)
    r = _report(who, st, key)
    if not r.proposal:
        raise EvalError(f"{who}: report {r.number} has no proposal: (hotfix/propose "
                        f"{r.number}) asks for one")
    if r.status not in ("proposed", "failed"):
        raise EvalError(f"{who}: report {r.number} is {r.status}")
    hist = history_of(w)
    if hist is None:
        raise EvalError(f"{who}: this is a production image: fixes are made in development")
    source = f"<hotfix {r.number}>"
    limits = budget.within(w.limits)
    before = set(w.names.touched)
    for form, a, b in read_spans(r.proposal, source):
        prepare = getattr(w.env, "prepare", None)
        if prepare is not None:
            prepare(form)                   # bind the stored names the fix mentions
        run_top(w, form, r.proposal[a:b], source, limits)
    # A definition's value expression runs now: it must not change any other name.
    others = sorted(set(w.names.touched) - before - set(r.proposal_names))
    if others:
        raise EvalError(f"{who}: refused, nothing was committed: evaluating the fix changed "
                        f"{', '.join(others[:5])}, which it does not redefine")
    hist.link()                             # the fix's commits are in the chain: its head moves
    audit = getattr(w.image.root, "audit", None)
    checks = audit.against(r.proposal_names) if audit is not None else []
    for o in run_checks(w, {c.number: c for c in checks}).failed:
        got = f"error: {o.error}" if o.error is not None else f"got {o.actual!r}"
        raise EvalError(f"{who}: refused, nothing was committed: check {o.number} fails with "
                        f"the fix: {o.expr_src} should be {o.expected_src}, {got}")
    target = hist.head
    base = st.head_of(r.image) or r.head
    try:
        hs.commits_between(hist, base, target)
    except ValueError as e:
        raise EvalError(f"{who}: {e}") from None
    a = st.queue(r, target, r.proposal_names)
    return as_map({"id": r.number, "apply": a.number, "status": a.status, "note": r.result})


@primitive("hotfix/inspect", group="image")
def hotfix_inspect(key: Any, form: Any) -> LispMap:
    """(hotfix/inspect ID 'FORM) queues a read-only form for report ID's production image
    (run there under core and (prod/names) (prod/source 'f) (prod/value 'f) (prod/state 'f));
    the hub sends it, and (hotfix/show ID) lists the answer under :inspections."""
    from ..peer.message import canonical
    from ..lisp.errors import MessageError
    who = "hotfix/inspect"
    w = _world(who)
    st = _store(who, w)
    r = _report(who, st, key)
    try:
        text = canonical(form)
    except MessageError as e:
        raise LispTypeError(f"{who}: {e.message}") from None
    budget.charge(BASE_STEPS + len(text) // 64)
    if len(text) > hs.TEXT:
        raise LispTypeError(f"{who}: the form is {len(text)} characters; at most {hs.TEXT}")
    i = st.ask(r, text)
    note = ("the hub sends it over the open channel" if st.channel_open(r.image) else
            f"no channel is open: sent when production {r.image[:12]} next connects")
    return as_map({"id": r.number, "inspect": i.number, "status": i.status, "note": note})


@primitive("hotfix/reject", group="image")
def hotfix_reject(key: Any) -> LispMap:
    """(hotfix/reject ID) closes a report (cancelling an apply not sent yet)."""
    who = "hotfix/reject"
    w = _world(who)
    st = _store(who, w)
    r = _report(who, st, key)
    if r.status in ("sent", "applied", "rejected"):
        raise EvalError(f"{who}: report {r.number} is {r.status} already")
    a = st.outbox.get(r.apply) if r.apply else None
    if a is not None and a.status == "queued":
        st.set_status(a, "cancelled")
        a.result = "the report was rejected before it was sent"
    r.mark("rejected", "rejected in development")
    return _summary(r)


@primitive("hotfix/token!", group="image")
def hotfix_token() -> str:
    """(hotfix/token!) makes a new random token, keeps only its SHA-256 (replacing any) and
    returns the token, once: put it in production's --token-file. It is never typed, so no
    transaction note or REPL history holds it."""
    import secrets
    token = secrets.token_urlsafe(32)
    hs.ensure(_world("hotfix/token!").image.root).set_token(token)
    return token


__all__ = ["hotfix_accept", "hotfix_inspect", "hotfix_pending", "hotfix_propose",
           "hotfix_reject", "hotfix_show", "hotfix_token"]
