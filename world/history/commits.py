"""Atomic and human commits, and the store that chains them.

An `AtomicCommit` is one change to one definition: kind, symbol, canonical
source, the source as typed, docstring, time and audit violations, chained
to its parent by a SHA-256 hash over the parent's hash and those fields.
Commits are immutable once made. A `HumanCommit` groups atomic commits under
a message. The `History` in the world root keeps them in BTrees: by sequence
number, by symbol (each name's versions in a tree of their own, so a name
redefined 10 000 times costs one small write per version), and the set of
atomic commits no human commit holds yet.

What runs is tied to what was recorded: each atomic commit stores `state`,
the hash of the definition it left behind (kind, canonical source, doc and a
fingerprint of the value: see fingerprint.py), so `verify` can prove the live
world is the one its history made. Human commits are chained to each other
and to the atomic head they were made at, and may be signed over that hash.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from typing import Any, Callable, Iterator

from BTrees.IIBTree import IITreeSet
from BTrees.IOBTree import IOBTree
from BTrees.OOBTree import OOBTree

from ..objects.format import Versioned

GENESIS = "0" * 64
ID_CHARS = 12
SMALL = 8                # versions of a name kept inline before they get a tree of their own

# A violation: (rule, category, severity, message), all strings.
Violation = tuple[str, str, str, str]


class Frozen(Versioned):
    """A persistent object whose fields are set once, when it is made."""

    _frozen = False

    def __setattr__(self, name: str, value: Any) -> None:
        if self._frozen and not name.startswith(("_p_", "_v_")):
            raise AttributeError(f"a {type(self).__name__} cannot change once made")
        super().__setattr__(name, value)

    def _freeze(self) -> None:
        Versioned.__setattr__(self, "_frozen", True)


def digest(parent: str, fields: dict[str, Any]) -> str:
    """SHA-256 over a parent hash and canonical fields."""
    text = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((parent + "\n" + text).encode("utf-8")).hexdigest()


class AtomicCommit(Frozen):
    """One recorded change to one definition."""

    format_version = 1
    seq = 0
    kind = "define"
    symbol = ""
    source = ""
    _typed: str | None = None    # None: typed exactly as the canonical source
    doc: str | None = None
    time = 0.0
    violations: tuple[Violation, ...] = ()
    parent = GENESIS
    hash = ""
    state: str | None = None     # hash of the definition this commit left (None: made before it was kept)
    previous = 0                 # seq of the symbol's version before this one, once it has many (index)

    def __init__(self, seq: int, kind: str, symbol: str, source: str, typed: str,
                 doc: str | None, violations: tuple[Violation, ...], parent: str,
                 when: float | None = None, state: str | None = None, previous: int = 0) -> None:
        self.seq, self.kind, self.symbol = seq, kind, symbol
        if previous:
            self.previous = previous
        self.source, self.doc = source, doc
        self._typed = None if typed == source else typed
        self.time = time.time() if when is None else when
        self.violations = tuple(tuple(v) for v in violations)
        self.parent = parent
        if state is not None:
            self.state = state
        self.hash = self.compute_hash()
        self._freeze()

    @property
    def id(self) -> str:
        """The short id: the first characters of the hash."""
        return self.hash[:ID_CHARS]

    @property
    def typed(self) -> str:
        """The source as typed, comments and layout kept."""
        return self.source if self._typed is None else self._typed

    def fields(self) -> dict[str, Any]:
        """The canonical fields the hash covers."""
        d = {"seq": self.seq, "kind": self.kind, "symbol": self.symbol,
             "source": self.source, "typed": self.typed, "doc": self.doc,
             "time": repr(float(self.time)),
             "violations": [list(v) for v in self.violations]}
        if self.state is not None:      # commits made before states were kept hash as they did
            d["state"] = self.state
        return d

    def compute_hash(self) -> str:
        """The hash these fields and this parent should have."""
        return digest(self.parent, self.fields())

    def __repr__(self) -> str:
        return f"<AtomicCommit {self.seq} {self.kind} {self.symbol} {self.id}>"


class HumanCommit(Frozen):
    """A message grouping atomic commits, chained to the previous human commit and to
    the atomic head it was made at; optionally signed over its hash."""

    # 1: hash over number, message, author, time and atomic ids only;
    # 2: also chained (`parent`, the previous human commit's hash) and anchored (`head`).
    format_version = 2
    number = 0
    message = ""
    author = ""
    time = 0.0
    seqs: tuple[int, ...] = ()
    atomic_ids: tuple[str, ...] = ()
    parent: str | None = None       # None: a format-1 commit, hashed without chaining
    head: str | None = None
    key = ""                        # the signer's public key (hex), "" if unsigned
    signature = ""
    hash = ""

    def __init__(self, number: int, message: str, author: str, seqs: tuple[int, ...],
                 atomic_ids: tuple[str, ...], parent: str = GENESIS, head: str = GENESIS,
                 signer: Callable[[bytes], tuple[str, str]] | None = None) -> None:
        self.number, self.message, self.author = number, message, author
        self.time = time.time()
        self.seqs = tuple(seqs)
        self.atomic_ids = tuple(atomic_ids)
        self.parent, self.head = parent, head
        self.hash = self.compute_hash()
        if signer is not None:
            self.key, self.signature = signer(self.hash.encode("ascii"))
        self._freeze()

    def fields(self) -> dict[str, Any]:
        """The canonical fields the hash covers."""
        d = {"number": self.number, "message": self.message, "author": self.author,
             "time": repr(self.time), "atomic": list(self.atomic_ids)}
        if self.parent is not None:
            d["head"] = self.head
        return d

    def compute_hash(self) -> str:
        """The hash these fields should have."""
        return digest(GENESIS if self.parent is None else self.parent, self.fields())

    def migrate_1(self, state: dict[str, Any]) -> dict[str, Any]:
        """Format 1 -> 2: nothing to add; with no `parent` it keeps its old hash."""
        return state

    @property
    def id(self) -> str:
        """The short id: the first characters of the hash."""
        return self.hash[:ID_CHARS]

    def __repr__(self) -> str:
        return f"<HumanCommit {self.number} {self.message!r}>"


class Inbox(Versioned):
    """Changes recorded while sessions contend for the chain's head, waiting to be linked.

    Every atomic commit extends one head, so two sessions committing at once
    conflict on it. A session that met such a conflict records its next changes
    here instead (`History.draft`), in the same transaction as the change, and
    links them into the chain in a small transaction of its own right after
    (`History.link`; any session's next commit, or the next opening, links what
    is left). Appends and removals by different sessions merge (`_p_resolveConflict`),
    so recording a change never conflicts here.
    """

    format_version = 1
    drafts: tuple[tuple[str, tuple], ...] = ()     # (key, fields), keys unique and ordered by time

    def _p_resolveConflict(self, old: dict, committed: dict, new: dict) -> dict:
        was = {k for k, _ in old.get("drafts", ())}
        theirs = {k for k, _ in committed.get("drafts", ())}
        mine = {k for k, _ in new.get("drafts", ())}
        gone = (was - theirs) | (was - mine)
        merged = [d for d in committed.get("drafts", ()) if d[0] not in gone]
        merged += [d for d in new.get("drafts", ()) if d[0] not in was and d[0] not in theirs]
        out = dict(committed)
        out["drafts"] = tuple(sorted(merged))
        return out


class Draft:
    """A change waiting in the inbox, read like the atomic commit it will become."""

    seq = 0
    hash = ""
    id = ""
    parent = ""

    def __init__(self, key: str, fields: tuple) -> None:
        self.key = key
        (self.kind, self.symbol, self.source, self.typed, self.doc, self.violations,
         self.state, self.time) = fields

    def __repr__(self) -> str:
        return f"<Draft {self.kind} {self.symbol}>"


class CommitTree(IOBTree):
    """seq -> AtomicCommit, in small buckets: commits are appended, and each append
    rewrites the last bucket, so a small one keeps each commit's write small."""

    max_leaf_size = 12
    max_internal_size = 24


