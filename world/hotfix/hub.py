"""The hot-fix hub: the development side of the channel (`world hub`).

A websockets server over TLS (world/objects/tls.py: the certificates of
`world tls-init DIR`; a client certificate, when one is presented, must be
signed by DIR's authority). Production connects and says hello, signed
(world/hotfix/protocol.py), with the token whose SHA-256 the development
world keeps (`(hotfix/token! ...)` or `world hub --token-file F`) or, without
a token, with a client certificate; anything else is refused with a close
frame and the connection ends. After the hub's welcome:

- an error-report is stored in the development world (world/hotfix/store.py)
  and acknowledged with a result carrying the report's number;
- every POLL seconds the hub looks at the world for an apply that
  `(hotfix/accept ID)` queued for this production image, in any session
  sharing the world, and sends it: the atomic commits from production's head
  to the fix's, hash-linked, and the checks recorded for their names;
- production's result for an apply is written back on the report.

A frame that does not verify, is replayed or reordered (`:seq`), is too large
or is not expected is refused with a result carrying the error, and changes
nothing: the channel stays as it was. A frame past MAX_SIZE bytes ends the
connection (websockets closes it); the server stays up either way, as it does
when a client dies mid-frame. A channel with no frame either way for `idle`
seconds is closed.

The world (a ZODB connection) is used from one worker thread only; the event
loop never waits on the database.
"""
from __future__ import annotations

import asyncio
import logging
import signal
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from ..lisp.errors import LispError, MessageError
from ..lisp.types import LispMap
from . import protocol as hp
from . import store as hs

MAX_SIZE = 4 * hp.MAX_FRAME + 8192      # bytes: a frame of MAX_FRAME characters of any UTF-8 fits
POLL = 0.2                              # seconds between looks at the world's outbox
OPEN_SECONDS = 10.0                     # for the TLS and WebSocket handshakes and the hello
MAX_CONNECTIONS = 16
MAX_IMAGE = 200                         # characters of a production image's uid
STOP_POLL = 0.1

log = logging.getLogger("world.hotfix")


