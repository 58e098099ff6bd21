"""The peer store: trusted keys, the nonces each has used, and the exchange log.

It lives in the world's root settings under `peer/store` (made by the first
change that needs it), so it is as persistent as the definitions: a server
restarted on the same world still knows whom it trusts, still refuses a
nonce it has seen, and still shows every exchange.

- `trusted`: public key -> TrustRecord, the most a key may be granted.
- `seen`: public key -> the nonces of that key accepted within the window
  (message.WINDOW either side of the clock); older ones are pruned as new
  ones arrive, since a nonce that old is refused as stale anyway.
- `log`: sequence number -> Exchange, one persistent object each, so writing
  one exchange (or its outcome) rewrites that object and one small bucket,
  never the log. The oldest are dropped past LOG_KEEP.
- `totals`: outcome -> a counter (BTrees.Length, which merges concurrent
  increments rather than conflicting).
"""
from __future__ import annotations

import time
from typing import Any, Iterable

from BTrees.LLBTree import LLTreeSet
from BTrees.Length import Length
from BTrees.LOBTree import LOBTree
from BTrees.OOBTree import OOBTree

from ..lisp.budget import Limits
from ..objects.format import Versioned
from .message import WINDOW

SETTINGS_KEY = "peer/store"
GRANTABLE = ("core", "output", "simulate")     # the groups a remote peer may ever be granted
OUTCOMES = ("ok", "error", "budget", "refused", "unknown")
LOG_KEEP = 20_000           # exchanges kept; the oldest go first
PROGRAM_TEXT = 2_048        # characters of a program's text kept in its exchange
REASON_TEXT = 300           # characters of an outcome's reason kept
OUTPUT_CHARS = 65_536       # output a remote program may write (it travels in the reply)

# The defaults of `(peer/trust ...)`: what a key may use when its record does not say.
DEFAULTS = {"steps": 1_000_000, "memory": 64 * 1024 * 1024, "seconds": 10.0,
            "per-minute": 600, "concurrent": 4}


class TrustRecord(Versioned):
    """A trusted public key and the most its programs may be granted."""

    format_version = 1
    key = ""
    name = ""
    caps: tuple[str, ...] = ("core",)
    steps = DEFAULTS["steps"]
    memory = DEFAULTS["memory"]
    seconds = DEFAULTS["seconds"]
    per_minute = DEFAULTS["per-minute"]
    concurrent = DEFAULTS["concurrent"]
    since = 0.0

    def __init__(self, key: str, name: str, caps: Iterable[str], steps: int, memory: int,
                 seconds: float, per_minute: int, concurrent: int) -> None:
        self.key, self.name, self.caps = key, name, tuple(sorted(set(caps)))
        self.steps, self.memory, self.seconds = steps, memory, seconds
        self.per_minute, self.concurrent = per_minute, concurrent
        self.since = time.time()

    def limits(self, steps: int | None = None) -> Limits:
        """The limits of a program from this key that asks for `steps` (at most the record's)."""
        return Limits(steps=self.steps if steps is None else min(steps, self.steps),
                      memory=self.memory, seconds=float(self.seconds), output=OUTPUT_CHARS)

    def as_dict(self) -> dict[str, Any]:
        """The record as plain data (keys as `peer/trust` spells its options)."""
        return {"key": self.key, "name": self.name, "caps": self.caps, "steps": self.steps,
                "memory": self.memory, "seconds": self.seconds, "per-minute": self.per_minute,
                "concurrent": self.concurrent, "since": self.since}

    def __repr__(self) -> str:
        return f"<TrustRecord {self.name} {self.key[:8]}>"


class Exchange(Versioned):
    """One message a peer sent and what became of it."""

    format_version = 1
    seq = 0
    time = 0.0
    key = ""                # "" when no trusted key could be verified ("unknown")
    name = ""
    nonce: int | None = None
    program = ""            # the body's text, abridged to PROGRAM_TEXT
    outcome = "running"     # then one of OUTCOMES but "unknown"
    reason = ""
    steps = 0
    elapsed = 0.0

    def __init__(self, key: str, name: str, nonce: int | None, program: str,
                 outcome: str = "running", reason: str = "") -> None:
        self.time = time.time()
        self.key, self.name, self.nonce = key, name, nonce
        self.program = abridged(program, PROGRAM_TEXT)
        self.outcome, self.reason = outcome, abridged(reason, REASON_TEXT)

    def finish(self, outcome: str, reason: str, steps: int, elapsed: float) -> None:
        """Record how the exchange ended."""
        self.outcome, self.reason = outcome, abridged(reason, REASON_TEXT)
        self.steps, self.elapsed = steps, elapsed

    def as_dict(self) -> dict[str, Any]:
        """The exchange as plain data."""
        return {"name": self.name or "unknown", "outcome": self.outcome,
                "program": self.program, "reason": self.reason, "steps": self.steps,
                "elapsed": self.elapsed, "time": self.time, "key": self.key or "unknown",
                "nonce": self.nonce, "seq": self.seq}

    def __repr__(self) -> str:
        return f"<Exchange {self.seq} {self.name or 'unknown'} {self.outcome}>"