class SymbolTree(OOBTree):
    """symbol -> its seqs, in small buckets for the same reason (a new name rewrites one)."""

    max_leaf_size = 12
    max_internal_size = 24


class Tip(Versioned):
    """The chain's head and length: the one small record every atomic commit rewrites."""

    format_version = 1

    def __init__(self, head: str = GENESIS, count: int = 0) -> None:
        self.head, self.count = head, count


class Versions(Versioned):
    """The versions of a name redefined many times: its first few seqs, then the newest,
    from which each commit's `previous` leads back (one small record per new version)."""

    format_version = 1

    def __init__(self, early: tuple[int, ...], latest: int) -> None:
        self.early, self.latest = early, latest


class Pending:
    """The seqs no human commit holds yet, as a set.

    Stored as a watermark: every seq above `grouped_to` is pending unless in
    `ahead`, every seq at or below it is pending only if in `behind`. A new
    atomic commit writes nothing here; grouping everything moves the mark.
    """

    def __init__(self, hist: "History") -> None:
        self.h = hist

    def __contains__(self, seq: object) -> bool:
        h = self.h
        if type(seq) is not int:
            return False
        if seq <= h.grouped_to:
            return seq in h.behind
        return seq <= h.count and seq not in h.ahead

    def __iter__(self) -> Iterator[int]:
        h = self.h
        yield from list(h.behind)
        ahead = h.ahead
        for seq in range(h.grouped_to + 1, h.count + 1):
            if seq not in ahead:
                yield seq

    def __len__(self) -> int:
        h = self.h
        return len(h.behind) + (h.count - h.grouped_to - len(h.ahead))

    def __bool__(self) -> bool:
        return len(self) > 0

    def remove(self, seq: int) -> None:
        """`seq` is grouped now."""
        h = self.h
        if seq not in self:
            raise KeyError(seq)
        if seq <= h.grouped_to:
            h.behind.remove(seq)
        else:
            h.ahead.insert(seq)

    def settle(self) -> None:
        """If every seq above the mark is grouped, move the mark to the newest."""
        h = self.h
        if len(h.ahead) == h.count - h.grouped_to and len(h.ahead):
            h.grouped_to = h.count
            h.ahead.clear()


