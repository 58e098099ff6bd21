"""History as plain data: verifying the chain, commit summaries, diffs."""
from __future__ import annotations

import contextlib
import difflib
import gc
from dataclasses import dataclass
from typing import Any, Iterator

from ..objects.image import iso
from .commits import GENESIS, AtomicCommit, History, HumanCommit


@dataclass(frozen=True)
class Broken:
    """The first commit whose stored hash or parent does not match the chain."""

    seq: int
    id: str
    symbol: str
    reason: str


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cycle collector: loading or replaying history makes many objects and frees
    none, so each full collection would only rescan them (it halves a long rebuild)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def verify(hist: History) -> Broken | None:
    """Recompute the whole chain; None if every commit matches, else the first that does not."""
    with no_gc():
        return _verify(hist)


def _verify(hist: History) -> Broken | None:
    parent = GENESIS
    expected_seq = 1
    for seq, c in hist.commits.items():
        c._p_activate()
        d = c.__dict__
        if seq != expected_seq or d.get("seq") != seq:
            return Broken(seq, c.id, c.symbol, f"sequence number {d.get('seq')} out of order")
        if d.get("parent") != parent:
            return Broken(seq, c.id, c.symbol, "its parent hash is not the previous commit's hash")
        if c.compute_hash() != d.get("hash"):
            return Broken(seq, c.id, c.symbol, "its contents do not match its hash")
        parent = d["hash"]
        expected_seq += 1
    if hist.head != parent:
        return Broken(hist.count, "", "", "the head does not match the newest commit")
    return None


def summary(c: AtomicCommit, pending: bool) -> dict[str, Any]:
    """One line's worth of an atomic commit."""
    return {"id": c.id, "seq": c.seq, "kind": c.kind, "symbol": c.symbol, "time": iso(c.time),
            "violations": len(c.violations), "pending": pending}


def details(c: AtomicCommit, pending: bool) -> dict[str, Any]:
    """Everything an atomic commit records."""
    d = summary(c, pending)
    d.update({"source": c.source, "typed": c.typed, "doc": c.doc, "hash": c.hash,
              "parent": c.parent, "violation-list": c.violations})
    return d


def human(h: HumanCommit) -> dict[str, Any]:
    """A human commit as plain data."""
    return {"id": h.id, "number": h.number, "message": h.message, "author": h.author,
            "time": iso(h.time), "atomic": h.atomic_ids}


def log(hist: History, symbol: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Atomic commits newest first: all of them, or every version of `symbol`."""
    if symbol is not None:
        commits = hist.versions(symbol)
    else:
        low = 1 if limit is None else max(1, hist.count - limit + 1)
        commits = list(hist.commits.values(low, hist.count))[::-1]
    if limit is not None:
        commits = commits[:limit]
    return [summary(c, c.seq in hist.pending) for c in commits]


def pending(hist: History) -> list[dict[str, Any]]:
    """The pending atomic commits, oldest first."""
    return [summary(hist.commits[s], True) for s in hist.pending]


def diff(hist: History, symbol: str) -> str:
    """A line diff of the last two versions of `symbol`, as typed."""
    versions = hist.versions(symbol)
    if not versions:
        return ""
    new = versions[0]
    old = versions[1] if len(versions) > 1 else None
    a = (old.typed or old.source).splitlines(keepends=True) if old is not None else []
    b = (new.typed or new.source).splitlines(keepends=True)
    lines = difflib.unified_diff(a, b, f"{symbol}@{old.id}" if old else "/dev/null",
                                 f"{symbol}@{new.id}", lineterm="\n")
    return "".join(x if x.endswith("\n") else x + "\n" for x in lines)
