"""Rebuilding a world from its history into a fresh image.

From atomic history every atomic commit is replayed in order; from human
history only the definitions some human commit holds, each at its latest
committed version, in an order that defines dependencies before their users.
Each replayed definition's canonical source must equal the recorded one.
A production image is rebuilt from human history and keeps no history, no
audit objects and no rules. Recorded checks are run on the rebuilt world.
"""
from __future__ import annotations

import heapq
import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from ..audit.checks import Outcome, run_checks, symbols_in
from ..audit.store import AuditStore
from ..lisp.errors import EvalError, Interrupted, LispError
from ..lisp.reader import read
from ..lisp.runtime import on_big_stack
from ..objects.image import Image
from .commits import History
from .newimage import creating, target
from .views import no_gc
from .record import PRODUCTION, history_of, refuse_pending, run_top, source_text

BATCH = 500                         # forms replayed in one transaction
Progress = Callable[[int, int], Any]


@dataclass
class Item:
    """One form to replay and the recorded commits it stands for."""

    seq: int
    kind: str
    symbols: list[str]
    seqs: list[int]
    source: str
    typed: str


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

    @property
    def failed_checks(self) -> list[Outcome]:
        """The checks that failed on the rebuilt world."""
        return [o for o in self.checks if not o.passed]

    @property
    def ok(self) -> bool:
        """Every definition replayed equal to its record and every check passed."""
        return not (self.mismatches or self.errors or self.failed_checks)


# ---------------------------------------------------------------- plans

def atomic_plan(hist: History) -> list[Item]:
    """Every atomic commit, oldest first."""
    return [Item(c.seq, c.kind, [c.symbol], [c.seq], c.source, c.typed) for c in hist.atomic()]


def human_plan(hist: History, production: bool = False) -> list[Item]:
    """The latest committed version of each definition, dependencies first."""
    committed = [hist.commits[s] for s in sorted(hist.committed_seqs())]
    skip = ("undefine", "defrule") if production else ("undefine",)
    return latest_in_order(committed, skip)


def latest_in_order(commits: list[Any], skip: tuple[str, ...] = ("undefine",)) -> list[Item]:
    """One item per form that made the latest version of a name in `commits` (oldest first),
    ordered so dependencies come first."""
    # an `uncheck` changes a name's checks, not its definition: never its latest version
    latest: dict[str, Any] = {c.symbol: c for c in commits if c.kind != "uncheck"}
    items: dict[str, Item] = {}       # by source: a form that made several definitions is one item
    for sym, c in latest.items():
        if c.kind in skip:
            continue
        it = items.get(c.source)
        if it is None:
            items[c.source] = Item(c.seq, c.kind, [sym], [c.seq], c.source, c.typed)
        else:
            it.symbols.append(sym)
            it.seqs.append(c.seq)
            it.seq = min(it.seq, c.seq)
    plan = list(items.values())
    # A form that once defined a name, kept for the other names it made, comes before the
    # form that made that name's latest version: it may be what the later change builds on.
    index = {it.source: i for i, it in enumerate(plan)}
    owner = {sym: i for i, it in enumerate(plan) for sym in it.symbols}
    earlier: dict[int, set[int]] = {}
    for c in commits:
        i, j = owner.get(c.symbol), index.get(c.source)
        if i is not None and j is not None and i != j and plan[j].seq < plan[i].seq:
            earlier.setdefault(i, set()).add(j)
    return dependency_order(plan, earlier)


def dependency_order(items: list[Item], extra: dict[int, set[int]] | None = None) -> list[Item]:
    """`items` ordered so each comes after the items defining names it uses, and after the
    items `extra` names for it; items that need each other (a cycle) keep their history order."""
    owner = {s: i for i, it in enumerate(items) for s in it.symbols}
    needs: list[set[int]] = []
    for i, it in enumerate(items):
        try:
            used = symbols_in(read(it.source), set())
        except LispError:
            used = set()
        needs.append({owner[s] for s in used if s in owner and owner[s] != i}
                     | (extra or {}).get(i, set()))
    comps = components(needs)
    comp_of = {i: k for k, members in enumerate(comps) for i in members}
    first = [min(items[i].seq for i in members) for members in comps]
    users: dict[int, set[int]] = {}
    left = [0] * len(comps)
    for i, deps in enumerate(needs):
        for d in deps:
            a, b = comp_of[d], comp_of[i]
            if a != b and b not in users.setdefault(a, set()):
                users[a].add(b)
                left[b] += 1
    ready = [(first[k], k) for k in range(len(comps)) if not left[k]]
    heapq.heapify(ready)
    out: list[Item] = []
    while ready:
        _, k = heapq.heappop(ready)
        out += sorted((items[i] for i in comps[k]), key=lambda it: it.seq)
        for u in users.get(k, ()):
            left[u] -= 1
            if not left[u]:
                heapq.heappush(ready, (first[u], u))
    return out


