"""The companion's Lisp forms (capability group `companion`, granted to the owner only).

- `(explain 'name)` -> the model's explanation of a definition (source, docstring,
  history, callers and checks as context), a string; streamed into an attached REPL.
- `(document! 'name)` -> a proposal: the definition with the model's docstring in it,
  pending until accepted.
- `(suggest 'name)` -> a proposal of a simpler or faster version that passed the audit
  and the name's recorded checks in a sandboxed copy (at most ATTEMPTS model calls), or a
  map saying why none was offered.
- `(companion/accept)` commits the pending proposal as an ordinary top-level definition
  (only as a top-level form of its own); `(companion/reject)` drops it;
  `(companion/pending)` shows it.
- `(companion/ask "question")`, `(companion/usage)`, `(companion/set-model! "name")`.
"""
from __future__ import annotations

from typing import Any

from ..lisp.errors import LispTypeError
from ..lisp.primitives import primitive
from ..lisp.reader import read, read_spans
from ..lisp.types import VOID, Keyword, LispMap, Pair, Symbol, make_list
from ..objects.prims import _world, as_map
from . import calls, context, live, prompts, proposals, trial, usage
from .calls import CompanionError

ATTEMPTS = 2            # model calls `suggest` makes before giving up
ACCEPT = Symbol("companion/accept")


def _name(who: str, x: Any) -> str:
    if type(x) is Symbol:
        return x.name
    raise LispTypeError(f"{who}: expected a quoted name, as in ({who} 'name)")


def _streamed(w: Any, who: str, asked: str, system: str, prompt: str) -> str:
    """Ask the model, streaming into the world's REPL if one is attached; the answer's text."""
    sink = live.sink_of(w)
    reply = calls.call(w, who, asked, system, prompt, sink.text if sink is not None else None)
    text = reply.text.strip()
    if sink is not None:
        sink.end(calls.spent(reply))
        live.shown(w, text)
    return text


def _proposal_map(p: proposals.Proposal) -> LispMap:
    return as_map({"name": Symbol(p.name), "kind": Keyword(p.kind), "offered": True,
                   "redefinition": p.new, "diff": p.diff, "note": p.note})


def _offer(w: Any, p: proposals.Proposal, note: str) -> LispMap:
    proposals.offer(w, p)
    value = _proposal_map(p)
    sink = live.sink_of(w)
    if sink is not None:
        sink.proposal(p, note)
        live.shown(w, value)
    return value


@primitive("explain", group="companion")
def explain(name: Any) -> str:
    """(explain 'name) -> the model's explanation of a definition, from its source, docstring,
    history, callers and checks (streamed into the REPL as it arrives)."""
    w = _world("explain")
    n = _name("explain", name)
    subject = context.subject(w, n, "explain")
    return _streamed(w, "explain", n, prompts.EXPLAIN, prompts.explain(subject.text()))


@primitive("document!", group="companion")
def document(name: Any) -> LispMap:
    """(document! 'name) -> a proposal: name's definition with a docstring the model wrote,
    shown as a diff; ,yes or (companion/accept) commits it, ,no or (companion/reject) drops it."""
    w = _world("document!")
    n = _name("document!", name)
    d = context.definition(w, n, "document!")
    source = context.source_of(w, n, d)
    if proposals._body_at(read(d.source)) is None:
        raise CompanionError(f"document!: {n} is not a procedure or macro definition: "
                             f"it has no place for a docstring")
    subject = context.subject(w, n, "document!")
    reply = calls.call(w, "document!", n, prompts.DOCUMENT, prompts.document(subject.text()))
    try:
        doc = proposals.clean_doc(reply.text)
        new = proposals.documented(source, n, doc)
    except proposals.Unfit as e:
        raise CompanionError(f"document!: {e}") from None
    p = proposals.Proposal("document", n, source.strip() + "\n", new.strip() + "\n", doc)
    return _offer(w, p, calls.spent(reply))


@primitive("suggest", group="companion")
def suggest(name: Any) -> LispMap:
    """(suggest 'name) -> a proposal of a simpler or faster version of name that passed the
    audit and name's recorded checks in a sandboxed copy, or {:offered #f :why "..."}."""
    w = _world("suggest")
    n = _name("suggest", name)
    d = context.definition(w, n, "suggest")
    source = context.source_of(w, n, d)
    original = read(d.source)
    subject = context.subject(w, n, "suggest")
    why, spent = "", []
    known = _Known(w)
    sink = live.sink_of(w)
    for attempt in range(1, ATTEMPTS + 1):
        if why and sink is not None:
            sink.refused(f"suggest: candidate {attempt - 1} refused: {why}; asking again")
        reply = calls.call(w, "suggest", n, prompts.SUGGEST, prompts.suggest(subject.text(), why))
        spent.append(reply)
        try:
            form, text = proposals.candidate(reply.text, n, original, known)
        except proposals.Unfit as e:
            why = str(e)
            continue
        refused, ran = trial.judge(w, n, form, text, d.kind)
        if refused is None:
            checked = f"passed {ran} recorded check{'s' if ran != 1 else ''}" if ran \
                else f"no checks are recorded against {n}: (check expected expr) adds one"
            note = _after_code(reply.text)
            p = proposals.Proposal("suggest", n, source.strip() + "\n", text, note)
            return _offer(w, p, f"{checked} and the audit; " + calls.spent(*spent))
        why = refused
    line = f"suggest: no candidate offered for {n}: {why} ({calls.spent(*spent)})"
    value = as_map({"name": Symbol(n), "kind": Keyword("suggest"), "offered": False, "why": why})
    if sink is not None:
        sink.refused(line)
        live.shown(w, value)
    return value


