"""The peer endpoint over WebSockets: `serve(endpoint, host, port)`.

Each text frame a client sends is one request: the frame's text goes to
`Endpoint.answer`, run in a thread pool so that a long Lisp program never
blocks the event loop (refusals, pings and other clients keep flowing), and
the reply frame goes back on the same connection. Requests on
one connection are answered one at a time, in the order they came; a client
wanting several programs at once opens several connections.

What the transport itself refuses, with a signed `:refused` frame from
`Endpoint.refuse` (the connection stays open): a binary frame, and a text
frame longer than a message may be (`message.MAX_FRAME` and room for its
header). A frame past `MAX_SIZE` bytes, or a text frame that is not UTF-8,
is a protocol error that websockets answers by closing that connection
(1009, 1007); the server stays up either way. Connections are limited in
number (`MAX_CONNECTIONS`: one more gets HTTP 503), in idle time
(`IDLE_SECONDS` without a request) and by keepalive pings; an opening
handshake (TLS included) must finish within `OPEN_SECONDS`.

With `tls_dir`, the server speaks TLS with the certificates of `world
tls-init DIR` (world/objects/tls.py) and accepts only clients whose
certificate that directory's CA signed. SIGINT and SIGTERM stop it: no new
connection is accepted, idle ones are closed (1001), a request being answered
gets its reply first, and `serve` returns once all are closed (so the caller
can close its world).
"""
from __future__ import annotations

import asyncio
import logging
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Callable

from .message import MAX_FRAME

if TYPE_CHECKING:
    from .endpoint import Endpoint

MAX_SIZE = 4 * MAX_FRAME + 8192     # bytes: a frame of MAX_FRAME characters of any UTF-8 fits
MAX_TEXT = MAX_FRAME + 1024         # characters: a body at the limit with its header (message.decode)
MAX_CONNECTIONS = 64
IDLE_SECONDS = 300.0
OPEN_SECONDS = 10.0
PING_SECONDS = 20.0
STOP_POLL = 0.1

log = logging.getLogger("world.peer")


def serve(endpoint: "Endpoint", host: str, port: int, *, tls_dir: str | None = None,
          ready: Callable[[str], None] | None = None, stop: threading.Event | None = None,
          max_connections: int = MAX_CONNECTIONS, idle: float = IDLE_SECONDS) -> None:
    """Serve `endpoint` on host:port (port 0: any free one) until SIGINT or SIGTERM (or
    `stop` is set); `ready` gets the address, such as ws://127.0.0.1:8200, once listening."""
    from ..objects.tls import server_context
    ctx = server_context(tls_dir) if tls_dir is not None else None     # ImageError: one line
    asyncio.run(_serve(endpoint, host, port, ctx, ready, stop, max_connections, idle))


async def _serve(endpoint: "Endpoint", host: str, port: int, ctx: Any,
                 ready: Callable[[str], None] | None, stop: threading.Event | None,
                 max_connections: int, idle: float) -> None:
    from websockets.asyncio.server import serve as ws_serve
    from ..objects.errors import ImageError
    loop = asyncio.get_running_loop()
    talks = _Conversations(endpoint, max_connections, idle)
    signals = _install_signals(loop, talks.stopping)
    try:
        try:
            server = await ws_serve(talks.handle, host, port, ssl=ctx,
                                    process_request=talks.admit, compression=None,
                                    max_size=MAX_SIZE, max_queue=2, open_timeout=OPEN_SECONDS,
                                    ping_interval=PING_SECONDS, ping_timeout=PING_SECONDS,
                                    close_timeout=5.0, logger=log)
        except OSError as e:
            raise ImageError(f"cannot listen on {host}:{port} ({e.strerror or e}): choose "
                             f"another address with --address") from None
        bound = server.sockets[0].getsockname()
        where = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
        if ready is not None:
            ready(f"{'wss' if ctx is not None else 'ws'}://{where}:{bound[1]}")
        while not talks.stopping.is_set():
            if stop is not None and stop.is_set():
                talks.stopping.set()
                break
            try:
                await asyncio.wait_for(talks.stopping.wait(), STOP_POLL if stop is not None else None)
            except TimeoutError:
                pass
        server.close(close_connections=False)       # no new connections...
        await talks.wind_down()                     # ...idle ones closed, busy ones answered
        await server.wait_closed()
    finally:
        _restore_signals(loop, signals)
        await loop.run_in_executor(None, talks.pool.shutdown)


