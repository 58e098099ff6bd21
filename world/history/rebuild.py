"""Replaying a world's history into a fresh world, checking each step against its record.

From atomic history every atomic commit is replayed, oldest first; from human
history every commit some human commit holds, oldest first (a production
image leaves out rules and `uncheck`s: it keeps no audit objects). Replaying
in the order things happened is what reproduces the world: after
`(define x 1) (define y (+ x 1)) (define x 5)`, y is 2 live and rebuilt.
Consecutive commits with one source and distinct names are one top-level
form that made them all (a `define-record`, a macro making several
definitions, a `define` whose value `set!` another global): one replay.

After each form, each name it made must have the state its commit recorded
(the hash of kind, source, doc and value: see fingerprint.py); a name that
differs is a mismatch naming the definition. A replayed commit keeps the
audit violations its source commit recorded (the rules replayed before it are
the ones that judged it), instead of running every rule again.

This module replays into whatever world `factory` makes over a fresh image
and never opens a session itself: world/build.py, above both, verifies the
source first and passes the factory.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from ..audit.checks import Outcome, run_checks
from ..audit.store import AuditStore
from ..lisp.errors import EvalError, Interrupted, LispError
from ..lisp.reader import read
from ..lisp import budget, watchdog
from ..lisp.runtime import on_big_stack
from ..objects.image import Image
from . import provenance
from .commits import AtomicCommit, History
from .fingerprint import ABSENT
from .record import PRODUCTION, history_of, run_top, state

BATCH = 1000                        # forms replayed in one transaction
RESIZE = 32                         # forms between readings of the process size
Progress = Callable[[int, int], Any]
Factory = Callable[[Image], Any]    # an open image -> a world evaluating forms in it
SKIP_IN_PRODUCTION = ("defrule", "uncheck")     # a production image keeps no audit objects
SOURCED = ("define", "defmacro", "define-record")    # kinds whose definition keeps the form's source


@dataclass
class Form:
    """One top-level form to replay and the commits it made."""

    seq: int
    kind: str
    source: str
    typed: str
    commits: list[AtomicCommit]

    @property
    def symbols(self) -> list[str]:
        """The names the form made commits for."""
        return [c.symbol for c in self.commits]


@dataclass
class RebuildReport:
    """What a rebuild did and found."""

    mode: str
    dest: str
    production: bool
    replayed: int = 0
    definitions: int = 0
    mismatches: list[tuple[str, str, str]] = field(default_factory=list)   # symbol, recorded, replayed
    errors: list[tuple[str, str]] = field(default_factory=list)            # symbol, message
    checks: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    size: int = 0
    source_size: int = 0
    forced: tuple[str, ...] = ()            # the source's findings a forced build went over

    @property
    def failed_checks(self) -> list[Outcome]:
        """The checks that failed on the rebuilt world."""
        return [o for o in self.checks if not o.passed]

    @property
    def ok(self) -> bool:
        """Every definition replayed equal to its record and every check passed."""
        return not (self.mismatches or self.errors or self.failed_checks)


# ---------------------------------------------------------------- plans

def forms_of(commits: Iterable[AtomicCommit], skip: tuple[str, ...] = ()) -> list[Form]:
    """The top-level forms that made `commits` (oldest first), one per run of consecutive
    commits with the same source and distinct names."""
    out: list[Form] = []
    last: Form | None = None
    names: set[str] = set()
    for c in commits:
        if c.kind in skip:
            continue
        if last is not None and c.source == last.source and c.symbol not in names:
            last.commits.append(c)
            names.add(c.symbol)
            continue
        last = Form(c.seq, c.kind, c.source, c.typed, [c])
        names = {c.symbol}
        out.append(last)
    return out


def atomic_plan(hist: History) -> list[Form]:
    """Every atomic commit, oldest first, as the forms that made them."""
    return forms_of(hist.atomic())


def human_plan(hist: History, production: bool = False) -> list[Form]:
    """Every commit a human commit holds, oldest first, as the forms that made them."""
    committed = (hist.commits[s] for s in sorted(hist.committed_seqs()))
    return forms_of(committed, SKIP_IN_PRODUCTION if production else ())


# ---------------------------------------------------------------- the fresh world

def fresh(dest: str, production: bool, factory: Factory) -> Any:
    """A new world at `dest` (which must not exist yet) for a rebuild to replay into."""
    if os.path.exists(dest) and os.path.getsize(dest) > 0:
        raise EvalError(f"{dest} already exists: give a new path for the rebuilt image")
    image = Image.open(dest)
    try:
        image.begin()
        root = image.root
        if production:
            root.settings[PRODUCTION] = True
        else:
            root.history = History()
            root.history.seeded = True        # the replayed history brings its own rules
            root.audit = AuditStore()
        image.commit("world: rebuild target")
        return factory(image)
    except BaseException:
        image.close()
        raise


class _Replayer:
    """Replays forms into a fresh world, checking each against its commits."""

    def __init__(self, w: Any, production: bool, report: RebuildReport) -> None:
        self.w, self.production, self.report = w, production, report
        self.hist = None if production else history_of(w)
        self.mapping: dict[int, int] = {}          # source seq -> rebuilt seq
        self.added: list[int] = []
        self.replayed = 0

    def _replay(self, f: Form, found: list[tuple[str, str, str]]) -> None:
        w = self.w
        if self.production and f.kind == "undefine" and all(
                s not in w.names.defs and s not in w.names.macros for s in f.symbols):
            return                      # undefining a rule, which a production image never had
        before = self.hist.count if self.hist is not None else 0
        w.replayed_violations = {c.symbol: c.violations for c in f.commits}
        try:
            run_top(w, read(f.source), f.typed)
        finally:
            w.replayed_violations = None
        self.replayed += 1
        self.verify(f, before, found)

    def batch(self, forms: list[Form]) -> None:
        """Replay `forms` in one transaction; if that fails, one transaction each."""
        found: list[tuple[str, str, str]] = []
        self.replayed, self.added = 0, []   # mapped in this transaction: forgotten if it rolls back
        try:
            self.w._transact(lambda out: on_big_stack(lambda: self._watched(forms, found)),
                             "world: rebuild")
        except Interrupted:
            raise
        except LispError:
            found, self.replayed = [], 0
            self.forget(0)
            for f in forms:
                mark, replayed = len(found), self.replayed
                try:
                    self.w._transact(lambda out: self._replay(f, found), "world: rebuild")
                except Interrupted:
                    raise
                except LispError as e:
                    del found[mark:]
                    self.forget(0)
                    self.replayed = replayed
                    self.report.errors.append((" ".join(f.symbols), str(e)))
                self.added = []
        self.report.mismatches += found
        self.report.replayed += self.replayed

    def _watched(self, forms: list[Form], found: list[tuple[str, str, str]]) -> None:
        """Replay `forms` under one watch: each form arming its own would wake the watchdog
        thread and read the process size once per form (a sixth of a long rebuild). Each form
        keeps its own budget; the memory backstop measures growth from at most RESIZE forms
        back (a form it stops wrongly is replayed again on its own, under its own watch)."""
        watch = watchdog.arm()
        try:
            for i, f in enumerate(forms):
                if watch is not None and i and i % RESIZE == 0:
                    watch.rss0 = watchdog.rss()
                self._replay(f, found)
        except watchdog.Stop:       # a stop that landed between two forms: the one it was for
            raise watchdog.error_for(budget.CURRENT) from None
        finally:
            watchdog.disarm(watch)

    def forget(self, mark: int) -> None:
        """Drop what was mapped since `mark` in `self.added` (its transaction rolled back)."""
        for seq in self.added[mark:]:
            self.mapping.pop(seq, None)
        del self.added[mark:]

    def verify(self, f: Form, before: int, found: list[tuple[str, str, str]]) -> None:
        """Compare each name `f` made with the state (or, before states were kept, the
        source) its commit recorded."""
        hist = self.hist
        for c in f.commits:
            sym = c.symbol
            mine = hist.latest(sym) if hist is not None else None
            if mine is not None and mine.seq > before:
                self.mapping[c.seq] = mine.seq
                self.added.append(c.seq)
                now = mine.state            # taken when the replay recorded it, as the source's was
            else:
                now = None
            if c.state is None:             # a commit older than states: its source must match
                if c.kind in SOURCED and not self.made_by(sym, c.source, mine):
                    found.append((sym, f"commit {c.seq} ({c.id})", "a different definition"))
                continue
            if now is None:
                now = state(self.w, sym)
            if now != c.state:
                got = "no definition" if now == ABSENT else "a different definition"
                found.append((sym, f"commit {c.seq} ({c.id})", got))

    def made_by(self, sym: str, source: str, mine: Any) -> bool:
        """Whether `sym`'s live definition (or macro) was made by `source`: its newest commit
        in the rebuilt history says so, or (in a production image) its definition does."""
        if self.hist is not None:
            return mine is not None and mine.source == source
        names = self.w.names
        return any(d is not None and d.source == source
                   for d in (names.defs.get(sym), names.macros.get(sym)))


def _regroup(src: History, w: Any, mapping: dict[int, int]) -> None:
    """Make human commits in the rebuilt world like the source's."""
    hist = history_of(w)

    def work(out: Any) -> None:
        pending = set(hist.pending)
        for h in src.humans.values():
            seqs = sorted({mapping[s] for s in h.seqs if s in mapping} & pending)
            if seqs:
                hist.group(h.message, h.author, seqs)
                pending.difference_update(seqs)
    w._transact(work, "world: rebuild human commits")