def components(needs: list[set[int]]) -> list[list[int]]:
    """The strongly connected components of the graph i -> needs[i] (Tarjan, without recursion)."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    stack: list[int] = []
    on: set[int] = set()
    out: list[list[int]] = []
    counter = 0
    for root in range(len(needs)):
        if root in index:
            continue
        work = [(root, iter(sorted(needs[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            pushed = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(needs[w]))))
                    pushed = True
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            if pushed:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(comp)
    return out


# ---------------------------------------------------------------- the fresh image

def _fresh(dest: str, production: bool, limits: Any) -> Any:
    from ..session import World
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
        return World(limits=limits, image=image)
    except BaseException:
        image.close()
        raise


class _Replayer:
    """Replays items into a fresh world, checking each against its record."""

    def __init__(self, w: Any, production: bool, report: RebuildReport) -> None:
        self.w, self.production, self.report = w, production, report
        self.captured: dict[str, str] = {}
        self.mapping: dict[int, int] = {}          # source seq -> rebuilt seq
        self.replayed = 0
        if production:
            w.env.hooks.append(self._capture)

    def _capture(self, sym: Any, value: Any, form: Any, kind: str, doc: Any) -> None:
        if kind != "set!":
            self.captured[sym.name] = source_text(self.w, form)

    def current(self, symbol: str) -> str | None:
        """The source `symbol` has in the rebuilt world so far."""
        if self.production:
            return self.captured.get(symbol)
        c = history_of(self.w).latest(symbol)
        return None if c is None or c.kind == "undefine" else c.source

    def _replay(self, it: Item, found: list[tuple[str, str, str]]) -> None:
        if it.kind == "undefine" or not all(self.current(s) == it.source for s in it.symbols):
            run_top(self.w, read(it.source), it.typed)      # else made already by an earlier form
            self.replayed += 1
        self.verify(it, found)

    def batch(self, items: list[Item]) -> None:
        """Replay `items` in one transaction; if that fails, one transaction each."""
        saved, found = dict(self.captured), []
        self.replayed = 0
        try:
            self.w._transact(lambda out: on_big_stack(lambda: [self._replay(it, found) for it in items]),
                             "world: rebuild")
        except Interrupted:
            raise
        except LispError:
            self.captured, found = saved, []
            self.replayed = 0
            for it in items:
                mark = len(found)
                try:
                    self.w._transact(lambda out: self._replay(it, found), "world: rebuild")
                except Interrupted:
                    raise
                except LispError as e:
                    del found[mark:]
                    self.report.errors.append((" ".join(it.symbols), str(e)))
        self.report.mismatches += found
        self.report.replayed += self.replayed

    def verify(self, it: Item, found: list[tuple[str, str, str]]) -> None:
        """Compare each definition `it` stands for with its record."""
        hist = None if self.production else history_of(self.w)
        for sym, seq in zip(it.symbols, it.seqs):
            got = self.current(sym)
            if it.kind == "undefine":
                self.captured.pop(sym, None)
                if got is not None:
                    found.append((sym, it.source, got))
            elif got != it.source:
                found.append((sym, it.source, got or ""))
            if hist is not None:
                latest = hist.latest(sym)
                if latest is not None:
                    self.mapping[seq] = latest.seq


def _regroup(src: History, w: Any, mapping: dict[int, int]) -> None:
    """Make human commits in the rebuilt world like the source's."""
    hist = history_of(w)

    def work(out: Any) -> None:
        for h in src.humans.values():
            seqs = sorted({mapping[s] for s in h.seqs if s in mapping} & set(hist.pending))
            if seqs:
                hist.group(h.message, h.author, seqs)
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


def rebuild(source: Any, dest: str, mode: str = "atomic", production: bool = False,
            progress: Progress | None = None, base: str | None = None) -> RebuildReport:
    """Replay `source`'s history (atomic or human) into a new `.fs` image at `dest`
    (relative to `base`); see newimage.py for which names are allowed."""
    if mode not in ("atomic", "human"):
        raise EvalError(f"rebuild: unknown history {mode!r}: expected atomic or human")
    hist = history_of(source)
    if hist is None:
        raise EvalError("rebuild: the source is a production image: it keeps no history")
    if production:
        mode = "human"
        refuse_pending(source, "build-prod")
    who = "world/build-prod" if production else "world/rebuild"
    final = target(who, dest, base)
    started = time.perf_counter()
    with no_gc(), creating(who, final) as tmp:
        report = _rebuild(source, hist, tmp, mode, production, progress)
        report.dest = final
    report.seconds = time.perf_counter() - started
    return report


def _rebuild(source: Any, hist: History, dest: str, mode: str, production: bool,
             progress: Progress | None) -> RebuildReport:
    plan = atomic_plan(hist) if mode == "atomic" else human_plan(hist, production)
    report = RebuildReport(mode, dest, production, source_size=source.image.size())
    report.definitions = len({s for it in plan for s in it.symbols})
    w = _fresh(dest, production, source.limits)
    try:
        r = _Replayer(w, production, report)
        for i in range(0, len(plan), BATCH):
            r.batch(plan[i:i + BATCH])
            if progress is not None:
                progress(min(i + BATCH, len(plan)), len(plan))
        store = getattr(source.image.root, "audit", None)
        if not production:
            _regroup(hist, w, r.mapping)
            if store is not None and len(store.checks):
                dstore = w.image.root.audit
                w._transact(lambda out: [dstore.add_check(c.expected, c.expr, c.names)
                                         for c in store.checks.values()], "world: rebuild checks")
        if store is not None and len(store.checks):
            report.checks = _dry(w, lambda: run_checks(w, store.checks).outcomes)
        if production:
            w.pack()
        report.size = w.image.size()
    finally:
        w.close()
    return report
