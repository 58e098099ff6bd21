"""Recording history: one atomic commit per change to a definition, made in
the same transaction as the change, and human commits that group them.

`record` is the one entry point every kind of change goes through (define,
defmacro, define-record, defrule, undefine, and the evaluator changes other
modules record themselves). `attach` hooks it into a world's environment and
gives a new world its history, audit store and default rules.
"""
from __future__ import annotations

import getpass
import os
import random
import time
from typing import Any, Callable, Iterable

from ZODB.POSException import ConflictError

from ..audit import rules as audit_rules
from ..audit.metrics import as_lisp, measure
from ..audit.store import AuditStore
from ..lisp.budget import DEFAULT_LIMITS, uncharged
from ..lisp.errors import EvalError, LispError
from ..lisp.printer import write
from ..lisp.reader import read, read_spans
from ..lisp.runtime import on_big_stack, run
from ..lisp.types import Symbol, make_list
from .commits import AtomicCommit, History, HumanCommit
from .fingerprint import state_of

DEFAULT_RULES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "audit",
                             "default-rules.lisp")
TOLERANCE = "audit-tolerance"      # settings key: most warnings+errors a definition may have
PRODUCTION = "production"          # settings key: this image carries no history
SEED_MESSAGE = "world: default audit rules"


class AuditRefused(EvalError):
    """A definition has more audit violations than the world tolerates."""

    kind = "audit"


class PendingCommits(EvalError):
    """An operation that needs every atomic commit grouped found some pending."""

    kind = "pending commits"


def history_of(world: Any) -> History | None:
    """The world's history (None in a production image)."""
    return getattr(world.image.root, "history", None)


def audit_of(world: Any) -> AuditStore | None:
    """The world's audit store (None in a production image)."""
    return getattr(world.image.root, "audit", None)


class _Defined:
    """Membership in the world's own definitions, without copying the names."""

    def __init__(self, world: Any) -> None:
        self.defs, self.macros = world.names.defs, world.names.macros
        self.rules = audit_of(world).rules if audit_of(world) is not None else {}

    def __contains__(self, name: object) -> bool:
        return name in self.defs or name in self.macros or name in self.rules


def source_text(world: Any, form: Any) -> str:
    """The canonical source of a change made by `form` while the current top-level form runs.

    A definition made by a macro call or inside another top-level form is
    recorded as that top-level form: replaying it is what remakes the definition.
    """
    top = getattr(world, "current_form", None)
    if top is not None and top[0] is not None and form is not top[0]:
        return write(top[0])
    return write(form)


def typed_text(world: Any, source: str) -> str:
    """The current top-level form as typed, comments kept (else the canonical source)."""
    top = getattr(world, "current_form", None)
    return top[1] if top is not None and top[1] else source


def audit(world: Any, form: Any, symbol: str, kind: str) -> list[tuple[str, str, str, str]]:
    """The violations the world's rules find in a definition (while a rebuild replays a
    verified commit, the ones its source recorded: the same rules judged the same form)."""
    known = getattr(world, "replayed_violations", None)
    if known is not None and symbol in known:
        return list(known[symbol])
    store = audit_of(world)
    if store is None or not len(store.rules):
        return []
    metrics = as_lisp(measure(form, symbol, kind, _Defined(world)))
    return [v.as_tuple() for v in audit_rules.run_rules(store.rules, metrics, world.env)]


def state(world: Any, symbol: str) -> str:
    """The hash of `symbol`'s live definition and macro (see fingerprint.py)."""
    with uncharged():       # bounded bookkeeping (fingerprint.CAP), not the program's work
        return state_of(world.names.defs.get(symbol), world.names.macros.get(symbol))


def record(world: Any, kind: str, symbol: str, form: Any, typed: str | None = None,
           doc: str | None = None, source: str | None = None) -> AtomicCommit | None:
    """Record one change to `symbol` as an atomic commit, in the current transaction.

    Any module that changes a definition calls this (for example with kind
    `extend-eval`), from a primitive running inside a top-level form or from
    Python inside `world._change(...)`. `form` is the change as Lisp data;
    `source` overrides its canonical text. Returns the commit, or None when the
    world keeps no history or the source is identical to the symbol's latest
    version. Raises AuditRefused if a tolerance is set and exceeded. The commit keeps
    the hash of the definition as it is now, which `verify` compares with the live one.
    """
    hist = history_of(world)
    if hist is None:
        return None
    source = source if source is not None else source_text(world, form)
    latest = hist.latest(symbol)
    now = state(world, symbol)
    if latest is not None and latest.source == source and latest.kind == kind and latest.state == now:
        return None
    violations = audit(world, form, symbol, kind) if kind != "undefine" else []
    limit = world.image.root.settings.get(TOLERANCE)
    if limit is not None and audit_rules.counted(violations) > limit:
        names = ", ".join(v[0] for v in violations if v[1] != audit_rules.BROKEN)
        raise AuditRefused(f"{symbol}: {audit_rules.counted(violations)} audit violations "
                           f"({names}) exceed the tolerance of {limit}")
    typed = typed if typed is not None else typed_text(world, source)
    if getattr(world, "defer_chain", False):        # contended: see commits.Inbox
        if not world.linking:
            world.linking = True
            world._after_commit.append(lambda: link_later(world))
        return hist.draft(kind, symbol, source, typed, doc, tuple(violations), now)
    hist.link()                 # what waits in the inbox comes first
    return hist.add(kind, symbol, source, typed, doc, tuple(violations), now)