def abridged(text: str, n: int) -> str:
    """`text` cut to about `n` characters."""
    return text if len(text) <= n else text[:n] + "..."


def micros(t: float) -> int:
    """Seconds since the epoch as a nonce's microseconds."""
    return int(t * 1_000_000)


class PeerStore(Versioned):
    """Trust records, seen nonces, the exchange log and the totals of one world."""

    format_version = 1

    def __init__(self) -> None:
        self.trusted = OOBTree()
        self.seen = OOBTree()
        self.log = LOBTree()
        self.totals = OOBTree()

    # ------------------------------------------------------------ trust
    def trust(self, record: TrustRecord) -> TrustRecord:
        """Trust `record.key` as the record says (replacing an earlier record)."""
        self.trusted[record.key] = record
        return record

    def untrust(self, key: str) -> bool:
        """Stop trusting `key`; False if it was not trusted. Its seen nonces are kept,
        so trusting it again does not reopen its recent messages to replay."""
        if key not in self.trusted:
            return False
        del self.trusted[key]
        return True

    def record(self, key: str) -> TrustRecord | None:
        """The trust record of `key`, or None."""
        return self.trusted.get(key)

    # ------------------------------------------------------------ nonces
    def stale(self, key: str, nonce: int, now: float, also: Iterable[int] = ()) -> str | None:
        """Why `nonce` from `key` is refused at time `now` (None if it is fresh and unseen;
        `also` are nonces seen but not stored yet)."""
        age = now - nonce / 1_000_000
        if age > WINDOW:
            return (f"stale nonce: the message was signed {age:.0f} s ago; a message is "
                    f"accepted within {WINDOW:g} s of signing")
        if age < -WINDOW:
            return (f"nonce from the future: the message claims to be signed {-age:.0f} s from "
                    f"now; the clocks differ by more than {WINDOW:g} s")
        seen = self.seen.get(key)
        if (seen is not None and nonce in seen) or nonce in also:
            return "replayed nonce: this message was already received"
        return None

    def see(self, key: str, nonces: Iterable[int], now: float) -> None:
        """Remember `nonces` of `key`, and forget those now too old to be accepted anyway."""
        seen = self.seen.get(key)
        if seen is None:
            seen = self.seen[key] = LLTreeSet()
        for n in nonces:
            seen.add(n)
        cutoff = micros(now - WINDOW)
        if seen.minKey() < cutoff:
            for n in list(seen.keys(max=cutoff, excludemax=True)):
                seen.remove(n)

    # ------------------------------------------------------------ the log
    def append(self, ex: Exchange) -> Exchange:
        """Add `ex` to the log under the next sequence number; drop the oldest past LOG_KEEP."""
        log = self.log
        ex.seq = (log.maxKey() + 1) if log else 1
        log[ex.seq] = ex
        first = log.minKey()
        if ex.seq - first >= LOG_KEEP + 100:        # in batches: one bucket rewrite per hundred
            for seq in list(log.keys(max=ex.seq - LOG_KEEP, excludemax=True)):
                del log[seq]
        return ex

    def recent(self, n: int) -> list[Exchange]:
        """The newest `n` exchanges, newest first."""
        if not self.log or n <= 0:
            return []
        top = self.log.maxKey()
        return list(self.log.values(min=max(1, top - n + 1)))[::-1][:n]

    def count(self, outcome: str, n: int = 1) -> None:
        """Add `n` to the total of `outcome`."""
        c = self.totals.get(outcome)
        if c is None:
            c = self.totals[outcome] = Length()
        c.change(n)

    def total(self) -> dict[str, int]:
        """The totals by outcome (every outcome, zero if none)."""
        return {o: (self.totals[o].value if o in self.totals else 0) for o in OUTCOMES}

    def __repr__(self) -> str:
        return f"<PeerStore {len(self.trusted)} trusted>"


def find(root: Any) -> PeerStore | None:
    """The world's peer store, or None if it has none yet."""
    store = root.settings.get(SETTINGS_KEY)
    return store if isinstance(store, PeerStore) else None


def peer_store(root: Any) -> PeerStore:
    """The world's peer store, made (in the running transaction) if it has none."""
    store = find(root)
    if store is None:
        store = root.settings[SETTINGS_KEY] = PeerStore()
    return store
