"""History as plain data: verifying the chain and what runs, commit summaries, diffs."""
from __future__ import annotations

import contextlib
import difflib
import gc
import os
from dataclasses import dataclass
from typing import Any, Callable, Collection, Iterator

from ..objects.image import iso
from .commits import GENESIS, AtomicCommit, History, HumanCommit
from .chainhash import hash_matches
from .fingerprint import ABSENT, state_of
from . import provenance


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
            settle()
            gc.enable()


def settle() -> None:
    """Hand what was made with the collector paused to its oldest generation: it is mostly
    loaded objects that stay, and scanning millions of them as young ones (twice) took
    seconds at 100 000 definitions; the next full collection still sees them all. (Not if
    the host froze objects itself: unfreezing would undo that.)"""
    if not gc.get_freeze_count():
        gc.freeze()
        gc.unfreeze()


@dataclass(frozen=True)
class Finding:
    """One thing `findings` found wrong: what it is about and what differs."""

    kind: str           # chain, definition, human, signature, snapshot, damaged
    subject: str        # the definition's name, or which commit or snapshot
    message: str

    def line(self) -> str:
        """The finding as one line of text."""
        return f"{self.kind}: {self.subject}: {self.message}"

    def as_dict(self) -> dict[str, str]:
        """The finding as plain data."""
        return {"kind": self.kind, "subject": self.subject, "message": self.message}


SignatureCheck = Callable[[str, str, bytes], bool]      # key, signature, data -> genuine?


def findings(root: Any, signed: bool = False, check_signature: SignatureCheck | None = None,
             limit: int = 1000, keys: Collection[str] | None = None,
             image: str | None = None) -> list[Finding]:
    """Everything that does not hold in a world's history and definitions (see `_Audit`);
    an empty list if it all checks. With `signed`, the newest human commit must also be
    signed by a trusted key: one of `keys` if given (named by the verifier, out of the
    world's reach), else one the world's own `History.trusted` lists; and no change may
    follow it unsigned. At most `limit` findings are listed, then one saying how many more.

    `image`: the path of the image file `root` was opened from, with nothing uncommitted
    in this process (the commands). A large world's live definitions are then hashed by a
    second process reading the same file while this one checks the history: the two halves
    take about as long, and the machine has more than one core."""
    with no_gc():
        a = _Audit(root, check_signature, limit)
        a.keys = None if keys is None else frozenset(keys)
        if image is not None and _large(root):
            a.states = _elsewhere(image)
        try:
            a.run(signed)
        except Exception as e:          # the root or history object itself is damaged
            a.add("damaged", "history", f"cannot be read: {_why(e)}")
    out = a.found
    if a.more:
        out.append(Finding("more", "verify", f"{a.more} more findings not listed"))
    return out


