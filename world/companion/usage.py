"""The companion's cost log: every model call it made, kept in the world's settings.

Recorded in a transaction of its own, on a connection of its own, so that a call's cost
stays recorded when the form that made it fails and is rolled back (the money is spent
either way). Totals are `BTrees.Length` counters, which merge concurrent increments; the
entries are keyed by the time in microseconds, one small object each, the oldest dropped
past KEEP.
"""
from __future__ import annotations

import time
from typing import Any

import transaction
from BTrees.Length import Length
from BTrees.LOBTree import LOBTree
from ZODB.POSException import ConflictError

from ..objects.format import Versioned
from ..objects.root import find_root

SETTINGS_KEY = "companion/usage"
KEEP = 5_000            # entries kept
ASKED_TEXT = 200        # characters of what was asked kept in an entry
TRIES = 5
MICRO = 1_000_000       # dollars are counted in millionths


class UsageLog(Versioned):
    """Every companion call's tokens and estimated dollars, with running totals."""

    format_version = 1

    def __init__(self) -> None:
        self.entries = LOBTree()
        self.calls = Length()
        self.tokens_in = Length()
        self.tokens_out = Length()
        self.micro_dollars = Length()

    def add(self, what: str, asked: str, model: str, tokens_in: int, tokens_out: int,
            dollars: float, status: str) -> None:
        """Record one call."""
        key = int(time.time() * MICRO)
        while key in self.entries:
            key += 1
        self.entries[key] = (what, asked[:ASKED_TEXT], model, tokens_in, tokens_out,
                             round(dollars, 6), status)
        self.calls.change(1)
        self.tokens_in.change(tokens_in)
        self.tokens_out.change(tokens_out)
        self.micro_dollars.change(int(round(dollars * MICRO)))
        while len(self.entries) > KEEP:
            del self.entries[self.entries.minKey()]

    def totals(self) -> dict[str, Any]:
        """Calls, tokens and dollars so far."""
        return {"calls": self.calls.value, "tokens-in": self.tokens_in.value,
                "tokens-out": self.tokens_out.value,
                "dollars": round(self.micro_dollars.value / MICRO, 6)}

    def recent(self, n: int) -> list[dict[str, Any]]:
        """The last `n` calls, newest first."""
        if not self.entries or n <= 0:
            return []
        out = []
        for key in reversed(list(self.entries.keys(min=None))[-n:]):
            what, asked, model, tin, tout, dollars, status = self.entries[key]
            out.append({"time": key / MICRO, "what": what, "asked": asked, "model": model,
                        "tokens-in": tin, "tokens-out": tout, "dollars": dollars,
                        "status": status})
        return out


def find(root: Any) -> UsageLog | None:
    """The world's usage log, or None before its first call."""
    log = root.settings.get(SETTINGS_KEY) if root is not None else None
    return log if isinstance(log, UsageLog) else None


def record(db: Any, what: str, asked: str, reply: Any, status: str = "ok") -> dict[str, Any] | None:
    """Add a call (a model `Reply`) to the log of the world in `db`, committed at once in a
    transaction of its own; return the totals after it, or None if it could not be recorded
    (a read-only image)."""
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    try:
        for _ in range(TRIES):
            try:
                tm.begin()
                root = find_root(conn.root())
                if root is None:
                    return None
                log = find(root)
                if log is None:
                    log = root.settings[SETTINGS_KEY] = UsageLog()
                log.add(what, asked, str(reply.model), reply.tokens_in, reply.tokens_out,
                        reply.cost, status)
                totals = log.totals()
                tm.commit()
                return totals
            except ConflictError:
                tm.abort()
            except Exception:       # a read-only or lost storage: the cost is still on the reply
                tm.abort()
                return None
        return None
    finally:
        conn.close()