class _Known:
    """Membership in the world's own definitions."""

    def __init__(self, w: Any) -> None:
        self.defs, self.macros = w.names.defs, w.names.macros

    def __contains__(self, name: object) -> bool:
        return name in self.defs or name in self.macros


def _after_code(reply: str) -> str:
    """The model's line after its code block: what it says is better."""
    tail = reply.rsplit("```", 1)[-1].strip() if "```" in reply else ""
    return tail.splitlines()[0][:200] if tail else ""


@primitive("companion/accept", group="companion")
def companion_accept() -> Any:
    """(companion/accept) commits the pending proposal, as if its redefinition were typed
    here (audited, checked, recorded in history); only as a top-level form of its own."""
    w = _world("companion/accept")
    top = w.current_form
    if top is None or type(top[0]) is not Pair or top[0].car is not ACCEPT or top[0].cdr is not None:
        raise CompanionError("companion/accept: only as a top-level form of its own: (companion/accept)")
    p = proposals.pending(w)
    if p is None:
        raise CompanionError("companion/accept: no proposal is pending "
                             "(document! or suggest makes one)")
    _still_current(w, p)
    proposals.take(w)
    spans = read_spans(p.new, "<companion>")
    if len(spans) != 1:             # never more than the one definition
        raise CompanionError("companion/accept: the proposal is not one form; it was dropped")
    form = spans[0][0]
    w.current_form = (form, p.new)      # history records the redefinition, not this call
    try:
        w.eval_form(form, source="<companion>")
    finally:
        w.current_form = top
    return Symbol(p.name)


def _still_current(w: Any, p: proposals.Proposal) -> None:
    """Refuse a proposal made for a definition that has changed since."""
    d = w.names.defs.get(p.name) or w.names.macros.get(p.name)
    now = context.source_of(w, p.name, d).strip() + "\n" if d is not None and d.source else ""
    if now != p.old:
        proposals.take(w)
        raise CompanionError(f"{p.name} changed since the proposal was made; it was dropped: "
                             f"ask again")


@primitive("companion/reject", group="companion")
def companion_reject() -> bool:
    """(companion/reject) drops the pending proposal; #t if there was one."""
    return proposals.take(_world("companion/reject")) is not None


@primitive("companion/pending", group="companion")
def companion_pending() -> Any:
    """(companion/pending) -> the pending proposal as a map, or #f."""
    p = proposals.pending(_world("companion/pending"))
    return _proposal_map(p) if p is not None else False


@primitive("companion/ask", group="companion")
def companion_ask(question: Any) -> str:
    """(companion/ask "question") -> the model's answer, with the definitions the question
    names (and the nearest names) as context; what the REPL's ,ask does."""
    if type(question) is not str or not question.strip():
        raise LispTypeError('companion/ask: expected a question (a string)')
    w = _world("companion/ask")
    _, block = context.question(w, question)
    return _streamed(w, "ask", question, prompts.ASK, prompts.ask(block, question))


@primitive("companion/usage", group="companion")
def companion_usage(recent: Any = 5) -> LispMap:
    """(companion/usage [n]) -> {:model :calls :tokens-in :tokens-out :dollars :recent}: what
    the companion's calls have cost this world (dollars estimated), with the last n calls."""
    if type(recent) is not int or recent < 0:
        raise LispTypeError("companion/usage: the count of recent calls must be 0 or more")
    w = _world("companion/usage")
    log = usage.find(w.image.root)
    totals = log.totals() if log is not None else {"calls": 0, "tokens-in": 0, "tokens-out": 0,
                                                    "dollars": 0.0}
    rows = log.recent(min(recent, 100)) if log is not None else []
    recent_list = make_list([as_map(dict(r, what=Symbol(r["what"]))) for r in rows])
    return LispMap(list(as_map(totals).items())
                   + [(Keyword("model"), calls.model_name(w.image.root)),
                      (Keyword("recent"), recent_list)])      # () when none, not #f


@primitive("companion/set-model!", group="companion")
def companion_set_model(name: Any) -> Any:
    """(companion/set-model! "claude-...") sets the model the companion asks in this world;
    #f goes back to the default (WORLD_MODEL, when set, wins over both)."""
    w = _world("companion/set-model!")
    if name is False:
        w.image.root.settings.pop(calls.SETTING, None)
    elif type(name) is str and name.strip() and len(name) <= 200:
        w.image.root.settings[calls.SETTING] = name.strip()
    else:
        raise LispTypeError('companion/set-model!: expected a model name (a string) or #f')
    return VOID