class _Audit:
    """One verification: the atomic chain, each live definition against its latest commit,
    the human commits, the snapshots. A record that cannot be loaded is a finding."""

    def __init__(self, root: Any, check_signature: SignatureCheck | None, limit: int) -> None:
        self.root = root
        self.hist: History | None = None
        self.check_signature = check_signature
        self.keys: frozenset[str] | None = None     # trusted keys the verifier names
        self.limit = limit
        self.found: list[Finding] = []
        self.more = 0
        self.hashes: dict[str, int] = {GENESIS: 0}     # every atomic hash -> its seq
        self.latest: dict[str, AtomicCommit] = {}       # symbol -> its newest commit, by the chain
        self.states: Any = None         # a future of `live_states`, computed by another process

    def add(self, kind: str, subject: str, message: str) -> None:
        if len(self.found) < self.limit:
            self.found.append(Finding(kind, subject, message))
        else:
            self.more += 1

    def run(self, signed: bool) -> None:
        self.hist = getattr(self.root, "history", None)
        try:            # a forced build; a production image against its manifest
            provenance.check(self.root, self.add)
        except Exception as e:
            self.add("damaged", "the build's records", f"cannot be read: {_why(e)}")
        if self.hist is None:
            if not provenance.has_manifest(self.root):
                self.add("chain", "history", "this world keeps no history")
            if signed:
                self.add("signature", "history", "a production image keeps no history to be "
                                                 "signed: verify its source with :signed")
            return
        steps = (("the atomic commits", self.chain), ("the index of versions", self.index),
                 ("the definitions", self.definitions), ("the human commits", lambda: self.humans(signed)),
                 ("the snapshots", self.snapshots))
        for what, step in steps:
            try:
                step()
            except Exception as e:          # a damaged index or tree: say so and go on
                self.add("damaged", what, f"cannot be read: {_why(e)}")

    def chain(self) -> None:
        hist, parent, expected = self.hist, GENESIS, 1
        for seq, c in _prefetched(hist.commits.items()):
            d: dict[str, Any] = {}
            try:
                c._p_activate()
                d = c.__dict__
                if seq != expected or d.get("seq") != seq:
                    self.add("chain", _where(seq, d), f"sequence number {d.get('seq')} out of "
                                                      f"order (expected {expected})")
                if d.get("parent") != parent:
                    self.add("chain", _where(seq, d), "its parent hash is not the previous "
                                                      "commit's hash")
                if not hash_matches(c, d.get("hash")):
                    self.add("chain", _where(seq, d), "its contents do not match its hash")
                parent = d.get("hash", "")
                self.hashes[parent] = seq
                self.latest[c.symbol] = c
            except Exception as e:
                self.add("damaged", _where(seq, d), _why(e))
            expected = seq + 1
        if hist.head != parent:
            self.add("chain", "head", "the recorded head is not the newest commit's hash")
        if hist.count != expected - 1:
            self.add("chain", "head", f"the recorded count {hist.count} is not the "
                                      f"newest sequence number {expected - 1}")

    def index(self) -> None:
        hist = self.hist
        for name, seqs in hist.by_symbol.items():
            last = History.newest_of(seqs)
            mine = self.latest.get(name)
            if mine is None or last != mine.seq:
                self.add("chain", name, "the index of versions does not name its newest commit")
        for name in self.latest:
            if name not in hist.by_symbol:
                self.add("chain", name, "missing from the index of versions")
        for d in hist.drafts():         # recorded, waiting to be linked: the newest versions
            self.latest[d.symbol] = d

    def definitions(self) -> None:
        states = None
        if self.states is not None:
            try:
                states = self.states.result()
            except Exception:           # the other process could not: do it here
                states = None
        if states is None:
            states = live_states(self.root)
        for name in sorted(states.keys() | self.latest.keys()):
            c = self.latest.get(name)
            now = states.get(name, ABSENT)
            if now.startswith(DAMAGED):
                self.add("damaged", name, f"its definition cannot be loaded: {now[len(DAMAGED):]}")
                continue
            if c is None:
                self.add("definition", name, "is defined but no commit records it")
            elif c.state is not None:
                if now != c.state:
                    what = "is not defined" if now == ABSENT else "differs from"
                    which = f"commit {c.seq} ({c.id} {c.kind})" if c.seq else f"the waiting {c.kind}"
                    self.add("definition", name, f"{what} what {which} recorded")
            elif c.kind == "undefine" and now != ABSENT:
                self.add("definition", name, f"is defined, but commit {c.seq} ({c.id}) undefined it")

    def humans(self, signed: bool) -> None:
        hist = self.hist
        pending = set(hist.pending)
        held: dict[int, int] = {}
        parent, expected, newest = GENESIS, 1, None
        for number, h in hist.humans.items():
            where = f"human commit {number}"
            try:
                h._p_activate()
                where = f"human commit {number} ({h.id})"
                newest = h
                if number != expected or h.number != number:
                    self.add("human", where, f"number out of order (expected {expected})")
                if h.compute_hash() != h.hash:
                    self.add("human", where, "its contents (message, author, commits) do not "
                                             "match its hash")
                if h.parent is not None and h.parent != parent:
                    self.add("human", where, "its parent is not the previous human commit")
                if h.head is not None and h.head not in self.hashes:
                    self.add("human", where, "the atomic head it was made at is not in the chain")
                for s, aid in zip(h.seqs, h.atomic_ids):
                    c = hist.commits.get(s)
                    if c is None or c.id != aid:
                        self.add("human", where, f"holds commit {s} ({aid}), which the chain "
                                                 f"does not have")
                    elif h.head is not None and self.hashes.get(h.head, 0) < s:
                        self.add("human", where, f"holds commit {s}, newer than its head")
                    if s in held:
                        self.add("human", where, f"holds commit {s}, which human commit "
                                                 f"{held[s]} holds too")
                    held[s] = number
                    if s in pending:
                        self.add("human", where, f"holds commit {s}, which is still pending")
                if h.signature:
                    self.signature(h, where, check_trust=False)
                parent = h.hash
            except Exception as e:
                self.add("damaged", where, _why(e))
            expected = number + 1
        if hist.humans_count != expected - 1:
            self.add("human", "human commits", f"the recorded count {hist.humans_count} is not "
                                               f"the newest number {expected - 1}")
        for s in self.hashes.values():
            if s and s not in held and s not in pending:
                self.add("human", f"commit {s}", "is neither pending nor held by a human commit")
        if signed:
            if newest is None:
                self.add("signature", "history", "there is no human commit to anchor the chain")
            elif not newest.signature:
                self.add("signature", f"human commit {newest.number} ({newest.id})",
                         "the newest human commit is not signed")
            else:
                where = f"human commit {newest.number} ({newest.id})"
                self.signature(newest, where, True)
                # What follows the signed head is anchored by nothing: an attacker can append it.
                last = max(self.hashes.values())
                after = len(hist.drafts()) + (last - self.hashes.get(newest.head, last)
                                              if newest.head is not None else 0)
                if after:
                    self.add("signature", where, f"{after} atomic commits after it are not "
                                                 f"signed: group them with a signed commit")

    def signature(self, h: HumanCommit, where: str, check_trust: bool) -> None:
        trusted = self.hist.trusted if self.keys is None else self.keys
        if check_trust and (trusted is None or h.key not in trusted):
            whose = "this world does not trust" if self.keys is None else "is not a key you named"
            self.add("signature", where, f"signed by key {h.key[:16]}..., which {whose}")
        if self.check_signature is None:
            from ..keys import verify_signature as check        # noqa: PLC0415 (cryptography is slow to load)
        else:
            check = self.check_signature
        if not check(h.key, h.signature, h.hash.encode("ascii")):
            self.add("signature", where, "its signature does not match its hash")

    def snapshots(self) -> None:
        for name, snap in self.root.snapshots.items():
            head = getattr(snap, "head", None)
            if head is not None and head not in self.hashes:
                self.add("snapshot", name, "the chain head it was saved at is not in the chain")


