"""The peer endpoint: a frame in, a signed reply frame out.

`Endpoint.answer(frame)` is everything a server does with one request
short of the network (world/peer/server.py carries frames):

    decode (one map, of sane size) -> verify the signature -> the key is trusted
    -> the nonce is fresh and unseen -> rate and concurrency limits of the key
    -> the grant: what the header asks, never more than the trust record allows
    -> run the program -> a reply signed with the server's key, :re the request's nonce

A request asking more than its record allows (a capability it was not
granted, more steps) is refused, not narrowed: the sender learns what it may
ask. A program that runs out of its grant gets a `:budget` reply. Nothing a
peer sends makes `answer` raise: every failure is a reply.

Replies (the contract with world/peer/client.py): success `{:value V :steps N}`
(with `:output "..."` when the program wrote some), failure `{:error "one
line" :kind :refused|:error|:budget :steps N}`; a reply to a verified request
is also addressed to its sender (`:to`).

A `Program` other than the default (an agent's, say) gets the form and the
Grant, fills `grant.usage` (steps, output), and holds `endpoint.lock` while
it uses the world. Lisp evaluation happens on the runtime's one evaluation
thread, so programs from all peers run one after another, each under its
own time limit; a server must not be asked by an evaluation of its own
process, which would wait for itself.

The world is touched under one lock (one ZODB connection, used by the
threads of a server's pool in turn) in two short transactions per program:
admitting it (its nonce is stored before it runs, so a restarted server still
refuses a replay) and recording its outcome. The program itself runs outside
the lock. Refusals are counted; they are logged one by one only up to
REFUSALS_LOGGED a minute per trusted key, and as many for all other senders
together, so a flood of garbage cannot grow the world without bound.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any, Callable

from .. import keys
from ..lisp import budget
from ..lisp.budget import Limits, Meter
from ..lisp.env import Environment
from ..lisp.errors import BudgetExceeded, LispError, MessageError
from ..lisp.printer import write
from ..lisp.runtime import on_big_stack, run
from ..lisp.types import VOID, Keyword, LispMap
from . import message
from .message import MAX_FRAME, Header
from .store import (OUTPUT_CHARS, Exchange, PeerStore, TrustRecord, abridged, find, micros,
                    peer_store)

REPLY_VALUE = MAX_FRAME // 4    # characters of a value's text in a reply (escaped, it may double)
REFUSALS_LOGGED = 10            # refusals logged one by one a minute, per key and for the unknown
FLUSH_SECONDS = 5.0             # counts and nonces not yet stored are stored at least this often
MINUTE = 60.0
LINE = 300                      # characters of an error line in a reply
UNKNOWN = ""                    # the pool of senders with no trusted, verified key
UNMETERED = Limits(steps=1 << 62, memory=1 << 62, seconds=1e9, output=1 << 62)

log = logging.getLogger("world.peer")
_K = {k: Keyword(k) for k in ("value", "steps", "output", "error", "kind", "body", "nonce")}


@dataclass
class Usage:
    """What a program used, filled in by the program (steps; output it wrote)."""

    steps: int = 0
    output: str = ""


@dataclass(frozen=True)
class Grant:
    """What one admitted program may use: who sent it, capabilities and limits."""

    key: str
    name: str
    caps: frozenset[str]
    limits: Limits
    header: Header
    usage: Usage = field(default_factory=Usage, compare=False)


Program = Callable[[Any, Grant], Any]       # (form, grant) -> a value (data), or raises LispError


def sandboxed(form: Any, grant: Grant) -> Any:
    """The default program: `form` in a fresh environment granted `grant.caps`, under
    `grant.limits`; its steps and output go to `grant.usage`, even when it fails."""
    env = Environment(grant.caps, grant.limits)
    out: list[str] = []

    def work() -> Any:
        # An outer meter that never runs out: the program's meter settles into it as it
        # stops, so the steps are known even when the program fails.
        outer = Meter({"_n": 0}, UNMETERED)
        outer.start()
        try:
            return run(env, form, grant.limits, source="<message>", out=out).value
        finally:
            outer.stop()
            grant.usage.steps = outer.base
            grant.usage.output = "".join(out)
    return on_big_stack(work)


def one_line(text: str) -> str:
    """`text` as one line of at most LINE characters."""
    return abridged(" ".join(str(text).split()), LINE)


def _count(x: Any) -> int | None:
    return x if type(x) is int and 0 <= x <= message.MAX_INT else None


@dataclass
class _Admitted:
    grant: Grant
    seq: int


@dataclass
class _Refused:
    reason: str
    key: str                    # the pool whose allowance a logged refusal uses
    nonce_used: bool = False    # the nonce passed its checks: it is consumed


class Endpoint:
    """Answers signed programs from trusted peers with signed replies (see the module doc)."""

    def __init__(self, world: Any, signer: keys.Signer, *, program: Program | None = None) -> None:
        self.world = world
        self.signer = signer
        self.program: Program = program or sandboxed
        self.public = signer(b"")[0]
        self.lock = threading.RLock()       # hold it around any use of `world`
        self._running: Counter[str] = Counter()
        self._admitted: dict[str, deque[float]] = {}
        self._logged: dict[str, deque[float]] = {}
        self._pending: Counter[str] = Counter()       # outcomes counted, not stored yet
        self._unsaved: dict[str, set[int]] = {}       # nonces consumed, not stored yet
        self._flushed = time.monotonic()
        self._closed = False

    # ------------------------------------------------------------ replies
    def _reply(self, body: LispMap, re: int | None, to: str | None = None) -> str:
        return message.encode(message.sign(body, self.signer, re=re, to=to))

    def refuse(self, reason: str, re: int | None = None) -> str:
        """A signed `:refused` reply frame for a refusal the transport detects (a frame too
        large, a binary one): counted, as from an unknown sender."""
        self._refusal(_Refused(reason, UNKNOWN), "", _count(re), "")
        return self._refused(reason, re)

    def _refused(self, reason: str, re: int | None = None) -> str:
        return self._failure("refused", reason, 0, _count(re))

    def _failure(self, kind: str, reason: str, steps: int, re: int | None,
                 to: str | None = None) -> str:
        body = LispMap([(_K["error"], one_line(reason)), (_K["kind"], Keyword(kind)),
                        (_K["steps"], steps)])
        try:
            return self._reply(body, re, to)
        except Exception:      # a signer gone bad: still a frame, which the client cannot verify
            log.exception("peer endpoint: cannot sign a reply")
            return write(body)

    def _transact(self, work: Callable[[], None], note: str) -> None:
        """Run `work` in one transaction of the world (under the lock), on the evaluation
        thread, where the commit runs anyway: one hand-over instead of one per step."""
        on_big_stack(lambda: self.world._change(work, note))

    # ------------------------------------------------------------ answering
    def answer(self, frame: str | bytes) -> str:
        """The reply frame to a request frame; never raises for anything a peer sends."""
        try:
            return self._answer(frame, time.monotonic())
        except Exception as e:         # a fault of ours: the peer gets one line, the server lives
            log.exception("peer endpoint: internal error")
            return self._failure("error", f"internal error in the peer endpoint: "
                                          f"{type(e).__name__}", 0, None)

    def _answer(self, frame: str | bytes, started: float) -> str:
        if self._closed:
            return self._refused("the endpoint is closing")
        try:
            msg = message.decode(frame)
        except MessageError as e:
            self._refusal(_Refused(e.message, UNKNOWN), "", None, "")
            return self._refused(e.message)
        nonce = _count(msg.get(_K["nonce"]))
        body = msg.get(_K["body"])
        text = body if type(body) is str else ""
        try:
            form, header = message.verify(msg)
        except MessageError as e:
            # Logged under the key if its signature holds, but drawing on the allowance of
            # unknown senders: anyone can make keys, and sign garbage with each.
            self._refusal(_Refused(e.message, UNKNOWN), self._signed_key(msg) or "", nonce, text)
            return self._refused(e.message, nonce)
        try:
            with self.lock:
                decision = self._admit(header, text)
        except Exception as e:          # the world could not be read or written
            _trouble("cannot admit a message", e)
            return self._refused(f"the server cannot record the message: {_why(e)}", nonce)
        if isinstance(decision, _Refused):
            return self._refused(decision.reason, nonce)
        return self._run(form, decision, text, started)

    def _signed_key(self, msg: LispMap) -> str | None:
        """The key whose signature `msg` carries, if it holds (the body may still not read)."""
        try:
            fields = message.fields_of(msg)
            signed = message._signed_bytes(fields)
        except Exception:
            return None
        holds = keys.verify_signature(fields["key"], fields["sig"], signed)
        return fields["key"] if holds else None

    # ------------------------------------------------------------ admission
    def _admit(self, header: Header, text: str) -> _Admitted | _Refused:
        """Decide on a verified message (under the lock): admit it, storing its nonce and
        a log entry, or refuse it."""
        key, nonce = header.key, header.nonce
        now, mono = time.time(), time.monotonic()
        root = self.world.image.root
        self.world.image.begin()       # see what other sessions committed (trust changes)
        store = find(root)
        rec = store.record(key) if store is not None else None
        if rec is None:
            refused = _Refused(f"unknown key {key[:16]}...: this server does not trust it "
                               f"(the owner runs (peer/trust \"KEY\" ...))", UNKNOWN)
        elif header.to is not None and header.to != self.public:
            refused = _Refused("the message is meant for another peer (its :to is not this "
                               "server's key)", key)
        else:
            why = store.stale(key, nonce, now, self._unsaved.get(key, ()))
            refused = _Refused(why, key) if why else None
            if refused is None:
                why = (self._over_rate(key, rec, mono) or self._over_concurrency(key, rec)
                       or _beyond(header, rec))
                refused = _Refused(why, key, nonce_used=True) if why else None
        if refused is not None:
            self._refusal(refused, key, nonce, text, rec)
            return refused
        grant = Grant(key=key, name=rec.name, caps=frozenset(_asked_caps(header, rec)),
                      limits=rec.limits(header.steps), header=header)
        box: list[Exchange] = []

        def work() -> None:
            s = peer_store(self.world.image.root)
            box.clear()
            if s.stale(key, nonce, now) is not None:    # another process took it meanwhile
                return
            s.see(key, [nonce], now)
            box.append(s.append(Exchange(key, rec.name, nonce, text)))
            self._flush_into(s, now)
        self._transact(work, f"peer: admit a message from {rec.name}")
        if not box:
            return _Refused("replayed nonce: this message was already received", key)
        self._flushed_ok()
        self._admitted.setdefault(key, deque()).append(mono)
        self._running[key] += 1
        return _Admitted(grant, box[0].seq)

    def _over_rate(self, key: str, rec: TrustRecord, mono: float) -> str | None:
        times = self._admitted.get(key)
        if times is None:
            return None
        while times and times[0] < mono - MINUTE:
            times.popleft()
        if len(times) >= rec.per_minute:
            return f"rate limit: {rec.name} may send {rec.per_minute} messages a minute"
        return None

    def _over_concurrency(self, key: str, rec: TrustRecord) -> str | None:
        if self._running[key] >= rec.concurrent:
            return (f"concurrency limit: {rec.name} may run {rec.concurrent} program"
                    f"{'s' if rec.concurrent != 1 else ''} at once")
        return None

    # ------------------------------------------------------------ refusals, counts
    def _refusal(self, r: _Refused, key: str, nonce: int | None, text: str,
                 rec: TrustRecord | None = None) -> None:
        """Count a refusal; log it if its pool's allowance has room, else store the counts
        now and then. Never raises: a refusal is answered even if the world cannot record it."""
        outcome = "refused" if rec is not None else "unknown"
        with self.lock:
            self._pending[outcome] += 1
            if r.nonce_used and nonce is not None:
                self._unsaved.setdefault(key, set()).add(nonce)
            logged = self._allowance(r.key)
            if not logged and time.monotonic() - self._flushed < FLUSH_SECONDS:
                return
            now = time.time()

            def work() -> None:
                s = peer_store(self.world.image.root)
                if logged:
                    s.append(Exchange(key, rec.name if rec else "", nonce, text, "refused",
                                      r.reason))
                self._flush_into(s, now)
            try:
                self._transact(work, "peer: a refused message")
                self._flushed_ok()
            except Exception as e:
                self._flushed = time.monotonic()    # try again in a while, not per frame
                _trouble("cannot record a refusal", e)

    def _allowance(self, pool: str) -> bool:
        """Whether one more refusal of `pool` may be logged this minute."""
        mono = time.monotonic()
        times = self._logged.setdefault(pool, deque())
        while times and times[0] < mono - MINUTE:
            times.popleft()
        if len(times) >= REFUSALS_LOGGED:
            return False
        times.append(mono)
        return True

    def _flush_into(self, store: PeerStore, now: float) -> None:
        """Store the pending counts and nonces (inside a transaction; cleared once it commits)."""
        for outcome, n in self._pending.items():
            if n:
                store.count(outcome, n)
        cutoff = micros(now - message.WINDOW)
        for key, nonces in self._unsaved.items():
            keep = [n for n in nonces if n >= cutoff]
            if keep:
                store.see(key, keep, now)

    def _flushed_ok(self) -> None:
        self._pending.clear()
        self._unsaved.clear()
        self._flushed = time.monotonic()

    # ------------------------------------------------------------ running
    def _run(self, form: Any, admitted: _Admitted, text: str, started: float) -> str:
        grant = admitted.grant
        re, to = grant.header.nonce, grant.key
        value_text = None
        try:
            value = self.program(form, grant)
            value_text = self._render(value, grant, started)
            outcome, reason = "ok", ""
        except BudgetExceeded as e:
            outcome, reason = "budget", one_line(str(e))
        except LispError as e:
            outcome, reason = "error", one_line(str(e))
        except Exception as e:     # a fault of the program's host code, not of the peer
            log.exception("peer endpoint: a program failed")
            outcome, reason = "error", f"internal error running the program: {type(e).__name__}"
        finally:
            with self.lock:
                self._running[grant.key] -= 1
                if self._running[grant.key] <= 0:
                    del self._running[grant.key]
        steps = grant.usage.steps
        self._finish(admitted.seq, outcome, reason, steps, time.monotonic() - started)
        output = abridged(grant.usage.output, OUTPUT_CHARS)
        if outcome != "ok":
            reply = LispMap([(_K["error"], reason), (_K["kind"], Keyword(outcome)),
                             (_K["steps"], steps)]
                            + ([(_K["output"], output)] if output else []))
            try:
                return self._reply(reply, re, to)
            except MessageError:       # an output that cannot be sent: the line alone
                return self._failure(outcome, reason, steps, re, to)
        assert value_text is not None
        body = LispMap([(_K["value"], value), (_K["steps"], steps)]
                       + ([(_K["output"], output)] if output else []))
        try:
            return self._reply(body, re, to)
        except MessageError as e:       # cannot happen for a value that rendered; stay safe
            return self._failure("error", e.message, steps, re, to)

    def _render(self, value: Any, grant: Grant, started: float) -> str:
        """The value's canonical text, written under what is left of the grant and at most
        REPLY_VALUE characters; a LispError if it is not data or too long."""
        if value is VOID:
            raise MessageError("the program's value is unspecified (as display's is) and "
                               "cannot be sent: end the program with the value to send back")

        def work() -> str:
            with budget.remainder(grant.limits, grant.usage.steps, time.monotonic() - started,
                                  "writing the value") as meter:
                try:
                    text = write(value, REPLY_VALUE)
                    if len(text) > REPLY_VALUE:
                        raise MessageError(f"the value's text is longer than {REPLY_VALUE} "
                                           f"characters, the most a reply carries")
                    return message.canonical(value)
                finally:
                    meter.sync()
                    grant.usage.steps += meter.base
        return on_big_stack(work)

    def _finish(self, seq: int, outcome: str, reason: str, steps: int, elapsed: float) -> None:
        """Record how an admitted exchange ended (a failure to record is logged, not raised)."""
        now = time.time()
        with self.lock:
            self._pending[outcome] += 1

            def work() -> None:
                s = peer_store(self.world.image.root)
                ex = s.log.get(seq)
                if ex is not None:
                    ex.finish(outcome, reason, steps, elapsed)
                self._flush_into(s, now)
            try:
                self._transact(work, f"peer: {outcome}")
                self._flushed_ok()
            except Exception as e:
                _trouble("cannot record an outcome", e)

    def close(self) -> None:
        """Refuse further messages and store what is counted but not yet stored."""
        self._closed = True
        with self.lock:
            if not self._pending and not self._unsaved:
                return
            now = time.time()
            try:
                self._transact(lambda: self._flush_into(peer_store(self.world.image.root), now),
                                   "peer: counts")
                self._flushed_ok()
            except Exception as e:
                _trouble("cannot store the counts", e)


def _asked_caps(header: Header, rec: TrustRecord) -> tuple[str, ...]:
    return rec.caps if header.caps is None else header.caps


def _beyond(header: Header, rec: TrustRecord) -> str | None:
    """Why what `header` asks exceeds `rec`, or None."""
    if header.caps is not None:
        extra = sorted(set(header.caps) - set(rec.caps))
        if extra:
            return (f"asks for {' '.join(':' + c for c in extra)} beyond its grant "
                    f"[{' '.join(':' + c for c in rec.caps)}]")
    if header.steps is not None and header.steps > rec.steps:
        return f"asks for {header.steps} steps beyond its grant of {rec.steps}"
    return None


def _trouble(what: str, e: Exception) -> None:
    """Log a failure of the world under the endpoint: one line for an error the project
    names (a read-only or lost world), the traceback for anything else (a bug)."""
    if isinstance(e, LispError):
        log.warning("peer endpoint: %s: %s", what, one_line(str(e)))
    else:
        log.error("peer endpoint: %s", what, exc_info=e)


def _why(e: BaseException) -> str:
    return one_line(e.message if isinstance(e, LispError) else f"{type(e).__name__}: {e}")