class Hub:
    """The hub's work on the development world, each call one short transaction."""

    def __init__(self, world: Any, signer: Any, say: Callable[[str], Any] | None = None) -> None:
        self.w = world
        self.signer = signer
        self._say = say
        self.public = signer(b"")[0]
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="world-hub")   # the world's one thread
        self.wanted: set[str] = set()       # images with requests waiting, as last polled

    def say(self, line: str) -> None:
        """Tell the operator what happened, one line."""
        if self._say is not None:
            try:
                self._say(f"[hub] {line}")
            except Exception:
                pass            # the operator's terminal went away: the hub goes on

    async def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run `fn(*args)` on the world's thread."""
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)

    def _change(self, work: Callable[[hs.HotfixStore], Any], note: str) -> Any:
        return self.w._transact(lambda out: work(hs.ensure(self.w.image.root)), note)

    def _read(self, work: Callable[[hs.HotfixStore | None], Any]) -> Any:
        image = self.w.image
        image.begin()                       # see what other sessions committed
        try:
            return work(hs.store_of(image.root))
        finally:
            image.abort()

    # ------------------------------------------------------------ start and stop
    def start(self, token: str | None) -> None:
        """Make the store; keep `token`'s hash if given; forget channels a dead hub left open."""
        def work(st: hs.HotfixStore) -> None:
            if token is not None:
                st.set_token(token)
            for image in list(st.channels.keys()):
                del st.channels[image]
        self._change(work, "hotfix: hub starts")

    # ------------------------------------------------------------ channel events
    def hello(self, token: Any, has_cert: bool, image: str, head: str, key: str,
              channel: str) -> str | None:
        """Why a hello is refused, or None: `channel` (to `image`) is open."""
        if len(image) > MAX_IMAGE or not image.strip():
            return f"refused: :image must be 1 to {MAX_IMAGE} characters"
        if token is not None:
            if not self._read(lambda st: st is not None and st.token_ok(token)):
                return "refused: wrong token"
        elif not has_cert:
            return "refused: no token and no client certificate"
        def work(st: hs.HotfixStore) -> None:
            st.seen(image, head, key)
            st.channels[channel] = time.time()
            settle_unanswered(st, image, head)
        self._change(work, f"hotfix: production {image[:12]} connects")
        return None

    def closed(self, channel: str) -> None:
        """`channel` closed."""
        def work(st: hs.HotfixStore) -> None:
            st.channels.pop(channel, None)
        try:
            self._change(work, "hotfix: production disconnects")
        except Exception as e:          # a lost server: the next start forgets it
            self.say(f"cannot record a closed channel: {hp.one_line(e)}")

    def report(self, f: hp.Frame, image: str) -> int:
        """Store an error report; return its number."""
        defs = tuple((d.get("name"), d.get("source"), d.get("state"), d.get("commit"))
                     for d in (_fields(m) for m in f.get("definitions")))
        def work(st: hs.HotfixStore) -> int:
            r, _ = st.add_report(f.get("id"), f.get("message"), tuple(f.get("backtrace")), defs,
                                 f.get("head"), image, f.key)
            return r.number
        return self._change(work, f"hotfix: report from production {image[:12]}")

    def waiting(self) -> set[str]:
        """The production images some request waits for (one cheap read of the index)."""
        return self._read(lambda st: set() if st is None else st.waiting_images())

    def claim(self, image: str) -> tuple[str, int, dict[str, Any]] | None:
        """The next queued request for `image`, marked sent, as (frame type, id, fields); None
        if none waits. An apply that cannot be built is marked failed on its report."""
        if not self._read(lambda st: st is not None and bool(st.queued(image))):
            return None
        from ..history.record import history_of
        from ..lisp.reader import read

        def work(st: hs.HotfixStore) -> tuple[str, int, dict[str, Any]] | None:
            waiting = st.queued(image)
            if not waiting:
                return None
            a = waiting[0]
            st.set_status(a, "sent")
            if type(a) is hs.Inspection:
                return "inspect", a.number, {"id": a.number, "form": read(a.form)}
            r = st.reports.get(a.report)
            base = st.head_of(image) or (r.head if r is not None else hp.GENESIS)
            hist = history_of(self.w)
            try:
                if hist is None:
                    raise ValueError("the development world keeps no history")
                commits = hs.commits_between(hist, base, a.target)
            except ValueError as e:
                st.set_status(a, "failed")
                a.result = str(e)
                if r is not None:
                    r.mark("failed", str(e))
                return None
            names = sorted({c.symbol for c in commits})
            checks = tuple(LispMap([(hp.K("name"), n), (hp.K("source"), s)])
                           for n, s in hs.checks_for(self.w.image.root, names))
            a.sent = time.time()
            if r is not None:
                r.mark("sent", f"apply {a.number} sent: {len(commits)} commits from "
                               f"{base[:12]} to {a.target[:12]}")
            return "apply", a.number, {"id": a.number, "base": base,
                              "commits": tuple(hp.commit_map(c) for c in commits),
                              "checks": checks}
        return self._change(work, f"hotfix: send a request to production {image[:12]}")

    def unsent(self, number: int, why: str) -> None:
        """A request marked sent could not be sent: queue it again."""
        def work(st: hs.HotfixStore) -> None:
            a = st.outbox.get(number)
            if a is not None and a.status == "sent":
                st.set_status(a, "queued")
                if type(a) is hs.Apply:
                    a.result = why
                    r = st.reports.get(a.report)
                    if r is not None:
                        r.mark("accepted", f"apply {number} queued again: {why}")
        self._change(work, "hotfix: request not sent")

    def failed(self, number: int, why: str) -> None:
        """A request that cannot be sent at all (too large for a frame): say so."""
        def work(st: hs.HotfixStore) -> None:
            a = st.outbox.get(number)
            if type(a) is hs.Inspection:
                a.status, a.error = "failed", why
            elif a is not None:
                a.status, a.result = "failed", why
                r = st.reports.get(a.report)
                if r is not None:
                    r.mark("failed", f"apply {number} cannot be sent: {why}")
        self._change(work, "hotfix: request cannot be sent")

    def result(self, image: str, re_id: Any, value: Any, error: str | None) -> bool:
        """Record production's result for request `re_id`; False if no such request was sent."""
        from ..lisp.printer import write

        def work(st: hs.HotfixStore) -> bool:
            a = st.outbox.get(re_id) if type(re_id) is int else None
            if a is None or a.image != image or a.status != "sent":
                return False
            r = st.reports.get(a.report)
            a.done = time.time()
            if type(a) is hs.Inspection:
                if error is not None:
                    a.status, a.error = "failed", hs.abridged(error, hs.RESULT_TEXT)
                else:
                    a.status, a.value = "answered", hs.abridged(write(value), hs.TEXT)
                return True
            if error is not None:
                a.status, a.result = "failed", hs.abridged(error, hs.RESULT_TEXT)
                if r is not None:
                    r.mark("failed", f"production refused apply {a.number}: {error}")
            else:
                shown = write(value, 300)
                a.status, a.result = "applied", shown
                head = value.get(hp.K("head")) if type(value) is LispMap else value
                if type(head) is not str or not hp.HEX.fullmatch(head):
                    head = a.target             # production's summary names its new head
                st.seen(image, head, st.images.get(image, ("", "", 0))[1])
                if r is not None:
                    r.mark("applied", f"production applied apply {a.number}: {shown}")
            return True
        return self._change(work, f"hotfix: result from production {image[:12]}")

    def close(self) -> None:
        """Let the world's thread finish."""
        self.pool.shutdown(wait=True)