def _where(seq: int, d: dict[str, Any]) -> str:
    """An atomic commit, for a finding: its number, and its id and symbol if it has them."""
    h, symbol = d.get("hash"), d.get("symbol")
    return f"commit {seq} ({h[:12] if type(h) is str else ''} {symbol})" if d else f"commit {seq}"


PREFETCH = 5000         # objects asked for at once (one round trip over ZEO; FileStorage ignores it)


def _prefetched(items: Iterator[tuple[Any, Any]]) -> Iterator[tuple[Any, Any]]:
    """`items` (key, persistent object) pairs, the objects' records asked for in batches."""
    batch: list[tuple[Any, Any]] = []
    for kv in items:
        batch.append(kv)
        if len(batch) == PREFETCH:
            _prefetch(batch)
            yield from batch
            batch = []
    _prefetch(batch)
    yield from batch


def _prefetch(batch: list[tuple[Any, Any]]) -> None:
    ghosts = [v for _, v in batch if getattr(v, "_p_changed", 0) is None and v._p_jar is not None]
    if ghosts:
        try:
            ghosts[0]._p_jar.prefetch(ghosts)
        except Exception:
            pass            # only a hint: each object still loads (or fails) on its own


DAMAGED = "!"           # a live state that could not be computed: "!" and why
LARGE = 20_000          # atomic commits from which another process helps (see `findings`)


def live_states(root: Any) -> dict[str, str]:
    """The state of every live definition and macro (see fingerprint.py), by name."""
    # One walk of each tree, not a lookup per name; loaded in batches over a server.
    defs = dict(_prefetched(root.definitions.items()))
    macros = dict(root.macros.items())
    out: dict[str, str] = {}
    for name in defs.keys() | macros.keys():
        try:
            out[name] = state_of(defs.get(name), macros.get(name))
        except Exception as e:
            out[name] = DAMAGED + _why(e)
    return out


def _large(root: Any) -> bool:
    hist = getattr(root, "history", None)
    try:
        return hist is not None and hist.count >= LARGE and (os.cpu_count() or 1) > 1
    except Exception:
        return False


def _elsewhere(image: str) -> "_Helper | None":
    """`live_states` of the image at `image`, being computed by a new process."""
    try:
        return _Helper(image)
    except OSError:             # no processes to be had here: the caller does it itself
        return None


class _Helper:
    """A process running `python -m world.history.states IMAGE`, which prints the pickled
    states (the parent trusts its own code; the image is opened read-only, allowlisted)."""

    def __init__(self, image: str) -> None:
        import subprocess
        import sys
        self.proc = subprocess.Popen([sys.executable, "-m", "world.history.states", image],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     stdin=subprocess.DEVNULL)

    def result(self) -> dict[str, str]:
        import pickle
        out, _ = self.proc.communicate()
        if self.proc.returncode != 0:
            raise OSError(f"the helper process exited with {self.proc.returncode}")
        states = pickle.loads(out)
        if type(states) is not dict:
            raise OSError("the helper process answered something else")
        return states


def states_of_image(image: str) -> dict[str, str]:
    """In the helper process: open the image read-only and hash its live definitions."""
    import world
    with world.open(image, read_only=True) as w, no_gc():
        return live_states(w.image.root)


def _why(e: BaseException) -> str:
    try:
        text = str(e).splitlines()[0] if str(e) else ""
    except Exception:
        text = ""
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


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