class History(Versioned):
    """Every atomic and human commit of a world, with its indexes."""

    # 1: no inbox; 2: `inbox`, where contended changes wait to be linked;
    # 3: head and count in a `Tip` of their own, pending as a watermark (see Pending).
    format_version = 3
    inbox: Inbox | None = None
    tip: Tip | None = None
    grouped_to = 0          # see Pending
    humans_count = 0
    seeded = False          # the default rules have been loaded
    trusted: Any = None     # public key (hex) -> name: keys whose signed commits anchor the chain

    def __init__(self) -> None:
        self.commits = CommitTree()       # seq -> AtomicCommit
        self.by_symbol = SymbolTree()     # symbol -> its seqs: a tuple while few, then Versions
        self.behind = IITreeSet()         # pending seqs at or below grouped_to
        self.ahead = IITreeSet()          # grouped seqs above it
        self.humans = IOBTree()           # number -> HumanCommit
        self.inbox = Inbox()
        self.tip = Tip()

    def migrate_1(self, state: dict[str, Any]) -> dict[str, Any]:
        """Format 1 -> 2: an empty inbox."""
        state.setdefault("inbox", Inbox())
        return state

    def migrate_2(self, state: dict[str, Any]) -> dict[str, Any]:
        """Format 2 -> 3: head and count move to a Tip; the pending set becomes `behind`."""
        count = state.pop("count", 0)
        state["tip"] = Tip(state.pop("head", GENESIS), count)
        state["behind"] = state.pop("pending", None) or IITreeSet()
        state["ahead"] = IITreeSet()
        state["grouped_to"] = count
        return state

    @property
    def head(self) -> str:
        """Hash of the newest atomic commit."""
        return self.tip.head

    @property
    def count(self) -> int:
        """Atomic commits so far; the next seq is count + 1."""
        return self.tip.count

    @property
    def pending(self) -> Pending:
        """The seqs no human commit holds yet."""
        return Pending(self)

    # ------------------------------------------------------------ adding
    def add(self, kind: str, symbol: str, source: str, typed: str, doc: str | None,
            violations: tuple[Violation, ...], state: str | None = None,
            when: float | None = None) -> AtomicCommit:
        """Make the next atomic commit, chained to the head (pending until grouped)."""
        tip = self.tip
        seq = tip.count + 1
        seqs = self.by_symbol.get(symbol)
        previous = seqs.latest if type(seqs) is Versions else 0
        c = AtomicCommit(seq, kind, symbol, source, typed, doc, violations, tip.head, when, state,
                         previous)
        self.commits[seq] = c
        self._index(symbol, seq, seqs)
        tip.head, tip.count = c.hash, seq
        return c

    def _index(self, symbol: str, seq: int, seqs: Any) -> None:
        # A name's first versions sit in the by_symbol bucket itself; from SMALL on, a
        # Versions record of its own keeps the newest, and each commit links its previous.
        if seqs is None:
            self.by_symbol[symbol] = (seq,)
        elif type(seqs) is tuple and len(seqs) < SMALL:
            self.by_symbol[symbol] = seqs + (seq,)
        elif type(seqs) is tuple:
            self.by_symbol[symbol] = Versions(seqs, seq)
        elif type(seqs) is Versions:
            seqs.latest = seq
        else:                       # an IITreeSet, as a format-2 history kept them
            seqs.insert(seq)

    def draft(self, kind: str, symbol: str, source: str, typed: str, doc: str | None,
              violations: tuple[Violation, ...], state: str | None = None) -> Draft:
        """Record a change in the inbox, to be linked into the chain by `link`."""
        inbox = self.inbox
        now = time.time_ns()
        if inbox.drafts:        # after every draft this session can see, whatever the clocks say
            now = max(now, int(inbox.drafts[-1][0][:20]) + 1)
        key = f"{now:020d}-{os.getpid()}-{os.urandom(4).hex()}"
        fields = (kind, symbol, source, typed, doc, tuple(tuple(v) for v in violations),
                  state, now / 1e9)
        inbox.drafts = inbox.drafts + ((key, fields),)
        return Draft(key, fields)

    def link(self) -> int:
        """Make the inbox's drafts atomic commits, oldest first; return how many."""
        inbox = self.inbox
        if inbox is None or not inbox.drafts:
            return 0
        drafts, inbox.drafts = inbox.drafts, ()
        for key, fields in drafts:
            d = Draft(key, fields)
            self.add(d.kind, d.symbol, d.source, d.typed, d.doc, d.violations, d.state, d.time)
        return len(drafts)

    def drafts(self) -> list[Draft]:
        """The changes waiting in the inbox, oldest first."""
        return [Draft(k, f) for k, f in (self.inbox.drafts if self.inbox is not None else ())]

    def group(self, message: str, author: str, seqs: list[int],
              signer: Callable[[bytes], tuple[str, str]] | None = None) -> HumanCommit:
        """Make a human commit of pending atomic commits `seqs`, chained to the last one and
        anchored at the atomic head (signed by `signer` if given)."""
        number = self.humans_count + 1
        ids = tuple(self.commits[s].id for s in seqs)
        last = self.humans.get(self.humans_count) if self.humans_count else None
        parent = last.hash if last is not None else GENESIS
        h = HumanCommit(number, message, author, tuple(seqs), ids, parent, self.head, signer)
        self.humans[number] = h
        pending = self.pending
        for s in seqs:
            pending.remove(s)
        pending.settle()
        self.humans_count = number
        return h

    def trust(self, key: str, name: str) -> None:
        """Record `key` as trusted to sign human commits."""
        if self.trusted is None:
            self.trusted = OOBTree()
        self.trusted[key] = name

    # ------------------------------------------------------------ reading
    def seqs(self, symbol: str) -> list[int]:
        """The seqs of `symbol`'s commits, oldest first."""
        found = self.by_symbol.get(symbol)
        if type(found) is not Versions:
            return [] if found is None else list(found)
        linked, seq = [], found.latest
        early = found.early
        while seq and seq > early[-1]:
            linked.append(seq)
            c = self.commits.get(seq)
            seq = c.previous if c is not None else 0
        return list(early) + linked[::-1]

    def latest(self, symbol: str) -> AtomicCommit | Draft | None:
        """The newest atomic commit of `symbol` (or its newest draft, while one waits)."""
        inbox = self.inbox
        if inbox is not None and inbox.drafts:
            for key, fields in reversed(inbox.drafts):
                if fields[1] == symbol:
                    return Draft(key, fields)
        return self.commits.get(self.newest(symbol))

    def newest(self, symbol: str) -> int:
        """The seq of `symbol`'s newest atomic commit (0: none), by the index."""
        return self.newest_of(self.by_symbol.get(symbol))

    @staticmethod
    def newest_of(found: Any) -> int:
        """The newest seq in a by_symbol entry (0: none)."""
        if found is None or (type(found) is not Versions and not found):
            return 0
        t = type(found)
        return found[-1] if t is tuple else found.latest if t is Versions else found.maxKey()

    def versions(self, symbol: str) -> list[AtomicCommit]:
        """Every atomic commit of `symbol`, newest first."""
        return [self.commits[s] for s in reversed(self.seqs(symbol)) if s in self.commits]

    def find(self, key: Any) -> AtomicCommit | None:
        """The atomic commit with sequence number or (prefix of) id `key`."""
        if isinstance(key, int) and not isinstance(key, bool):
            return self.commits.get(key)
        key = str(key).lower()
        if len(key) < 4:
            return None
        for c in self.commits.values():          # ids are looked up by people: rarely, and a scan will do
            if c.hash.startswith(key):
                return c
        return None

    def atomic(self) -> Iterator[AtomicCommit]:
        """Every atomic commit, oldest first."""
        return iter(self.commits.values())

    def committed_seqs(self) -> set[int]:
        """The seqs some human commit holds."""
        out: set[int] = set()
        for h in self.humans.values():
            out.update(h.seqs)
        return out

    def __repr__(self) -> str:
        return f"<History {self.count} atomic, {self.humans_count} human>"