def settle_unanswered(st: hs.HotfixStore, image: str, head: str) -> None:
    """Applies sent to `image` that a lost channel never answered: production now running the
    fix's head says it was applied; any other head, that it was not."""
    for a in st.outbox.values():
        if a.image != image or a.status != "sent":
            continue
        if type(a) is hs.Inspection:
            a.status, a.error = "failed", "the channel closed before production answered"
            continue
        r = st.reports.get(a.report)
        a.done = time.time()
        if head == a.target:
            a.status, a.result = "applied", "production runs the fix's head"
            if r is not None:
                r.mark("applied", f"apply {a.number}: production runs its head {head[:12]}")
        else:
            a.status = "failed"
            a.result = (f"the channel closed before production answered, and production runs "
                        f"{head[:12]}, not the fix's head")
            if r is not None:
                r.mark("failed", f"apply {a.number}: {a.result}: (hotfix/accept {r.number}) "
                                 f"sends it again")


def _fields(m: LispMap) -> dict[str, Any]:
    return {k.name: v for k, v in m.items()}


# ---------------------------------------------------------------- the server

def serve(hub: Hub, host: str, port: int, tls_dir: str, *, idle: float = hp.IDLE_SECONDS,
          ready: Callable[[str], None] | None = None, stop: threading.Event | None = None) -> None:
    """Serve the hub on host:port (port 0: any free one) over TLS until SIGINT or SIGTERM (or
    `stop` is set); `ready` gets the address, such as wss://127.0.0.1:8300, once listening."""
    from ..objects.tls import server_context
    ctx = server_context(tls_dir)               # ImageError: one line
    ctx.verify_mode = ssl.CERT_OPTIONAL         # a token, or a certificate DIR's authority signed
    asyncio.run(_serve(hub, host, port, ctx, idle, ready, stop))