LINK_TRIES = 50


def link_later(world: Any) -> None:
    """After a form that drafted its commits committed: link the inbox in a transaction of
    its own. It conflicts only with other sessions linking; every such conflict means one of
    them linked, so giving up is safe: whatever is left, the next commit or opening links."""
    world.linking = False
    for attempt in range(LINK_TRIES):
        world.image.begin()
        try:
            hist = history_of(world)
            n = hist.link() if hist is not None else 0
            if not n:
                world.image.abort()
                return
            world.image.commit(f"world: link {n} changes into history")
            return
        except ConflictError:
            world.image.abort()
            time.sleep(random.uniform(0, min(0.2, 0.005 * 2 ** attempt)))
        except Exception:
            world.image.abort()          # a lost server, a full disk: the next commit links
            return


def record_restore(world: Any) -> int:
    """After a snapshot was restored: one commit per definition it changed or removed, so
    history still describes the world (and rebuilding it remakes the restored one)."""
    hist = history_of(world)
    if hist is None:
        return 0
    made = 0
    rules = audit_of(world).rules if audit_of(world) is not None else {}
    for tree in (world.names.defs, world.names.macros):
        for name, d in tree.items():
            if d.source is None:
                continue                    # a value with no defining form to replay
            try:
                form = read(d.source)
            except LispError:
                continue
            if record(world, d.kind, name, form, d.source, d.doc, source=d.source) is not None:
                made += 1
    for name in list(hist.by_symbol.keys()):
        latest = hist.latest(name)
        if latest is None or latest.kind in ("undefine", "defrule") or name in rules:
            continue
        if name not in world.names.defs and name not in world.names.macros:
            source = write(make_list([Symbol("undefine"), make_list([Symbol("quote"), Symbol(name)])]))
            record(world, "undefine", name, None, source, None, source=source)
            made += 1
    return made


def hook(world: Any) -> Callable[[Symbol, Any, Any, str, "str | None"], None]:
    """The environment hook recording every top-level define and defmacro of `world`."""
    def on_define(sym: Symbol, value: Any, form: Any, kind: str, doc: str | None) -> None:
        if kind == "set!":          # recorded once per form, with its final value: see record_sets
            world.sets_in_form[sym.name] = None
            return
        source = None
        top = world.current_form
        if top is None or form is top[0]:          # the namespace has just written the same text
            tree = world.names.macros if kind == "defmacro" else world.names.defs
            d = tree.get(sym.name)
            source = d.source if d is not None else None
        record(world, kind, sym.name, form, None, doc, source=source)
    return on_define


def record_sets(world: Any) -> None:
    """Before a form commits: one commit of kind `set` per global it `set!`.

    The source is the top-level form that did it: replaying that form is what
    sets the name again (a `(set! n 5)` typed, or an `(inc!)` whose body sets it).
    """
    names = world.sets_in_form
    if not names:
        return
    world.sets_in_form = {}
    top = world.current_form
    for name in names:
        if name not in world.names.defs:
            continue
        if top is not None and top[0] is not None:
            source, typed = write(top[0]), top[1]
        else:           # set by the host's own code: say what it set
            value = world.names.defs[name].value
            source = write(make_list([Symbol("set!"), Symbol(name),
                                      make_list([Symbol("quote"), value])]))
            typed = None
        record(world, "set", name, None, typed, None, source=source)


def author() -> str:
    """The OS user name."""
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