class _Conversations:
    """The open connections, each answered one request at a time."""

    def __init__(self, endpoint: "Endpoint", max_connections: int, idle: float) -> None:
        self.endpoint = endpoint
        self.max_connections = max_connections
        self.idle = idle
        self.stopping = asyncio.Event()
        self.open: set[Any] = set()
        self.busy: set[Any] = set()         # connections whose request is being answered
        # One worker per connection: each has at most one request in flight, so no request
        # (a refusal least of all) waits for a worker while programs run; the programs
        # themselves take turns on the one evaluation thread (world/lisp/runtime.py).
        self.pool = ThreadPoolExecutor(max_connections, thread_name_prefix="world-peer")

    def admit(self, connection: Any, request: Any) -> Any:
        """Refuse a connection past the limit, or while stopping, before its handshake ends."""
        if self.stopping.is_set():
            return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "the server is stopping\n")
        if len(self.open) >= self.max_connections:
            return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE,
                                      f"too many connections (at most {self.max_connections})\n")
        return None

    async def handle(self, conn: Any) -> None:
        """Answer one connection's requests in order until it closes, idles out or the
        server stops (after answering the request in hand)."""
        from websockets.exceptions import ConnectionClosed
        loop = asyncio.get_running_loop()
        self.open.add(conn)
        try:
            while not self.stopping.is_set():
                try:
                    data = await asyncio.wait_for(conn.recv(), self.idle)
                except TimeoutError:
                    await conn.close(1000, f"idle for {self.idle:g} s")
                    return
                self.busy.add(conn)
                try:
                    reply = await loop.run_in_executor(self.pool, answer_frame, self.endpoint, data)
                    if reply is None:
                        await conn.close(1011, "the endpoint failed")
                        return
                    await conn.send(reply)
                finally:
                    self.busy.discard(conn)
            await conn.close(1001, "the server is stopping")
        except ConnectionClosed:
            return                          # the client went away, even mid-request: fine
        finally:
            self.open.discard(conn)

    async def wind_down(self) -> None:
        """Close the connections waiting for a request; the busy ones close themselves
        once their reply is sent (the programs running are let finish)."""
        await asyncio.gather(*(c.close(1001, "the server is stopping")
                               for c in list(self.open) if c not in self.busy),
                             return_exceptions=True)


def _install_signals(loop: asyncio.AbstractEventLoop,
                     stopping: asyncio.Event) -> list[tuple[int, Any]]:
    """SIGINT and SIGTERM set `stopping` (only the main thread can take signals); the
    handlers they had, to put back when serving ends."""
    if threading.current_thread() is not threading.main_thread():
        return []
    saved = []
    for s in (signal.SIGINT, signal.SIGTERM):
        saved.append((s, signal.getsignal(s)))
        loop.add_signal_handler(s, stopping.set)
    return saved


def _restore_signals(loop: asyncio.AbstractEventLoop, saved: list[tuple[int, Any]]) -> None:
    for s, old in saved:
        loop.remove_signal_handler(s)
        if old is not None:
            signal.signal(s, old)


def answer_frame(endpoint: "Endpoint", data: str | bytes) -> str | None:
    """The reply to one frame: the endpoint's, or a refusal the transport makes itself;
    None only if the endpoint broke its promise never to raise and cannot even refuse."""
    try:
        if not isinstance(data, str):
            return endpoint.refuse("a binary frame: a message is sent as a text frame of "
                                   "UTF-8 (the canonical text of a message map)")
        if len(data) > MAX_TEXT:
            return endpoint.refuse(f"the frame is {len(data)} characters; the most a "
                                   f"message may be is {MAX_FRAME} and its header")
        return endpoint.answer(data)
    except Exception:
        log.exception("the peer endpoint failed on a frame")
        try:
            return endpoint.refuse("internal error in the peer endpoint")
        except Exception:
            log.exception("the peer endpoint cannot refuse")
            return None


__all__ = ["IDLE_SECONDS", "MAX_CONNECTIONS", "MAX_SIZE", "answer_frame", "serve"]