async def _serve(hub: Hub, host: str, port: int, ctx: ssl.SSLContext, idle: float,
                 ready: Callable[[str], None] | None, stop: threading.Event | None) -> None:
    from http import HTTPStatus

    from websockets.asyncio.server import serve as ws_serve

    from ..objects.errors import ImageError
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    count = 0

    def process_request(connection: Any, request: Any) -> Any:
        if count >= MAX_CONNECTIONS:
            return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "too many connections\n")
        return None

    async def handle(conn: Any) -> None:
        nonlocal count
        count += 1
        try:
            await Channel(hub, conn, idle).run()
        except LispError as e:          # the development world is unreachable, for one
            hub.say(f"channel ended: {hp.one_line(e)}")
            await conn.close(1011, hp.one_line(e, 120))
        except Exception:
            log.exception("a hot-fix channel failed")
            await conn.close(1011, "internal error in the hub")
        finally:
            count -= 1

    signals = []
    if threading.current_thread() is threading.main_thread():
        for s in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(s, stopping.set)
            signals.append(s)
    try:
        try:
            server = await ws_serve(handle, host, port, ssl=ctx, process_request=process_request,
                                    compression=None, max_size=MAX_SIZE, max_queue=4,
                                    open_timeout=OPEN_SECONDS, ping_interval=20, ping_timeout=20,
                                    close_timeout=2.0, logger=log)
        except OSError as e:
            raise ImageError(f"cannot listen on {host}:{port} ({e.strerror or e}): choose "
                             f"another address with --listen") from None
        async with server:
            poller = asyncio.create_task(_poll(hub))
            bound = server.sockets[0].getsockname()
            where = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
            if ready is not None:
                ready(f"wss://{where}:{bound[1]}")
            while not stopping.is_set() and not (stop is not None and stop.is_set()):
                try:
                    await asyncio.wait_for(stopping.wait(), STOP_POLL)
                except TimeoutError:
                    pass
            poller.cancel()
            server.close()
            await server.wait_closed()
    finally:
        for s in signals:
            loop.remove_signal_handler(s)


async def _poll(hub: Hub) -> None:
    """Every POLL seconds, note which production images have requests waiting: one read of the
    world for all channels, however many are open."""
    while True:
        try:
            hub.wanted = await hub.call(hub.waiting)
        except LispError as e:          # the world is unreachable for now: say so, go on
            hub.say(f"cannot read the world: {hp.one_line(e)}")
            await asyncio.sleep(5 * POLL)
        await asyncio.sleep(POLL)