def commit(world: Any, message: str, symbols: Iterable[str] | None = None,
           signer: Callable[[bytes], tuple[str, str]] | None = None) -> HumanCommit:
    """Group the pending atomic commits (or the latest pending one of each of `symbols`),
    signed by `signer` (see world/keys.py) if given."""
    hist = _require(world)
    if not message.strip():
        raise EvalError("commit: the message must not be empty")
    hist.link()                     # changes waiting in the inbox are pending too
    pending = list(hist.pending)
    if symbols is not None:
        wanted = set(symbols)
        latest: dict[str, int] = {}
        for s in pending:
            latest[hist.commits[s].symbol] = s
        missing = sorted(wanted - set(latest))
        if missing:
            raise EvalError(f"commit: nothing pending for {', '.join(missing)}")
        # A record's names (NAME, make-NAME, NAME?, accessors) go together: every name
        # whose latest pending commit is the same define-record form as a wanted one's.
        records = {hist.commits[latest[n]].source for n in wanted
                   if hist.commits[latest[n]].kind == "define-record"}
        pending = sorted({latest[n] for n in wanted} | {
            s for s in latest.values()
            if hist.commits[s].kind == "define-record" and hist.commits[s].source in records})
    if not pending:
        raise EvalError("commit: nothing is pending")
    return hist.group(message, author(), pending, signer)


def pending_symbols(world: Any) -> list[str]:
    """The symbols with pending atomic commits, in order of their first pending commit."""
    hist = history_of(world)
    if hist is None:
        return []
    out: dict[str, None] = {}
    for s in hist.pending:
        out.setdefault(hist.commits[s].symbol, None)
    return list(out)


def refuse_pending(world: Any, what: str) -> None:
    """Raise PendingCommits naming the pending symbols, if there are any."""
    names = pending_symbols(world)
    if names:
        shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
        raise PendingCommits(f"{what}: atomic commits are pending for {shown}: "
                             f"group them with (commit \"message\") first")


def _require(world: Any) -> History:
    hist = history_of(world)
    if hist is None:
        raise EvalError("this is a production image: it keeps no history")
    return hist


# ---------------------------------------------------------------- forms and worlds

def eval_forms(world: Any, text: str, source: str | None = None, limits: Any = None) -> int:
    """Evaluate `text` form by form inside the running transaction, recording history."""
    def each() -> int:
        count = 0
        for form, a, b in read_spans(text, source):
            run_top(world, form, text[a:b], source, limits)
            count += 1
        return count
    return on_big_stack(each)          # one hand-over to the evaluation thread, not one per form


def run_top(world: Any, form: Any, typed: str | None, source: str | None = None,
            limits: Any = None) -> Any:
    """Evaluate one top-level form inside the running transaction, as if typed."""
    saved = getattr(world, "current_form", None)
    world.current_form = (form, typed)
    try:
        value = run(world.env, form, limits or world.limits, source).value
        record_sets(world)          # while this form is still the one that set them
        return value
    finally:
        world.current_form = saved


def attach(world: Any) -> None:
    """Record `world`'s definitions from now on; give a new world its history and rules."""
    from ..audit.prims import install
    install(world.env)
    root = world.image.root
    if root.settings.get(PRODUCTION):
        return
    if history_of(world) is None and not world.image.read_only:
        world._transact(lambda out: _create(world), "world: start history")
    if history_of(world) is None:
        return
    world.history_hook = hook(world)
    world.env.hooks.append(world.history_hook)
    world.before_commit.append(lambda: record_sets(world))
    if not history_of(world).seeded and not world.image.read_only:
        world._transact(lambda out: seed(world), SEED_MESSAGE)
    if history_of(world).drafts() and not world.image.read_only:       # a session died before linking
        link_later(world)


def _create(world: Any) -> None:
    root = world.image.root
    if getattr(root, "audit", None) is None:
        root.audit = AuditStore()
    if getattr(root, "history", None) is None:
        root.history = History()
        adopt(world)


def adopt(world: Any) -> None:
    """Give every definition the world had before it kept history its first commit, so that
    history describes all that is live (a value with no defining form gets a placeholder)."""
    for tree in (world.names.defs, world.names.macros):
        for name, d in tree.items():
            source = d.source
            if source is None:
                source = write(make_list([Symbol("define"), Symbol(name), Symbol("#<no-source>")]))
            record(world, d.kind, name, None, source, d.doc, source=source)


def seed(world: Any) -> None:
    """Load the default audit rules and commit them (inside the running transaction)."""
    hist = history_of(world)
    if hist is None or hist.seeded:
        return
    with open(DEFAULT_RULES, encoding="utf-8") as f, world.env.host_grant(("audit",)):
        # the host's own work, not the session's: it runs under the default budget
        eval_forms(world, f.read(), "default-rules.lisp", DEFAULT_LIMITS)
    if len(hist.pending):
        commit(world, SEED_MESSAGE)
    hist.seeded = True


def detach(world: Any) -> None:
    """Stop recording `world`'s definitions."""
    h = getattr(world, "history_hook", None)
    if h is not None and h in world.env.hooks:
        world.env.hooks.remove(h)
    world.before_commit.clear()