def _dry(w: Any, fn: Callable[[], Any]) -> Any:
    """Run `fn` in a transaction of `w` that is then rolled back."""
    w.image.begin()
    w.names.refresh()
    w._active = True
    try:
        return fn()
    finally:
        w._active = False
        w.image.abort()
        w.names.rollback()


def expected(plan: list[Form]) -> dict[str, str]:
    """Each name -> the state its newest commit in `plan` recorded (where one was kept)."""
    out: dict[str, str] = {}
    for f in plan:
        for c in f.commits:
            if c.state is not None:
                out[c.symbol] = c.state
            else:
                out.pop(c.symbol, None)
    return out


def manifest(w: Any, plan: list[Form], report: RebuildReport) -> dict[str, str]:
    """Each live name of the rebuilt world -> its state; a name whose state is not the one its
    newest commit recorded (or that should be live and is not) is a mismatch."""
    names = w.names
    live = {n: state(w, n) for n in set(names.defs.keys()) | set(names.macros.keys())}
    seen = {m[0] for m in report.mismatches} | {n for e in report.errors for n in e[0].split()}
    for sym, want in expected(plan).items():
        if sym not in seen and live.get(sym, ABSENT) != want:
            got = "no definition" if sym not in live else "a different definition"
            report.mismatches.append((sym, "its newest commit", got))
    return live