class Channel:
    """One production connection: hello, then reports, applies and results until it closes."""

    def __init__(self, hub: Hub, conn: Any, idle: float) -> None:
        self.hub, self.conn, self.idle = hub, conn, idle
        self.inbound = hp.Inbound()
        self.outbound = hp.Outbound(hub.signer)
        self.image: str | None = None
        self.key: str | None = None             # in the store's `channels` while open

    async def run(self) -> None:
        """Converse until the connection ends."""
        from websockets.exceptions import ConnectionClosed
        try:
            if await self._hello():
                await self._converse()
        except ConnectionClosed:
            pass                                # production went away, even mid-frame: fine
        finally:
            if self.key is not None:
                await self.hub.call(self.hub.closed, self.key)

    async def _refuse_and_close(self, reason: str, code: int = 1008) -> None:
        """Send a close frame saying why, then end the connection (1008: policy violation)."""
        try:
            await self._send("close", reason=reason)
        except Exception:
            pass                        # it is going anyway
        await self.conn.close(code, reason[:120])

    async def _hello(self) -> bool:
        try:
            data = await asyncio.wait_for(self.conn.recv(), OPEN_SECONDS)
        except TimeoutError:
            await self._refuse_and_close("refused: no hello")
            return False
        try:
            if not isinstance(data, str):
                raise MessageError("a frame is text, not binary")
            f = self.inbound.accept(data)
            if f.type != "hello":
                raise MessageError(f"the first frame must be a hello, not :{f.type}")
            if f.get("protocol", hp.PROTOCOL) != hp.PROTOCOL:
                raise MessageError(f"this hub speaks {hp.PROTOCOL}, not {f.get('protocol')}")
        except MessageError as e:
            await self._refuse_and_close(f"refused: {hp.one_line(e)}")
            return False
        ssl_object = self.conn.transport.get_extra_info("ssl_object")
        has_cert = bool(ssl_object is not None and ssl_object.getpeercert())
        key = hs.channel_key(f.get("image"))
        why = await self.hub.call(self.hub.hello, f.get("token"), has_cert, f.get("image"),
                                  f.get("head"), f.key, key)
        if why is None:
            self.key = key
        else:
            self.hub.say(f"{why} (production {str(f.get('image'))[:16]})")
            await self._refuse_and_close(why)
            return False
        self.image = f.get("image")
        await self._send("welcome", hub=self.hub.public)
        self.hub.say(f"channel open: production {self.image[:16]} at {f.get('head')[:12]}")
        return True

    async def _converse(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            if loop.time() - last > self.idle:
                await self._refuse_and_close(f"idle for {self.idle:g} s", 1000)
                return
            try:
                data = await asyncio.wait_for(self.conn.recv(), POLL)
            except TimeoutError:
                if await self._send_request():
                    last = loop.time()
                continue
            last = loop.time()
            if not await self._frame(data):
                return

    async def _frame(self, data: Any) -> bool:
        """Handle one frame after the hello; False when the channel ends."""
        try:
            if not isinstance(data, str):
                raise MessageError("a frame is text, not binary")
            f = self.inbound.accept(data)       # unchanged when it refuses: the channel goes on
        except MessageError as e:
            self.hub.say(f"refused a frame from production {self.image[:16]}: {hp.one_line(e)}")
            await self._send("result", re_id=0, error=hp.one_line(e))
            return True
        if f.type == "error-report":
            number = await self.hub.call(self.hub.report, f, self.image)
            self.hub.say(f"report {number} from production {self.image[:16]}: "
                         f"{hs.abridged(f.get('message'), 120)}")
            await self._send("result", re_id=f.get("id"), value=number)
        elif f.type == "result":
            known = await self.hub.call(self.hub.result, self.image, f.get("re-id"),
                                        f.get("value"), f.get("error"))
            if known:
                self.hub.say(f"request {f.get('re-id')}: " + (
                    f"refused by production: {f.get('error')}" if f.get("error") is not None
                    else "answered by production"))
            elif f.get("error") is not None:
                self.hub.say(f"production refused a frame: {f.get('error')}")
        elif f.type == "close":
            await self.conn.close(1000, "closed by production")
            return False
        else:
            await self._send("result", re_id=0,
                             error=f"refused: production does not send :{f.type}")
        return True

    async def _send(self, kind: str, **fields: Any) -> None:
        # The seq moves only once the frame is made: one that cannot be (too large) must not
        # leave a gap production would refuse every later frame for.
        text = hp.frame(self.hub.signer, kind, self.outbound.seq + 1, **fields)
        self.outbound.seq += 1
        await self.conn.send(text)

    async def _send_request(self) -> bool:
        """Send the next request (apply or inspect) queued for this production image, if any."""
        if self.image not in self.hub.wanted:
            return False
        claimed = await self.hub.call(self.hub.claim, self.image)
        if claimed is None:
            return False
        kind, number, fields = claimed
        try:
            await self._send(kind, **fields)
            self.hub.say(f"apply {number} sent: {len(fields['commits'])} commits"
                         if kind == "apply" else f"inspect {number} sent")
        except MessageError as e:       # too large for one frame: say so on the report
            self.hub.say(f"apply {number} cannot be sent: {hp.one_line(e)}")
            await self.hub.call(self.hub.failed, number, hp.one_line(e))
            return False
        except BaseException:
            await self.hub.call(self.hub.unsent, number, "the channel closed before it was sent")
            raise
        return True


__all__ = ["Channel", "Hub", "MAX_SIZE", "POLL", "serve"]