def replay(source: Any, dest: str, mode: str, production: bool, factory: Factory,
           progress: Progress | None = None, forced: tuple[str, ...] = ()) -> RebuildReport:
    """Replay `source`'s history (atomic or human) into a new image at `dest` through a world
    `factory` makes; record in it where it came from (see provenance.py). The caller has
    verified the source (or was told to go on regardless: `forced`, the findings)."""
    if mode not in ("atomic", "human"):
        raise EvalError(f"rebuild: unknown history {mode!r}: expected atomic or human")
    hist = history_of(source)
    if hist is None:
        raise EvalError("rebuild: the source is a production image: it keeps no history")
    try:
        plan = atomic_plan(hist) if mode == "atomic" else human_plan(hist, production)
    except Exception as e:          # a damaged record, met even when the build is forced
        why = str(e).splitlines()[0] if str(e) else ""
        raise EvalError(f"rebuild: the history cannot be read, so it cannot be replayed: "
                        f"{type(e).__name__}{': ' + why if why else ''}") from None
    report = RebuildReport(mode, dest, production, source_size=source.image.size(), forced=forced)
    report.definitions = len({s for f in plan for s in f.symbols})
    w = fresh(dest, production, factory)
    try:
        r = _Replayer(w, production, report)
        for i in range(0, len(plan), BATCH):
            r.batch(plan[i:i + BATCH])
            if progress is not None:
                progress(min(i + BATCH, len(plan)), len(plan))
        store = getattr(source.image.root, "audit", None)
        if not production:
            _regroup(hist, w, r.mapping)

        def finish(out: Any) -> None:
            live = manifest(w, plan, report) if production else None
            provenance.stamp(w.image.root, hist, forced, live)
            if not production and store is not None and len(store.checks):
                dstore = w.image.root.audit
                for c in store.checks.values():
                    dstore.add_check(c.expected, c.expr, c.names)
        w._transact(finish, "world: rebuild provenance and checks")
        if store is not None and len(store.checks):
            report.checks = _dry(w, lambda: run_checks(w, store.checks).outcomes)
        if production:
            w.pack()
        report.size = w.image.size()
    finally:
        w.close()
    return report
